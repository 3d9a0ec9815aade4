"""Settings: ``.phxguard.toml``, then ``initializationOptions``, then ``workspace/configuration``.

Each layer overrides the one before it, key by key. Editor settings (section
``phxguard``: ``select``, ``ignore``, ``severity``, ``pgVersion``, ``exclude``,
``maxFileBytes``, ``timeBudgetMs``, ``debounceMs``, ``workspaceDiagnostics``) are structured with cattrs and validated by the same code as
the config file. A layer that fails validation is dropped and reported; the
server keeps running on the remaining layers (defaults at worst).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cattrs
from cattrs.gen import make_dict_structure_fn, override

from analyzers.config import (
    CONFIG_KEYS,
    Config,
    ConfigError,
    config_from_mapping,
    find_config,
    load_config,
)
from analyzers.registry import known_codes

log = logging.getLogger(__name__)

SECTION = "phxguard"
DEFAULT_DEBOUNCE_MS = 150
MAX_DEBOUNCE_MS = 10_000


@dataclass(frozen=True)
class EditorSettings:
    """One layer of settings sent by the editor; None means "not set here"."""

    select: list[str] | None = None
    ignore: list[str] | None = None
    severity: dict[str, str] | None = None
    pg_version: int | None = None
    exclude: list[str] | None = None
    max_file_bytes: int | None = None
    time_budget_ms: int | None = None
    debounce_ms: int | None = None
    workspace_diagnostics: bool | None = None


# Python field -> the key users write in editor settings (JSON is camelCase).
_JSON_KEYS = {
    "pg_version": "pgVersion",
    "max_file_bytes": "maxFileBytes",
    "time_budget_ms": "timeBudgetMs",
    "debounce_ms": "debounceMs",
    "workspace_diagnostics": "workspaceDiagnostics",
}


class SettingsError(ValueError):
    """Editor settings that do not validate; the message names the key."""


def _strict(kind: type, label: str) -> Any:
    def hook(value: Any, _type: Any) -> Any:
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise TypeError(f"expected {label}, got {value!r}")
        return value

    return hook


def _str_list(value: Any, _type: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return list(value)


def _str_map(value: Any, _type: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError(f'expected an object of strings, e.g. {{"MG008": "info"}}, got {value!r}')
    return dict(value)


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(int, _strict(int, "an integer"))
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook(bool, _strict(bool, "true or false"))
    converter.register_structure_hook_func(lambda t: t == list[str], _str_list)
    converter.register_structure_hook_func(lambda t: t == dict[str, str], _str_map)
    converter.register_structure_hook(
        EditorSettings,
        make_dict_structure_fn(
            EditorSettings,
            converter,
            _cattrs_forbid_extra_keys=True,
            pg_version=override(rename=_JSON_KEYS["pg_version"]),
            max_file_bytes=override(rename=_JSON_KEYS["max_file_bytes"]),
            time_budget_ms=override(rename=_JSON_KEYS["time_budget_ms"]),
            debounce_ms=override(rename=_JSON_KEYS["debounce_ms"]),
            workspace_diagnostics=override(rename=_JSON_KEYS["workspace_diagnostics"]),
        ),
    )
    return converter


_CONVERTER = _converter()


def section_of(raw: Any) -> Any:
    """The ``phxguard`` section of a settings object, accepting either nesting."""
    if isinstance(raw, Mapping) and isinstance(raw.get(SECTION), Mapping):
        return raw[SECTION]
    return raw


def parse_editor_settings(raw: Any, where: str) -> EditorSettings:
    """Structure and validate one layer of editor settings (None or ``{}``: nothing set)."""
    raw = section_of(raw)
    if raw is None:
        return EditorSettings()
    if not isinstance(raw, Mapping):
        raise SettingsError(f"{where}: expected an object, got {raw!r}")
    try:
        settings = _CONVERTER.structure(dict(raw), EditorSettings)
    except Exception as exc:
        messages = (
            cattrs.transform_error(exc, path=where)
            if isinstance(exc, cattrs.BaseValidationError)
            else [f"{exc} @ {where}"]
        )
        text = "; ".join(messages)
        for name, json_key in _JSON_KEYS.items():
            text = re.sub(rf"\.{name}\b", f".{json_key}", text)
        raise SettingsError(text) from None
    if settings.debounce_ms is not None and not 0 <= settings.debounce_ms <= MAX_DEBOUNCE_MS:
        raise SettingsError(f"{where}.debounceMs: expected 0 to {MAX_DEBOUNCE_MS} milliseconds")
    # Codes, severities and versions are checked exactly as in .phxguard.toml.
    try:
        config_from_mapping(_config_mapping(settings), path=where, known_codes=_known())
    except ConfigError as exc:
        key: str | None = _JSON_KEYS.get(exc.key or "", exc.key)
        if key is not None and settings.severity is not None and key in settings.severity:
            key = f"severity.{key}"
        raise SettingsError(
            f"{where}.{key}: {exc.detail}" if key else f"{where}: {exc.detail}"
        ) from None
    return settings


def _known() -> list[str] | None:
    # Before any rule family is registered, accept any well-formed code.
    return known_codes() or None


def _config_mapping(settings: EditorSettings) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    # Editor settings that are .phxguard.toml keys (the rest only concern the server).
    for key in CONFIG_KEYS:
        value = getattr(settings, key)
        if value is not None:
            mapping[key] = value
    return mapping


def overlay(base: Config, settings: EditorSettings, where: str) -> Config:
    """``base`` with the keys ``settings`` sets replaced (severities merged per code)."""
    mapping = _config_mapping(settings)
    if not mapping:
        return base
    layer = config_from_mapping(mapping, path=where, known_codes=_known())
    result = base
    if "select" in mapping:
        result = replace(result, select=layer.select)
    if "ignore" in mapping:
        result = replace(result, ignore=layer.ignore)
    if "severity" in mapping:
        result = replace(result, severity={**base.severity, **layer.severity})
    if "pg_version" in mapping:
        result = replace(result, pg_version=layer.pg_version)
    if "exclude" in mapping:
        result = replace(result, exclude=layer.exclude)
    if "max_file_bytes" in mapping:
        result = replace(result, max_file_bytes=layer.max_file_bytes)
    if "time_budget_ms" in mapping:
        result = replace(result, time_budget_ms=layer.time_budget_ms)
    return result


@dataclass
class SettingsState:
    """The layers currently in force and the effective result."""

    root: Path | None = None
    config_path: Path | None = None
    file_config: Config = field(default_factory=Config)
    init_options: EditorSettings = field(default_factory=EditorSettings)
    client_settings: EditorSettings = field(default_factory=EditorSettings)

    def load_file(self) -> ConfigError | None:
        """(Re)read ``.phxguard.toml`` for the workspace; on error fall back to defaults."""
        self.config_path = find_config(self.root) if self.root is not None else None
        self.file_config = Config()
        if self.config_path is None:
            return None
        try:
            self.file_config = load_config(self.config_path, _known())
        except ConfigError as exc:
            log.warning("%s", exc)
            return exc
        log.info("loaded settings from %s", self.config_path)
        return None

    def set_init_options(self, raw: Any) -> SettingsError | None:
        """Adopt ``initializationOptions``; on error the layer is dropped and the error returned."""
        return self._set("init_options", raw, "initializationOptions")

    def set_client_settings(self, raw: Any) -> SettingsError | None:
        """Adopt the ``phxguard`` section from ``workspace/configuration`` or a change event."""
        return self._set("client_settings", raw, "settings.phxguard")

    def _set(self, attribute: str, raw: Any, where: str) -> SettingsError | None:
        try:
            value = parse_editor_settings(raw, where)
        except SettingsError as exc:
            log.warning("%s", exc)
            setattr(self, attribute, EditorSettings())
            return exc
        setattr(self, attribute, value)
        return None

    @property
    def config(self) -> Config:
        """The effective analysis config."""
        config = overlay(self.file_config, self.init_options, "initializationOptions")
        return overlay(config, self.client_settings, "settings.phxguard")

    @property
    def debounce_ms(self) -> int:
        """Delay between the last change and the analysis it triggers."""
        for layer in (self.client_settings, self.init_options):
            if layer.debounce_ms is not None:
                return layer.debounce_ms
        return DEFAULT_DEBOUNCE_MS

    @property
    def workspace_diagnostics(self) -> bool:
        """Whether closed files of the workspace are analysed and reported (default on)."""
        for layer in (self.client_settings, self.init_options):
            if layer.workspace_diagnostics is not None:
                return layer.workspace_diagnostics
        return True
