"""``--statistics``: counts per rule instead of findings."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner, write_tree

EXTRA_INDEX = "priv/repo/migrations/20240501000000_add_name_index.exs"


def test_text_table_counts_per_rule_most_frequent_first(project: Path, run: Runner) -> None:
    write_tree(
        project,
        {
            EXTRA_INDEX: """
                defmodule App.Repo.Migrations.AddNameIndex do
                  use Ecto.Migration

                  def change do
                    create index(:users, [:name])
                  end
                end
            """
        },
    )
    result = run("check", "--statistics")
    assert result.status == 1
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["2", "MG001"]
    assert lines[0].endswith("(2 fixable)")
    assert [line.split()[1] for line in lines[1:3]] == ["MG008", "MG012"]
    assert lines[-1] == "Found 4 problems across 3 rules."


def test_json_statistics(project: Path, run: Runner) -> None:
    result = run("check", "--statistics", "--format", "json")
    assert result.status == 1
    payload = json.loads(result.out)
    assert [(r["code"], r["count"]) for r in payload] == [("MG001", 1), ("MG008", 1), ("MG012", 1)]
    assert {"code", "slug", "count", "fixable"} == set(payload[0])
    assert payload[0]["fixable"] == 1


def test_statistics_of_a_clean_tree(project: Path, run: Runner) -> None:
    result = run("check", "--statistics", "lib")
    assert (result.status, result.out) == (0, "No problems found.\n")
    assert json.loads(run("check", "--statistics", "--format", "json", "lib").out) == []


def test_statistics_respects_the_baseline(project: Path, run: Runner) -> None:
    run("check", "--baseline", "b.json", "--update-baseline")
    assert run("check", "--statistics", "--baseline", "b.json").out == "No problems found.\n"


def test_statistics_with_sarif_is_a_usage_error(project: Path, run: Runner) -> None:
    result = run("check", "--statistics", "--format", "sarif")
    assert result.status == 2
    assert "--statistics prints text or json" in result.err
