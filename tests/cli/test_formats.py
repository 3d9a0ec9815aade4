"""``phxguard check --format text|json|sarif|github``: the exact output of each format."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from analyzers.explain import docs_uri, explain_text, hover_markdown
from analyzers.model import RuleMeta
from server.cli.formats.github import escape_data, escape_property
from tests.cli.conftest import (
    INDEX_MIGRATION,
    JSON_MIGRATION,
    NOTES_FILE,
    REMOVE_MIGRATION,
    Runner,
    write_tree,
)

SCHEMA = Path(__file__).resolve().parents[2] / "server" / "cli" / "schemas" / "sarif-2.1.0.json"

# Columns count characters: `é` is 2 bytes and `🎉` 4 bytes (2 UTF-16 units), each 1 column.
DANGER_SOURCE = """
defmodule App.Danger do
  def run(x) do
    x = "héllo🎉"; danger_call(x)
  end
end
"""
NOTES_SOURCE = "# one\n# two\n"


def danger_project(root: Path) -> None:
    """A file for the test rule, plus the notes file its fix also edits."""
    write_tree(root, {"lib/app/danger.ex": DANGER_SOURCE, NOTES_FILE: NOTES_SOURCE})


def test_json_output_is_pinned(project: Path, run: Runner, test_rule: RuleMeta) -> None:
    danger_project(project)
    result = run("check", "--format", "json", "--select", "ZZ901")
    assert result.status == 1
    assert json.loads(result.out) == [
        {
            "path": "lib/app/danger.ex",
            "code": "ZZ901",
            "slug": "danger-call",
            "severity": "warning",
            "message": "`danger_call` here",
            "line": 3,
            "column": 19,
            "end_line": 3,
            "end_column": 30,
            "fixes": [
                {
                    "title": "Use `safe_call`",
                    "edits": [
                        {
                            "path": "lib/app/danger.ex",
                            "line": 3,
                            "column": 19,
                            "end_line": 3,
                            "end_column": 30,
                            "new_text": "safe_call",
                        },
                        {
                            "path": "lib/notes.ex",
                            "line": 2,
                            "column": 1,
                            "end_line": 2,
                            "end_column": 1,
                            "new_text": "# checked\n",
                        },
                    ],
                }
            ],
        }
    ]


def test_json_paths_are_relative_to_the_current_directory(
    project: Path, run: Runner, test_rule: RuleMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    danger_project(project)
    monkeypatch.chdir(project.parent)
    result = run("check", "app", "--format", "json", "--select", "ZZ901")
    (finding,) = json.loads(result.out)
    assert finding["path"] == "app/lib/app/danger.ex"
    assert [e["path"] for e in finding["fixes"][0]["edits"]] == [
        "app/lib/app/danger.ex",
        "app/lib/notes.ex",
    ]


def test_json_for_migration_rules_is_sorted_and_complete(project: Path, run: Runner) -> None:
    result = run("check", "--format", "json", "--select", "MG001,MG008,MG012")
    assert result.status == 1
    findings = json.loads(result.out)
    assert [(f["path"], f["code"], f["line"], f["column"]) for f in findings] == [
        (INDEX_MIGRATION, "MG001", 5, 5),
        (REMOVE_MIGRATION, "MG008", 6, 7),
        (JSON_MIGRATION, "MG012", 6, 22),
    ]
    assert {f["slug"] for f in findings} == {"index-not-concurrent", "remove-column", "json-column"}
    assert all(
        set(f)
        == {
            "path",
            "code",
            "slug",
            "severity",
            "message",
            "line",
            "column",
            "end_line",
            "end_column",
            "fixes",
        }
        for f in findings
    )
    json_fix = findings[2]["fixes"][0]
    assert [
        (e["path"], e["line"], e["column"], e["end_column"], e["new_text"])
        for e in json_fix["edits"]
    ] == [(JSON_MIGRATION, 6, 22, 27, ":map")]
    assert findings[1]["fixes"] == []


def test_json_with_no_findings_is_an_empty_list(project: Path, run: Runner) -> None:
    result = run("check", "lib", "--format", "json")
    assert result.status == 0
    assert json.loads(result.out) == []


def test_text_output_is_pinned(project: Path, run: Runner, test_rule: RuleMeta) -> None:
    danger_project(project)
    result = run("check", "--select", "ZZ901")
    assert result.status == 1
    # The carets skip `é` (1 column) and `🎉` (2 screen columns) to land under `danger_call`.
    assert result.out == (
        "lib/app/danger.ex\n"
        "  3:19 ZZ901 [warning] `danger_call` here\n"
        "     |\n"
        '   3 |     x = "héllo🎉"; danger_call(x)\n'
        "     |                    ^^^^^^^^^^^ fix: Use `safe_call`\n"
        "\n"
        "Found 1 problem (1 warning) in 1 file; 1 fixable with --fix.\n"
    )


def test_text_output_groups_by_file_and_counts(project: Path, run: Runner) -> None:
    result = run("check", "--select", "MG001,MG008,MG012")
    lines = result.out.splitlines()
    assert lines[0] == INDEX_MIGRATION
    assert lines[1].startswith("  5:5 MG001 [warning] ")
    assert "   5 |     create index(:users, [:email])" in lines
    assert "     |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ fix: Create index concurrently" in lines
    assert REMOVE_MIGRATION in lines and JSON_MIGRATION in lines
    assert lines[-1] == "Found 3 problems (3 warnings) in 3 files; 2 fixable with --fix."


def test_text_output_when_clean(project: Path, run: Runner) -> None:
    result = run("check", "lib")
    assert result.status == 0
    assert result.out == "No problems found (checked 1 file).\n"


def test_github_annotations(project: Path, run: Runner, test_rule: RuleMeta) -> None:
    danger_project(project)
    result = run("check", "--format", "github", "--select", "ZZ901")
    assert result.status == 1
    assert result.out == (
        "::warning file=lib/app/danger.ex,line=3,col=19,endLine=3,endColumn=30,"
        "title=ZZ901 danger-call::`danger_call` here\n"
    )


def test_github_severity_commands_and_config_overrides(project: Path, run: Runner) -> None:
    write_tree(project, {".phxguard.toml": '[severity]\nMG012 = "error"\nMG008 = "info"\n'})
    result = run("check", "--format", "github", "--select", "MG001,MG008,MG012")
    commands = [line.split(" ", 1)[0] for line in result.out.splitlines()]
    assert commands == ["::warning", "::notice", "::error"]


def test_github_escaping() -> None:
    assert escape_data("50% done\nnext\r") == "50%25 done%0Anext%0D"
    assert escape_property("a,b:c%") == "a%2Cb%3Ac%25"


def _sarif(run: Runner, *argv: str) -> dict[str, object]:
    result = run("check", "--format", "sarif", *argv)
    log: dict[str, object] = json.loads(result.out)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    return log


def test_sarif_validates_and_carries_rule_metadata(
    project: Path, run: Runner, test_rule: RuleMeta
) -> None:
    danger_project(project)
    log = _sarif(run, "--select", "ZZ901")
    assert log["version"] == "2.1.0"
    (sarif_run,) = log["runs"]  # type: ignore[misc]
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "phxguard"
    assert driver["rules"] == [
        {
            "id": "ZZ901",
            "name": "danger-call",
            "shortDescription": {"text": test_rule.title},
            "fullDescription": {"text": test_rule.rationale},
            "help": {"text": explain_text(test_rule), "markdown": hover_markdown(test_rule)},
            "helpUri": docs_uri(test_rule),
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["ZZ"]},
        }
    ]
    (result,) = sarif_run["results"]
    assert result["ruleId"] == "ZZ901" and result["ruleIndex"] == 0
    assert result["level"] == "warning"
    assert result["message"] == {"text": "`danger_call` here"}
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "lib/app/danger.ex", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 19, "endLine": 3, "endColumn": 30}
    (fix,) = result["fixes"]
    assert fix["description"] == {"text": "Use `safe_call`"}
    assert fix["artifactChanges"] == [
        {
            "artifactLocation": {"uri": "lib/app/danger.ex", "uriBaseId": "%SRCROOT%"},
            "replacements": [
                {
                    "deletedRegion": {
                        "startLine": 3,
                        "startColumn": 19,
                        "endLine": 3,
                        "endColumn": 30,
                    },
                    "insertedContent": {"text": "safe_call"},
                }
            ],
        },
        {
            "artifactLocation": {"uri": "lib/notes.ex", "uriBaseId": "%SRCROOT%"},
            "replacements": [
                {
                    "deletedRegion": {
                        "startLine": 2,
                        "startColumn": 1,
                        "endLine": 2,
                        "endColumn": 1,
                    },
                    "insertedContent": {"text": "# checked\n"},
                }
            ],
        },
    ]


def test_sarif_for_migration_rules(project: Path, run: Runner) -> None:
    write_tree(project, {".phxguard.toml": '[severity]\nMG012 = "error"\nMG008 = "info"\n'})
    log = _sarif(run)
    sarif_run = log["runs"][0]  # type: ignore[index]
    rules = sarif_run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert {"MG001", "MG008", "MG012"} <= set(ids) and ids == sorted(ids)
    by_id = {rule["id"]: rule for rule in rules}
    assert by_id["MG012"]["defaultConfiguration"] == {"level": "error"}
    assert by_id["MG001"]["helpUri"].endswith("#mg001-index-not-concurrent")
    levels = {r["ruleId"]: r["level"] for r in sarif_run["results"]}
    assert levels == {"MG001": "warning", "MG008": "note", "MG012": "error"}
    for result in sarif_run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]


def test_sarif_with_no_findings_still_lists_rules(project: Path, run: Runner) -> None:
    log = _sarif(run, "lib")
    sarif_run = log["runs"][0]  # type: ignore[index]
    assert sarif_run["results"] == []
    assert sarif_run["tool"]["driver"]["rules"]
