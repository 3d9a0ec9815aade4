"""``phxguard check``: find the files, load config and project facts, analyse, report.

Nothing here raises at the user: configuration problems become
:class:`~analyzers.config.ConfigError` for ``main`` to print (exit 2), unreadable
files and failing rules become warnings on stderr.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from analyzers.config import Config, find_config, load_config, parse_codes
from analyzers.engine import AnalysisResult, analyze
from analyzers.facts import FactIndex, KeptTrees
from analyzers.model import Severity
from analyzers.project import ProjectFacts, find_project_root
from analyzers.registry import all_rules, known_codes
from analyzers.text import read_source_file
from server.cli.located import LocatedFinding, display_path, locate
from server.files import Discovery, discover, relative_to_root


class UsageError(Exception):
    """A command line that cannot be acted on (exit status 2)."""


@dataclass
class Workspace:
    """Where and how to analyse: project root, effective config, facts, files."""

    root: Path
    config: Config
    facts: ProjectFacts
    files: list[Path]
    cwd: Path = field(default_factory=Path.cwd)
    # Trees parsed while reading the facts, for the files' analysis (this process only).
    kept: KeptTrees | None = field(default=None, repr=False, compare=False)

    def analysis_path(self, path: Path) -> str:
        """The path rules see: relative to the project root when inside it.

        Rules look at directory names (``priv/repo/migrations``); directories
        above the project must not influence them.
        """
        rel = relative_to_root(path, self.root)
        return rel if rel is not None else os.path.abspath(path).replace(os.sep, "/")

    def resolve_edit_path(self, edit_path: str | None, origin: Path) -> Path:
        """The file an ``Edit.path`` names: absolute, or relative to the project root."""
        if edit_path is None:
            return origin
        candidate = Path(edit_path)
        return candidate if candidate.is_absolute() else self.root / candidate


@dataclass
class FileResult:
    """The bytes a file had when analysed and what the rules found in them."""

    path: Path
    source: bytes
    result: AnalysisResult


def parse_code_option(values: Sequence[str] | None, option: str) -> tuple[str, ...] | None:
    """``--select``/``--ignore`` values (repeatable, comma-separated), validated against the rules."""
    if values is None:
        return None
    raw = [part for value in values for part in value.split(",")]
    try:
        return parse_codes(raw, known=known_codes(), where=option)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def load_workspace(
    paths: Sequence[Path],
    *,
    config_file: Path | None,
    select: tuple[str, ...] | None,
    ignore: tuple[str, ...] | None,
    err: TextIO,
    jobs: int = 1,
) -> Workspace:
    """Resolve config (explicit or nearest), project facts and the files to analyse.

    ``jobs`` > 1 reads a large project's facts in that many processes.
    Raises ConfigError for a bad config file and UsageError for missing paths.
    """
    first = paths[0]
    if config_file is not None:
        if not config_file.is_file():
            raise UsageError(f"--config {config_file}: no such file")
        config = load_config(config_file, known_codes())
    else:
        found = find_config(first if first.exists() else Path.cwd())
        config = load_config(found, known_codes()) if found is not None else Config()
    config = config.with_overrides(select=select, ignore=ignore)
    start = first if first.exists() else Path.cwd()
    project_root = find_project_root(start)
    if project_root is not None:
        root = project_root
    elif config.source is not None and config_file is None:
        # No mix.exs: the directory of the nearest config file anchors the globs.
        root = Path(config.source).resolve().parent
    else:
        root = (start if start.is_dir() else start.parent).resolve()
    # Files first: the facts scan then keeps the trees of the files to analyse (one parse each).
    discovery = discover(paths, root=root, exclude=config.exclude)
    _report_discovery(discovery, err)
    kept = KeptTrees(discovery.files)
    facts = ProjectFacts()
    if project_root is not None:
        if jobs > 1:
            from server.cli.parallel import load_facts  # imports this module

            facts = load_facts(project_root, jobs, keep=kept)
        else:
            facts = FactIndex.scan(project_root, keep=kept).facts()
    return Workspace(root=root, config=config, facts=facts, files=discovery.files, kept=kept)


def _report_discovery(discovery: Discovery, err: TextIO) -> None:
    if discovery.missing:
        names = ", ".join(str(p) for p in discovery.missing)
        raise UsageError(f"no such file or directory: {names}")
    for problem in discovery.problems:
        print(f"phxguard: {problem}", file=err)


def read_source(path: Path, err: TextIO) -> bytes | None:
    """A file's bytes, or None (with a message on ``err``) when it cannot be read."""
    try:
        return read_source_file(path)
    except OSError as exc:
        print(f"phxguard: cannot read {path}: {exc.strerror or exc}; skipped", file=err)
        return None


def analyze_file(
    ws: Workspace, path: Path, err: TextIO, source: bytes | None = None
) -> FileResult | None:
    """Analyse one file (read from disk unless ``source`` is given); None if unreadable.

    Invalid UTF-8 and NUL bytes are analysed as they are: tree-sitter reads
    bytes and positions are computed on bytes.
    """
    if source is None:
        source = read_source(path, err)
        if source is None:
            return None
    tree = ws.kept.take(path, source) if ws.kept is not None else None
    result = analyze(source, ws.analysis_path(path), config=ws.config, facts=ws.facts, tree=tree)
    return FileResult(path, source, result)


def analyze_all(ws: Workspace, err: TextIO) -> dict[Path, FileResult]:
    """Every discovered file's result, keyed by path (unreadable files left out)."""
    results: dict[Path, FileResult] = {}
    for path in ws.files:
        file_result = analyze_file(ws, path, err)
        if file_result is not None:
            results[path] = file_result
    return results


def failure_message(code: str, path: Path, error: str) -> str:
    """How a rule that raised is reported: the rule, the file (as displayed), the error."""
    return f"phxguard: rule {code} failed on {display_path(path)}: {error}"


def report_failures(results: dict[Path, FileResult], err: TextIO) -> None:
    """One warning per rule that raised on a file; the other rules' findings still count."""
    for file_result in results.values():
        for failure in file_result.result.failures:
            print(
                f"phxguard: rule {failure.code} failed on {file_result.path}: {failure.error}",
                file=err,
            )


def located_findings(ws: Workspace, results: dict[Path, FileResult]) -> list[LocatedFinding]:
    """All findings placed for output, sorted by path, line, column, code."""
    metas = {rule.code: rule.meta for rule in all_rules()}
    cache: dict[Path, bytes] = {path: fr.source for path, fr in results.items()}

    def read_other(target: Path) -> bytes:
        if target not in cache:
            try:
                cache[target] = target.read_bytes()
            except OSError:
                # A fix may create the file: positions are then at its start.
                cache[target] = b""
        return cache[target]

    out: list[LocatedFinding] = []
    for path, file_result in results.items():
        resolve = functools.partial(_resolve_from, ws, path)
        for finding in file_result.result.findings:
            out.append(
                locate(
                    finding,
                    path=path,
                    source=file_result.source,
                    meta=metas.get(finding.code),
                    resolve_edit_path=resolve,
                    read_other=read_other,
                    cwd=ws.cwd,
                )
            )
    out.sort(key=LocatedFinding.sort_key)
    return out


def _resolve_from(ws: Workspace, origin: Path, edit_path: str | None) -> Path:
    return ws.resolve_edit_path(edit_path, origin)


def exit_status(findings: Sequence[LocatedFinding], fail_on: Severity) -> int:
    """1 when any finding is at least ``fail_on`` severe, else 0."""
    return 1 if any(f.severity >= fail_on for f in findings) else 0
