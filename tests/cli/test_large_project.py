"""A generated 2,000-file project: exit codes, baseline behaviour and deterministic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks.corpus import write_corpus
from tests.cli.conftest import Runner

FILES = 2000


@pytest.fixture(scope="module")
def large_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 files: one migration in five (each with unsafe indexes and references)."""
    root = tmp_path_factory.mktemp("large") / "app"
    root.mkdir()
    write_corpus(root, FILES)
    return root


def test_large_project_end_to_end(
    large_project: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(large_project)
    first = run("check", "--format", "json", "--jobs", "2")
    assert first.status == 1
    findings = json.loads(first.out)
    migrations = FILES // 5
    assert len(findings) >= migrations
    assert {f["code"] for f in findings} >= {"MG001"}

    # Determinism: the same output again, and with one worker.
    assert run("check", "--format", "json", "--jobs", "2").out == first.out
    assert run("check", "--format", "json", "--jobs", "1").out == first.out

    stats = json.loads(run("check", "--statistics", "--format", "json", "-j", "2").out)
    assert sum(r["count"] for r in stats) == len(findings)

    # Adopt a baseline: the run passes.
    update = run("check", "--baseline", "phxguard-baseline.json", "--update-baseline", "-j", "2")
    assert update.status == 0
    assert f"wrote {len(findings)} findings" in update.err
    clean = run("check", "--baseline", "phxguard-baseline.json", "-j", "2")
    assert (clean.status, clean.err) == (0, "")

    # An unrelated edit shifts every line of a migration: still suppressed.
    target = large_project / "priv/repo/migrations/20240101000500_change_500.exs"
    text = target.read_text()
    target.write_text(
        text.replace("  use Ecto.Migration\n", "  use Ecto.Migration\n\n  # a\n  # b\n")
    )
    assert run("check", "--baseline", "phxguard-baseline.json", "-j", "2").status == 0

    # A new finding fails, and it is the only one reported.
    target.write_text(
        target.read_text().replace(
            "  end\nend\n", "\n    create index(:accounts, [:brand_new])\n  end\nend\n"
        )
    )
    new = run("check", "--baseline", "phxguard-baseline.json", "--format", "json", "-j", "2")
    assert new.status == 1
    reported = json.loads(new.out)
    assert [(f["path"], f["code"]) for f in reported] == [
        ("priv/repo/migrations/20240101000500_change_500.exs", "MG001")
    ]
    assert "brand_new" in target.read_text().splitlines()[reported[0]["line"] - 1]
