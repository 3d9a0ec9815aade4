"""Settings layers: ``.phxguard.toml`` < ``initializationOptions`` < ``workspace/configuration``."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.model import Severity
from server.lsp.settings import (
    DEFAULT_DEBOUNCE_MS,
    SettingsError,
    SettingsState,
    parse_editor_settings,
)


def test_layers_override_key_by_key(tmp_path: Path) -> None:
    (tmp_path / ".phxguard.toml").write_text(
        'ignore = ["MG013"]\npg_version = 12\n[severity]\nMG008 = "info"\n'
    )
    state = SettingsState(root=tmp_path)
    assert state.load_file() is None
    assert state.set_init_options({"phxguard": {"severity": {"MG012": "error"}}}) is None
    assert state.set_client_settings({"ignore": ["MG008"], "debounceMs": 40}) is None
    config = state.config
    assert config.ignore == ("MG008",)
    assert config.pg_version == 12
    assert config.severity == {"MG008": Severity.INFO, "MG012": Severity.ERROR}
    assert config.source == str(tmp_path / ".phxguard.toml")
    assert state.debounce_ms == 40


def test_analysis_limits_layer_like_the_other_keys(tmp_path: Path) -> None:
    (tmp_path / ".phxguard.toml").write_text("max_file_bytes = 5000000\ntime_budget_ms = 900\n")
    state = SettingsState(root=tmp_path)
    assert state.load_file() is None
    assert (state.config.max_file_bytes, state.config.time_budget_ms) == (5_000_000, 900)
    assert state.set_client_settings({"timeBudgetMs": 250}) is None
    assert (state.config.max_file_bytes, state.config.time_budget_ms) == (5_000_000, 250)


def test_defaults_without_any_layer() -> None:
    state = SettingsState()
    assert state.load_file() is None
    assert state.config.select == () and state.config.ignore == ()
    assert state.debounce_ms == DEFAULT_DEBOUNCE_MS


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"pgVersion": "14"}, "settings.phxguard.pgVersion"),
        ({"pgVersion": True}, "settings.phxguard.pgVersion"),
        ({"select": "MG001"}, "settings.phxguard.select"),
        ({"select": ["not a code"]}, "settings.phxguard.select"),
        ({"severity": {"MG008": "loud"}}, "settings.phxguard.severity.MG008"),
        ({"debounceMs": -5}, "settings.phxguard.debounceMs"),
        ({"maxFileBytes": 0}, "settings.phxguard.maxFileBytes"),
        ({"timeBudgetMs": "fast"}, "settings.phxguard.timeBudgetMs"),
        ({"pg_version": 14}, "pg_version"),
        ("select everything", "settings.phxguard"),
    ],
)
def test_invalid_editor_settings_name_the_key(raw: object, named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        parse_editor_settings(raw, "settings.phxguard")


def test_a_bad_layer_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    (tmp_path / ".phxguard.toml").write_text('ignore = ["MG013"]\n')
    state = SettingsState(root=tmp_path)
    state.load_file()
    error = state.set_client_settings({"ignore": ["MG008"], "pgVersion": "x"})
    assert error is not None
    assert state.config.ignore == ("MG013",)


def test_bad_config_file_falls_back_to_defaults(tmp_path: Path) -> None:
    (tmp_path / ".phxguard.toml").write_text('ignore = ["MG013"]\n\n[severity]\nMG008 = 3\n')
    state = SettingsState(root=tmp_path)
    error = state.load_file()
    assert error is not None
    assert error.line == 4 and error.key == "MG008"
    assert str(tmp_path / ".phxguard.toml") in str(error)
    assert state.config.ignore == ()


def test_empty_or_missing_sections_set_nothing() -> None:
    assert parse_editor_settings(None, "x") == parse_editor_settings({}, "x")
    assert parse_editor_settings({"phxguard": {}}, "x") == parse_editor_settings(None, "x")
