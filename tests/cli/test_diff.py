"""``--diff REF``: findings only on lines added or changed since a git ref."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from server.cli.gitdiff import parse_diff
from tests.cli.conftest import INDEX_MIGRATION, JSON_MIGRATION, Runner, write_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(project: Path) -> Path:
    """The CLI test project committed to a fresh git repository."""
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "initial")
    return project


def reported(run: Runner, *argv: str) -> list[tuple[str, str, int]]:
    result = run("check", "--format", "json", *argv)
    assert result.status in (0, 1), result.err
    return [(f["path"], f["code"], f["line"]) for f in json.loads(result.out)]


def test_nothing_changed_reports_nothing(repo: Path, run: Runner) -> None:
    result = run("check", "--diff", "HEAD")
    assert result.status == 0
    assert "No problems found" in result.out
    assert len(reported(run)) == 3


def test_only_changed_lines_are_reported(repo: Path, run: Runner) -> None:
    migration = repo / INDEX_MIGRATION
    migration.write_text(
        migration.read_text().replace(
            "    create index(:users, [:email])\n",
            "    create index(:users, [:email])\n    create index(:users, [:name])\n",
        )
    )
    assert reported(run, "--diff", "HEAD") == [(INDEX_MIGRATION, "MG001", 6)]
    assert run("check", "--diff", "HEAD").status == 1
    # Committed: no longer a change against HEAD, still one against the first commit.
    git(repo, "commit", "-q", "-am", "second")
    assert reported(run, "--diff", "HEAD") == []
    assert reported(run, "--diff", "HEAD~1") == [(INDEX_MIGRATION, "MG001", 6)]


def test_a_finding_spanning_a_changed_line_is_reported(repo: Path, run: Runner) -> None:
    migration = repo / INDEX_MIGRATION
    migration.write_text(
        migration.read_text().replace(
            "create index(:users, [:email])", "create index(:users,\n      [:email, :name])"
        )
    )
    # The finding starts on the unchanged line 5; its second line was added.
    assert reported(run, "--diff", "HEAD") == [(INDEX_MIGRATION, "MG001", 5)]


def test_untracked_files_count_as_entirely_changed(repo: Path, run: Runner) -> None:
    new = "priv/repo/migrations/20240501000000_add_payload.exs"
    write_tree(repo, {new: (repo / JSON_MIGRATION).read_text().replace("metadata", "payload")})
    assert reported(run, "--diff", "HEAD") == [(new, "MG012", 6)]
    assert reported(run, "--diff", "HEAD", "lib") == []


def test_deleted_lines_touch_nothing(repo: Path, run: Runner) -> None:
    migration = repo / JSON_MIGRATION
    migration.write_text(migration.read_text().replace("  use Ecto.Migration\n\n", ""))
    assert reported(run, "--diff", "HEAD") == []


def test_bad_ref_exits_2_with_gits_message(repo: Path, run: Runner) -> None:
    result = run("check", "--diff", "no-such-ref")
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith("phxguard: --diff no-such-ref: ")
    assert "no-such-ref" in result.err.removeprefix("phxguard: --diff no-such-ref: ")


def test_outside_a_repository_exits_2(project: Path, run: Runner) -> None:
    result = run("check", "--diff", "HEAD")
    if result.status != 2:
        pytest.skip("the temporary directory is inside a git repository")
    assert "not a git repository" in result.err.lower()


def test_parse_diff_reads_added_and_changed_ranges(tmp_path: Path) -> None:
    diff = (
        b"diff --git a/lib/a.ex b/lib/a.ex\n--- a/lib/a.ex\n+++ b/lib/a.ex\n"
        b"@@ -3 +3 @@\n-x\n+y\n@@ -10,0 +11,2 @@\n+p\n+q\n@@ -20,2 +21,0 @@\n-r\n-s\n"
        b"diff --git a/gone.ex b/gone.ex\n--- a/gone.ex\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n"
    )
    changed = parse_diff(diff, tmp_path)
    assert changed == {str((tmp_path / "lib/a.ex").resolve()): {3, 11, 12}}
