"""The facts index: per-file results, updates, removals, and the workspace scan."""

from __future__ import annotations

from pathlib import Path

from analyzers.facts import FactIndex, workspace_files

REPO = (
    b"defmodule App.Repo do\n  use Ecto.Repo, otp_app: :app, adapter: Ecto.Adapters.SQLite3\nend\n"
)
CONFIG = b"import Config\nconfig :app, App.Repo, migration_lock: :pg_advisory_lock\n"


def test_update_and_remove_change_the_combined_facts() -> None:
    index = FactIndex("/p")
    assert index.facts().repos == {}
    assert index.update("/p/lib/app/repo.ex", REPO)
    assert index.facts().repos["App.Repo"].adapter == "Ecto.Adapters.SQLite3"
    assert not index.update("/p/lib/app/repo.ex", REPO), "same content: nothing changed"
    index.update("/p/config/config.exs", CONFIG)
    assert index.facts().repos["App.Repo"].uses_advisory_lock
    # The file stops being a repo module (e.g. edited in the editor): its facts go away.
    assert index.update("/p/lib/app/repo.ex", b"defmodule App.Repo do\nend\n")
    assert index.remove("/p/config/config.exs")
    assert index.facts().repos == {}


def test_scan_skips_dependencies_and_builds(tmp_path: Path) -> None:
    for rel in ("lib/app/repo.ex", "deps/dep/lib/dep.ex", "_build/dev/x.ex", ".elixir_ls/y.ex"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(REPO)
    found = [p.relative_to(tmp_path).as_posix() for p in workspace_files(tmp_path)]
    assert found == ["lib/app/repo.ex"]
    assert set(FactIndex.scan(tmp_path).facts().repos) == {"App.Repo"}
