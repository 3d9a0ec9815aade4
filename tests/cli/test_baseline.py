"""``--baseline``: old findings stay quiet, new ones fail, stale entries are noted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzers.model import Finding, Severity
from server.cli.baseline import Baseline, BaselineError, Fingerprint, file_fingerprints
from tests.cli.conftest import INDEX_MIGRATION, JSON_MIGRATION, Runner


def test_update_baseline_writes_sorted_versioned_json(project: Path, run: Runner) -> None:
    result = run("check", "--baseline", "baseline.json", "--update-baseline")
    assert result.status == 0
    assert "wrote 3 findings to baseline.json" in result.err
    data = json.loads((project / "baseline.json").read_text())
    assert data["version"] == 1
    entries = data["findings"]
    assert entries == sorted(entries, key=lambda e: (e["code"], e["path"], e["text"]))
    assert {
        "code": "MG001",
        "path": INDEX_MIGRATION,
        "text": "create index(:users, [:email])",
        "occurrence": 0,
    } in entries
    again = run("check", "--baseline", "baseline.json", "--update-baseline")
    assert again.status == 0
    assert json.loads((project / "baseline.json").read_text()) == data


def test_baselined_findings_pass_and_survive_line_shifts(project: Path, run: Runner) -> None:
    assert run("check").status == 1
    run("check", "--baseline", "baseline.json", "--update-baseline")
    assert run("check", "--baseline", "baseline.json").status == 0
    migration = project / INDEX_MIGRATION
    text = migration.read_text()
    # An unrelated edit that moves the flagged line down and re-indents it.
    shifted = text.replace(
        "  def change do\n    create index(:users, [:email])",
        "  @moduledoc false\n\n  def change do\n    create   index(:users,\n      [:email])",
    )
    assert shifted != text
    migration.write_text(shifted)
    result = run("check", "--baseline", "baseline.json")
    assert result.status == 0, result.out
    assert "No problems found" in result.out
    assert result.err == ""


def test_a_new_finding_fails_even_when_identical_to_a_baselined_one(
    project: Path, run: Runner
) -> None:
    run("check", "--baseline", "baseline.json", "--update-baseline")
    migration = project / INDEX_MIGRATION
    migration.write_text(
        migration.read_text().replace(
            "    create index(:users, [:email])\n",
            "    create index(:users, [:email])\n    create index(:users, [:email])\n",
        )
    )
    result = run("check", "--baseline", "baseline.json", "--format", "json")
    assert result.status == 1
    reported = json.loads(result.out)
    assert [(f["path"], f["code"], f["line"]) for f in reported] == [(INDEX_MIGRATION, "MG001", 6)]


def test_stale_entries_are_counted_and_listed_with_verbose(project: Path, run: Runner) -> None:
    run("check", "--baseline", "baseline.json", "--update-baseline")
    (project / JSON_MIGRATION).write_text(
        (project / JSON_MIGRATION).read_text().replace(":json", ":map")
    )
    result = run("check", "--baseline", "baseline.json")
    assert result.status == 0
    assert "1 baseline entry no longer found" in result.err
    assert JSON_MIGRATION not in result.err
    verbose = run("check", "--baseline", "baseline.json", "-v")
    assert verbose.status == 0
    assert f"  {JSON_MIGRATION}: MG012 #0 :json" in verbose.err
    assert run("check", "--baseline", "baseline.json", "--quiet").err == ""


def test_entries_for_files_not_checked_are_neither_stale_nor_dropped(
    project: Path, run: Runner
) -> None:
    run("check", "--baseline", "baseline.json", "--update-baseline")
    before = json.loads((project / "baseline.json").read_text())
    result = run("check", INDEX_MIGRATION, "--baseline", "baseline.json")
    assert (result.status, result.err) == (0, "")
    run("check", INDEX_MIGRATION, "--baseline", "baseline.json", "--update-baseline")
    assert json.loads((project / "baseline.json").read_text()) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline.json does not exist (create it with --update-baseline)"),
        ("{not json", "baseline.json is not valid JSON"),
        ('{"findings": []}', "is not a phxguard baseline (version 1)"),
        ('{"version": 1, "findings": [{"code": "MG001"}]}', "malformed entry"),
    ],
)
def test_missing_or_invalid_baseline_exits_2(
    project: Path, run: Runner, content: str | None, message: str
) -> None:
    if content is not None:
        (project / "baseline.json").write_text(content)
    result = run("check", "--baseline", "baseline.json")
    assert result.status == 2
    assert message in result.err
    assert result.out == ""


def test_update_baseline_replaces_an_invalid_file_and_needs_a_file(
    project: Path, run: Runner
) -> None:
    (project / "baseline.json").write_text("garbage")
    assert run("check", "--baseline", "baseline.json", "--update-baseline").status == 0
    assert Baseline.load(project / "baseline.json").entries
    result = run("check", "--update-baseline")
    assert (result.status, result.err) == (2, "phxguard: --update-baseline needs --baseline FILE\n")


def test_fingerprints_collapse_whitespace_and_count_occurrences_in_source_order() -> None:
    source = b"a danger( x)\nb danger(\n   x)\nc danger(y)\n"
    second = Finding("ZZ1", 15, 28, "m", Severity.WARNING)
    first = Finding("ZZ1", 2, 12, "m", Severity.WARNING)
    other = Finding("ZZ1", 31, 40, "m", Severity.WARNING)
    assert source[first.start : first.end] == b"danger( x)"
    assert source[other.start : other.end] == b"danger(y)"
    assert file_fingerprints("lib/a.ex", source, [second, other, first]) == [
        Fingerprint("ZZ1", "lib/a.ex", "danger( x)", 1),
        Fingerprint("ZZ1", "lib/a.ex", "danger(y)", 0),
        Fingerprint("ZZ1", "lib/a.ex", "danger( x)", 0),
    ]


def test_load_round_trips_dump(tmp_path: Path) -> None:
    baseline = Baseline(frozenset({Fingerprint("MG001", "p.exs", "create index(:t, [:c])", 2)}))
    target = tmp_path / "b.json"
    target.write_text(baseline.dump())
    assert Baseline.load(target) == baseline
    with pytest.raises(BaselineError):
        Baseline.load(tmp_path / "absent.json")
