"""``.phxguard.toml``: which rules run, how severe they are, what is excluded.

Errors name the file, the line and the key, so a user can fix them without
guessing; callers decide whether to stop (the CLI) or carry on with defaults
(the server).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from analyzers.budget import DEFAULT_MAX_FILE_BYTES, DEFAULT_TIME_BUDGET_MS
from analyzers.model import Severity

CONFIG_FILENAME = ".phxguard.toml"
DEFAULT_PG_VERSION = 14
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "deps/**",
    "_build/**",
    "node_modules/**",
    ".elixir_ls/**",
    ".expert/**",
    "cover/**",
    "assets/node_modules/**",
)
# Every key .phxguard.toml may set (editor settings name the same ones in camelCase).
CONFIG_KEYS = (
    "select",
    "ignore",
    "severity",
    "pg_version",
    "exclude",
    "max_file_bytes",
    "time_budget_ms",
)
_CODE_OR_PREFIX = re.compile(r"^[A-Z]{2}(\d{1,3})?$")


class ConfigError(ValueError):
    """A configuration problem, located as precisely as we can."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.detail = message
        where = path or "configuration"
        if line is not None:
            where += f":{line}"
        prefix = f"{where}: " + (f"`{key}`: " if key else "")
        super().__init__(prefix + message)


@dataclass(frozen=True)
class Config:
    """Effective settings for analysis (defaults when no file is present)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    pg_version: int = DEFAULT_PG_VERSION
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    time_budget_ms: int = DEFAULT_TIME_BUDGET_MS
    source: str | None = None

    def enabled(self, code: str) -> bool:
        """Whether rule ``code`` runs: selected (all by default) and not ignored.

        The most specific entry wins, so ``select = ["MG"]`` with
        ``ignore = ["MG008"]`` runs every MG rule but MG008, and
        ``ignore = ["MG"]`` with ``select = ["MG001"]`` runs only MG001 of MG.
        """
        sel = _best_match(code, self.select) if self.select else 0
        ign = _best_match(code, self.ignore)
        if self.select and sel < 0:
            return False
        return not (ign >= 0 and ign >= sel)

    def severity_for(self, code: str, default: Severity) -> Severity:
        """The configured severity of ``code`` (exact code, then family prefix), else ``default``."""
        return self.severity.get(code) or self.severity.get(code[:2]) or default

    def with_overrides(
        self, *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None
    ) -> Config:
        """A copy with command-line ``--select``/``--ignore`` replacing the file's lists."""
        result = self
        if select is not None:
            result = replace(result, select=tuple(select))
        if ignore is not None:
            result = replace(result, ignore=tuple(ignore))
        return result


def _best_match(code: str, patterns: Iterable[str]) -> int:
    """Length of the longest pattern matching ``code`` (prefix match), or -1."""
    best = -1
    for pattern in patterns:
        if pattern == "ALL" or code.startswith(pattern):
            best = max(best, 0 if pattern == "ALL" else len(pattern))
    return best


def parse_codes(
    values: Iterable[str], *, known: Iterable[str] | None = None, where: str = "codes"
) -> tuple[str, ...]:
    """Validate rule codes or family prefixes (``MG001``, ``MG``, ``ALL``)."""
    known_set = set(known) if known is not None else None
    out: list[str] = []
    for raw in values:
        code = raw.strip().upper()
        if not code:
            continue
        if code != "ALL" and not _CODE_OR_PREFIX.match(code):
            raise ValueError(f"{where}: {raw!r} is not a rule code or family (e.g. MG001 or MG)")
        if (
            known_set is not None
            and code != "ALL"
            and not any(k.startswith(code) for k in known_set)
        ):
            raise ValueError(f"{where}: no rule matches {raw!r}")
        out.append(code)
    return tuple(out)


def find_config(start: Path) -> Path | None:
    """The nearest ``.phxguard.toml`` in ``start`` or its parents."""
    start = start.resolve()
    for directory in [start, *start.parents] if start.is_dir() else list(start.parents):
        candidate = directory / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path, known_codes: Iterable[str] | None = None) -> Config:
    """Read and validate a config file; raise ConfigError pointing at the problem."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from None
    return parse_config(raw_bytes, str(path), known_codes)


def parse_config(raw_bytes: bytes, path: str, known_codes: Iterable[str] | None = None) -> Config:
    """Validate config text; ``path`` is only used in error messages."""
    try:
        raw_text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte {exc.start})", path=path) from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        line, msg = _toml_error_location(str(exc), raw_text)
        raise ConfigError(f"invalid TOML: {msg}", path=path, line=line) from None
    return config_from_mapping(data, path=path, text=raw_text, known_codes=known_codes)


def config_from_mapping(
    data: Mapping[str, Any], *, path: str, text: str = "", known_codes: Iterable[str] | None = None
) -> Config:
    """Validate already-parsed settings (from TOML or an editor's JSON)."""
    known = list(known_codes) if known_codes is not None else None

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, path=path, line=_line_of_key(text, key), key=key)

    for key in data:
        if key not in CONFIG_KEYS:
            expected = ", ".join(sorted(CONFIG_KEYS))
            raise fail(key, f"unknown setting (expected one of: {expected})")
    config = Config(source=path)
    for key in ("select", "ignore"):
        if key in data:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(key, 'expected a list of rule codes, e.g. ["MG001", "LV"]')
            try:
                codes = parse_codes(value, known=known, where=key)
            except ValueError as exc:
                raise fail(key, str(exc).split(": ", 1)[-1]) from None
            config = (
                replace(config, select=codes) if key == "select" else replace(config, ignore=codes)
            )
    if "severity" in data:
        table = data["severity"]
        if not isinstance(table, Mapping):
            raise fail("severity", 'expected a table, e.g. [severity] MG008 = "info"')
        severities: dict[str, Severity] = {}
        for code, level in table.items():
            try:
                (norm,) = parse_codes([code], known=known, where="severity")
                if not isinstance(level, str):
                    raise ValueError("expected error, warning or info")
                severities[norm] = Severity.parse(level)
            except ValueError as exc:
                raise fail(code, str(exc).split(": ", 1)[-1]) from None
        config = replace(config, severity=severities)
    if "pg_version" in data:
        version = data["pg_version"]
        if isinstance(version, bool) or not isinstance(version, int) or not 9 <= version <= 30:
            raise fail("pg_version", "expected a PostgreSQL major version number, e.g. 14")
        config = replace(config, pg_version=version)
    if "exclude" in data:
        value = data["exclude"]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail("exclude", 'expected a list of glob patterns, e.g. ["priv/legacy/**"]')
        config = replace(config, exclude=DEFAULT_EXCLUDE + tuple(value))
    for key, example in (("max_file_bytes", "2000000"), ("time_budget_ms", "3000")):
        if key in data:
            limit = data[key]
            if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
                raise fail(key, f"expected a positive whole number, e.g. {example}")
            config = (
                replace(config, max_file_bytes=limit)
                if key == "max_file_bytes"
                else replace(config, time_budget_ms=limit)
            )
    return config


def _toml_error_location(message: str, text: str) -> tuple[int | None, str]:
    """Line and bare message of a tomllib error (3.11 has the line only in the text)."""
    match = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if match:
        return int(match.group(1)), message[: match.start()]
    if message.endswith("(at end of document)"):
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        return max(lines, 1), message.removesuffix(" (at end of document)")
    return None, message


def _line_of_key(text: str, key: str) -> int | None:
    pattern = re.compile(
        rf"^[ \t]*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=", re.MULTILINE
    )
    match = pattern.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1
