"""``.phxguard.toml`` parsing: defaults, selection logic, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.config import DEFAULT_PG_VERSION, Config, ConfigError, find_config, parse_config
from analyzers.model import Severity

KNOWN = ["MG001", "MG002", "MG008", "LV001"]


def test_defaults_enable_everything() -> None:
    config = Config()
    assert config.enabled("MG001") and config.enabled("LV001")
    assert config.pg_version == DEFAULT_PG_VERSION


def test_most_specific_selection_wins() -> None:
    config = parse_config(b'select = ["MG"]\nignore = ["MG008"]\n', "c.toml", KNOWN)
    assert config.enabled("MG001")
    assert not config.enabled("MG008")
    assert not config.enabled("LV001")
    narrow = parse_config(b'select = ["MG001"]\nignore = ["MG"]\n', "c.toml", KNOWN)
    assert narrow.enabled("MG001") and not narrow.enabled("MG002")


def test_severity_by_code_then_family() -> None:
    config = parse_config(b'[severity]\nMG = "info"\nMG001 = "error"\n', "c.toml", KNOWN)
    assert config.severity_for("MG001", Severity.WARNING) is Severity.ERROR
    assert config.severity_for("MG008", Severity.WARNING) is Severity.INFO
    assert config.severity_for("LV001", Severity.WARNING) is Severity.WARNING


def test_exclude_extends_defaults() -> None:
    config = parse_config(b'exclude = ["priv/legacy/**"]\n', "c.toml", KNOWN)
    assert "deps/**" in config.exclude and "priv/legacy/**" in config.exclude


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ('select = ["MG"]\npg_version = "fourteen"\n', 2, "pg_version", "version"),
        ('\n\nselect = ["XX999"]\n', 3, "select", "no rule matches"),
        ('ignore = "MG001"\n', 1, "ignore", "list"),
        ('[severity]\nMG001 = "fatal"\n', 2, "MG001", "unknown severity"),
        ('selct = ["MG"]\n', 1, "selct", "unknown setting"),
    ],
)
def test_errors_name_file_line_and_key(text: str, line: int, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text.encode(), ".phxguard.toml", KNOWN)
    error = raised.value
    assert (error.path, error.line, error.key) == (".phxguard.toml", line, key)
    assert str(error).startswith(f".phxguard.toml:{line}: `{key}`: ")
    assert words in str(error)


def test_invalid_toml_and_utf8_are_reported_with_location() -> None:
    with pytest.raises(ConfigError, match=r"^c.toml:2: invalid TOML"):
        parse_config(b'select = ["MG"]\nignore = [\n', "c.toml", KNOWN)
    with pytest.raises(ConfigError, match="UTF-8"):
        parse_config(b"select = [\xff]", "c.toml", KNOWN)


def test_find_config_searches_parents(tmp_path: Path) -> None:
    (tmp_path / ".phxguard.toml").write_text("pg_version = 15\n")
    nested = tmp_path / "priv" / "repo" / "migrations"
    nested.mkdir(parents=True)
    assert find_config(nested) == tmp_path / ".phxguard.toml"
