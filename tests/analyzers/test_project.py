"""Project facts read (never evaluated) from config files and repo modules."""

from __future__ import annotations

from pathlib import Path

from analyzers.project import ProjectFacts, find_project_root, load_project_facts


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_adapter_lock_and_priv_from_project_files(tmp_path: Path) -> None:
    write(tmp_path, "mix.exs", "defmodule App.MixProject do\nend\n")
    write(
        tmp_path,
        "lib/app/repo.ex",
        "defmodule App.Repo do\n  use Ecto.Repo, otp_app: :app, adapter: Ecto.Adapters.Postgres\nend\n",
    )
    write(
        tmp_path,
        "lib/app/lite_repo.ex",
        "defmodule App.LiteRepo do\n  use Ecto.Repo, otp_app: :app, adapter: Ecto.Adapters.SQLite3\nend\n",
    )
    write(
        tmp_path,
        "config/config.exs",
        "import Config\nconfig :app, App.Repo,\n  migration_lock: :pg_advisory_lock\n"
        'config :app, App.LiteRepo, priv: "priv/lite"\n',
    )
    write(
        tmp_path, "config/test.exs", "import Config\nconfig :app, App.Repo, migration_lock: false\n"
    )
    facts = load_project_facts(tmp_path)
    main = facts.repo_for_migration(str(tmp_path / "priv/repo/migrations/1_a.exs"))
    lite = facts.repo_for_migration(str(tmp_path / "priv/lite/migrations/1_a.exs"))
    assert main is not None and main.uses_advisory_lock and main.is_postgres
    assert lite is not None and not lite.is_postgres


def test_no_project_means_postgres_without_advisory_lock() -> None:
    assert ProjectFacts().repo_for_migration("priv/repo/migrations/1_a.exs") is None


def test_project_root_is_the_umbrella_root(tmp_path: Path) -> None:
    write(tmp_path, "mix.exs", "")
    write(tmp_path, "apps/web/mix.exs", "")
    (tmp_path / "apps/web/lib").mkdir(parents=True)
    assert find_project_root(tmp_path / "apps/web/lib") == tmp_path
    assert find_project_root(tmp_path / "apps") == tmp_path


def test_an_endpoint_adapter_does_not_make_a_repo(tmp_path: Path) -> None:
    write(
        tmp_path,
        "config/config.exs",
        "import Config\nconfig :app, AppWeb.Endpoint, adapter: Bandit.PhoenixAdapter\n"
        "config :app, App.LegacyRepo, adapter: Ecto.Adapters.MyXQL\n",
    )
    facts = load_project_facts(tmp_path)
    assert set(facts.repos) == {"App.LegacyRepo"}
    assert not facts.repos["App.LegacyRepo"].is_postgres


def test_facts_of_a_file_alone_answer_each_collectors_empty_value_once() -> None:
    from analyzers.facts import collectors

    facts = ProjectFacts()
    for found in collectors():
        empty = facts.get(found.name)
        assert empty == found.combine({})
        assert facts.get(found.name) is empty
    assert facts.get("no such collector") is None
    named = ProjectFacts(extras={collectors()[0].name: "collected"})
    assert named.get(collectors()[0].name) == "collected"
    assert named == ProjectFacts(extras={collectors()[0].name: "collected"})
