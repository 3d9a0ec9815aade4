"""``phxguard check --fix``: files rewritten exactly, atomically, idempotently."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from analyzers.model import RuleMeta
from tests.cli.conftest import (
    INDEX_MIGRATION,
    JSON_MIGRATION,
    NOTES_FILE,
    REMOVE_MIGRATION,
    Runner,
    write_tree,
)
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_parses

FIXED_INDEX = """\
defmodule App.Repo.Migrations.AddEmailIndex do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true

  def change do
    create index(:users, [:email], concurrently: true)
  end
end
"""
FIXED_JSON = """\
defmodule App.Repo.Migrations.AddMetadata do
  use Ecto.Migration

  def change do
    alter table(:users) do
      add :metadata, :map
    end
  end
end
"""


def test_fix_rewrites_files_and_reports_what_remains(
    project: Path, run: Runner, elixir_parser: ElixirParser
) -> None:
    removal_before = (project / REMOVE_MIGRATION).read_text(encoding="utf-8")
    result = run("check", "--fix", "--select", "MG001,MG008,MG012")
    assert (project / INDEX_MIGRATION).read_text(encoding="utf-8") == FIXED_INDEX
    assert (project / JSON_MIGRATION).read_text(encoding="utf-8") == FIXED_JSON
    assert (project / REMOVE_MIGRATION).read_text(encoding="utf-8") == removal_before
    assert_parses(FIXED_INDEX, elixir_parser)
    assert_parses(FIXED_JSON, elixir_parser)
    # MG008 has no automatic fix: it is still reported, so the run still fails.
    assert result.status == 1
    lines = result.out.splitlines()
    assert lines[0] == REMOVE_MIGRATION
    assert "MG008" in lines[1]
    assert lines[-2:] == ["Fixed 2 problems in 2 files.", "Found 1 problem (1 warning) in 1 file."]
    assert not list(project.rglob("*.phxguard")), "temporary files left behind"


def test_fix_is_idempotent(project: Path, run: Runner) -> None:
    run("check", "--fix")
    snapshot = {p: p.read_bytes() for p in project.rglob("*.exs")}
    again = run("check", "--fix")
    assert {p: p.read_bytes() for p in project.rglob("*.exs")} == snapshot
    assert "No fixes applied." in again.out
    assert "Fixed" not in again.out


def test_fix_keeps_file_mode(project: Path, run: Runner) -> None:
    target = project / JSON_MIGRATION
    os.chmod(target, 0o640)
    run("check", "--fix", "--select", "MG012", JSON_MIGRATION)
    assert target.read_text(encoding="utf-8") == FIXED_JSON
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_fix_through_a_symlink_keeps_the_link(project: Path, run: Runner) -> None:
    real = project / JSON_MIGRATION
    link = project / "lib" / "linked_metadata.exs"
    os.symlink(real, link)
    run("check", "--fix", "--select", "MG012", str(link))
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == FIXED_JSON


def test_fix_that_clears_every_selected_finding_exits_0(project: Path, run: Runner) -> None:
    result = run("check", "--fix", "--select", "MG012")
    assert result.status == 0
    assert result.out.splitlines()[-2:] == [
        "Fixed 1 problem in 1 file.",
        "No problems found (checked 7 files).",
    ]


def test_fix_with_json_output_keeps_stdout_machine_readable(project: Path, run: Runner) -> None:
    result = run("check", "--fix", "--format", "json")
    assert "Fixed 2 problems in 2 files." in result.err
    remaining = json.loads(result.out)
    assert [f["code"] for f in remaining] == ["MG008"]


def test_fix_edits_other_files(project: Path, run: Runner, test_rule: RuleMeta) -> None:
    write_tree(
        project,
        {
            "lib/app/danger.ex": "defmodule D do\n  def a, do: danger_call(1)\n"
            "  def b, do: danger_call(2)\nend\n",
            NOTES_FILE: "# one\n# two\n",
        },
    )
    result = run("check", "--fix", "--select", "ZZ901")
    assert result.status == 0
    assert (project / "lib/app/danger.ex").read_text(encoding="utf-8") == (
        "defmodule D do\n  def a, do: safe_call(1)\n  def b, do: safe_call(2)\nend\n"
    )
    # Both fixes insert the same note at the same place: it is inserted once.
    assert (project / NOTES_FILE).read_text(encoding="utf-8") == "# one\n# checked\n# two\n"
    assert "Fixed 2 problems in 2 files." in result.out


def test_fix_on_a_clean_tree_changes_nothing(project: Path, run: Runner) -> None:
    before = (project / "lib/app/repo.ex").read_bytes()
    result = run("check", "--fix", "lib")
    assert result.status == 0
    assert (project / "lib/app/repo.ex").read_bytes() == before
    assert result.out == "No fixes applied.\nNo problems found (checked 1 file).\n"
