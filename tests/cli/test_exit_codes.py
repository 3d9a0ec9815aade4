"""Exit statuses, ``--fail-on``, ``--select``/``--ignore`` and configuration errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import INDEX_MIGRATION, JSON_MIGRATION, REMOVE_MIGRATION, Runner, write_tree


def codes(run: Runner, *argv: str) -> list[str]:
    result = run("check", "--format", "json", *argv)
    assert result.status in (0, 1), result.err
    return [f["code"] for f in json.loads(result.out)]


def test_clean_tree_exits_0(project: Path, run: Runner) -> None:
    result = run("check", "lib", "config")
    assert result.status == 0
    assert result.err == ""


def test_findings_exit_1(project: Path, run: Runner) -> None:
    assert run("check").status == 1
    assert run("check", JSON_MIGRATION).status == 1


def test_fail_on_error_ignores_warnings(project: Path, run: Runner) -> None:
    assert run("check", "--fail-on", "error").status == 0
    write_tree(project, {".phxguard.toml": '[severity]\nMG012 = "error"\n'})
    assert run("check", "--fail-on", "error").status == 1
    assert run("check", "--fail-on", "error", "--ignore", "MG012").status == 0


def test_fail_on_info_counts_info_findings(project: Path, run: Runner) -> None:
    write_tree(project, {".phxguard.toml": '[severity]\nMG = "info"\n'})
    assert run("check").status == 0, "info findings are below the default --fail-on warning"
    assert run("check", "--fail-on", "info").status == 1
    assert run("check", "--fail-on", "INFO").status == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--format", "xml"],
        ["check", "--bogus"],
        ["check", "--fail-on", "fatal"],
        ["check", "--select", "NOTACODE"],
        ["check", "--ignore", "QQ999"],
        ["frobnicate"],
        [],
        ["server", "--tcp", "localhost"],
    ],
)
def test_usage_errors_exit_2(project: Path, run: Runner, argv: list[str]) -> None:
    result = run(*argv)
    assert result.status == 2
    assert result.out == ""
    assert result.err.strip()


def test_missing_path_exits_2(project: Path, run: Runner) -> None:
    result = run("check", "lib", "no/such/dir")
    assert result.status == 2
    assert "no such file or directory: no/such/dir" in result.err


def test_bad_config_names_file_line_and_key(project: Path, run: Runner) -> None:
    write_tree(project, {".phxguard.toml": 'pg_version = 15\n\nselct = ["MG001"]\n'})
    result = run("check")
    assert result.status == 2
    assert result.out == ""
    config = project / ".phxguard.toml"
    assert f"{config}:3: `selct`: unknown setting" in result.err
    assert "Traceback" not in result.err


def test_bad_config_value_and_invalid_toml(project: Path, run: Runner) -> None:
    write_tree(project, {".phxguard.toml": '[severity]\nMG001 = "loud"\n'})
    result = run("check")
    assert result.status == 2
    assert ":2: `MG001`:" in result.err
    write_tree(project, {".phxguard.toml": "select = [\n"})
    result = run("check")
    assert result.status == 2
    assert "invalid TOML" in result.err and ".phxguard.toml" in result.err


def test_explicit_config_file(project: Path, run: Runner, tmp_path: Path) -> None:
    write_tree(project, {".phxguard.toml": 'ignore = ["MG"]\n'})
    assert codes(run) == []
    other = tmp_path / "ci.toml"
    other.write_text('select = ["MG012"]\n', encoding="utf-8")
    assert codes(run, "--config", str(other)) == ["MG012"]
    bad = tmp_path / "bad.toml"
    bad.write_text('exclude = "deps"\n', encoding="utf-8")
    result = run("check", "--config", str(bad))
    assert result.status == 2 and f"{bad}:1: `exclude`" in result.err
    result = run("check", "--config", str(tmp_path / "missing.toml"))
    assert result.status == 2 and "missing.toml" in result.err


def test_config_found_from_first_path_not_cwd(
    project: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(project, {".phxguard.toml": 'select = ["MG008"]\n'})
    monkeypatch.chdir(project.parent)
    result = run("check", "app", "--format", "json")
    assert [f["code"] for f in json.loads(result.out)] == ["MG008"]


def test_select_and_ignore(project: Path, run: Runner) -> None:
    assert codes(run, "--select", "MG012") == ["MG012"]
    assert codes(run, "--select", "MG001,MG012") == ["MG001", "MG012"]
    assert codes(run, "--select", "MG001", "--select", "MG008") == ["MG001", "MG008"]
    assert codes(run, "--select", "mg", "--ignore", "MG001,MG008") == ["MG012"]
    assert codes(run, "--ignore", "MG") == []


def test_command_line_lists_replace_the_config_files(project: Path, run: Runner) -> None:
    write_tree(project, {".phxguard.toml": 'ignore = ["MG012"]\nselect = ["MG008", "MG012"]\n'})
    assert codes(run) == ["MG008"]
    assert codes(run, "--ignore", "MG008") == ["MG012"]
    assert codes(run, "--select", "MG001") == ["MG001"]


def test_rule_failure_is_a_warning_not_a_crash(
    project: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analyzers import registry
    from analyzers.registry import get_rule

    rule = get_rule("MG012")
    assert rule is not None

    def broken(ctx: object) -> list[object]:
        raise RuntimeError("boom")

    substitute = type(rule)(rule.meta, broken, rule.languages)
    # Swap the registry's state whole; monkeypatch puts the originals back.
    monkeypatch.setattr(registry, "_RULES", {**registry._RULES, "MG012": substitute})
    monkeypatch.setattr(registry, "_SORTED", None)
    result = run("check", "--select", "MG001,MG012", INDEX_MIGRATION, JSON_MIGRATION)
    assert result.status == 1
    assert f"phxguard: rule MG012 failed on {JSON_MIGRATION}: RuntimeError: boom" in result.err
    assert "MG001" in result.out
    assert "Traceback" not in result.err
    sarif = json.loads(run("check", "--format", "sarif", "--select", "MG012", JSON_MIGRATION).out)
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "warning",
            "message": {"text": f"rule MG012 failed on {JSON_MIGRATION}: RuntimeError: boom"},
        }
    ]


def test_paths_given_as_files_and_dirs(project: Path, run: Runner) -> None:
    assert codes(run, REMOVE_MIGRATION) == ["MG008"]
    assert codes(run, "priv/repo/migrations", "--select", "MG008,MG012") == ["MG008", "MG012"]
