"""MG010 data-migration: Repo and context calls in schema migrations."""

from __future__ import annotations

import pytest

from analyzers.model import Finding, Severity
from analyzers.project import ProjectFacts, RepoFacts
from tests.ruletools import MIGRATION_PATH, adapter_facts, flagged_text, only


def migration(up: str, *, header: str = "", extra: str = "") -> str:
    """A migration whose ``def up`` body is ``up``; ``header`` after ``use``, ``extra`` after up."""
    body = "\n".join(f"    {line}" if line else "" for line in up.strip("\n").split("\n"))
    head = "".join(f"  {line}\n" for line in header.split("\n") if line)
    return (
        "defmodule MyApp.Repo.Migrations.Backfill do\n"
        "  use Ecto.Migration\n"
        "  import Ecto.Query\n"
        f"{head}\n"
        f"  def up do\n{body}\n  end\n"
        f"{extra}"
        "end\n"
    )


def mg010(
    source: str, *, path: str = MIGRATION_PATH, facts: ProjectFacts | None = None
) -> list[Finding]:
    """MG010 findings of ``source``."""
    return only("MG010", source, path, facts=facts)


def texts(source: str) -> list[str]:
    """The source text each MG010 finding points at."""
    return [flagged_text(source, f) for f in mg010(source)]


@pytest.mark.parametrize(
    ("line", "flagged", "what"),
    [
        ('Repo.insert!(%{title: "x"})', "Repo.insert!", "writes data"),
        (
            'MyApp.Repo.update_all("posts", set: [status: "draft"])',
            "MyApp.Repo.update_all",
            "writes data",
        ),
        ('repo().delete_all(from p in "posts", where: p.spam)', "repo().delete_all", "writes data"),
        ('repo().insert_all("tags", [%{name: "elixir"}])', "repo().insert_all", "writes data"),
        ('ids = repo().all(from p in "posts", select: p.id)', "repo().all", "reads data"),
        ("MyApp.Repo.get!(MyApp.Post, 1)", "MyApp.Repo.get!", "reads data"),
        ('Repo.stream(from p in "posts")', "Repo.stream", "reads data"),
        ("repo().transaction(fn -> :ok end)", "repo().transaction", "runs a data transaction"),
        (
            "repo().query!(\"UPDATE posts SET status = 'draft'\")",
            "repo().query!",
            "runs SQL on the data",
        ),
        (
            'Ecto.Adapters.SQL.query!(repo(), "SELECT id FROM posts")',
            "Ecto.Adapters.SQL.query!",
            "runs SQL on the data",
        ),
        ("MyApp.ReadRepo.one(MyApp.Post)", "MyApp.ReadRepo.one", "reads data"),
    ],
)
def test_repo_calls_are_flagged(line: str, flagged: str, what: str) -> None:
    source = migration(line)
    (finding,) = mg010(source)
    assert flagged_text(source, finding) == flagged
    assert finding.message == (
        f"{flagged} {what} inside a schema migration's transaction; move it to a separate, "
        "batched data migration"
    )
    assert finding.severity is Severity.WARNING
    assert not finding.fixes


def test_struct_piped_into_repo_is_flagged_once() -> None:
    source = migration('%MyApp.Post{title: "Hello"} |> MyApp.Repo.insert!()')
    assert texts(source) == ["MyApp.Repo.insert!"]


def test_nested_repo_calls_report_the_outer_one() -> None:
    source = migration("Repo.transaction(fn ->\n  Repo.insert!(%MyApp.Tag{})\nend)")
    assert texts(source) == ["Repo.transaction"]


def test_captured_repo_function_is_flagged() -> None:
    source = migration("Enum.each(posts(), &MyApp.Repo.delete!/1)")
    assert texts(source) == ["MyApp.Repo.delete!"]


def test_aliased_repo() -> None:
    source = migration(
        'DB.update_all("posts", set: [status: "draft"])\nRepo.delete_all("drafts")',
        header="alias MyApp.Repo, as: DB\nalias MyApp.Repo",
    )
    assert texts(source) == ["DB.update_all", "Repo.delete_all"]


def test_repo_named_in_project_config() -> None:
    facts = ProjectFacts(root=".", repos={"MyApp.Storage": RepoFacts("MyApp.Storage")})
    source = migration("MyApp.Storage.all(MyApp.Tag)")
    assert texts(source) == []
    assert [flagged_text(source, f) for f in mg010(source, facts=facts)] == ["MyApp.Storage.all"]


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ('MyApp.Accounts.create_user(%{email: "a@b.c"})', "MyApp.Accounts.create_user"),
        ("Accounts.update_user(user, %{admin: true})", "Accounts.update_user"),
        ("MyApp.Billing.backfill_invoices()", "MyApp.Billing.backfill_invoices"),
        ("MyApp.Catalog.delete_product(product)", "MyApp.Catalog.delete_product"),
        ("MyApp.Tags.upsert_tags([])", "MyApp.Tags.upsert_tags"),
    ],
)
def test_context_functions_that_write_are_flagged(line: str, flagged: str) -> None:
    source = migration(line, header="alias MyApp.Accounts")
    (finding,) = mg010(source)
    assert flagged_text(source, finding) == flagged
    assert "writes data through application code" in finding.message


def test_helpers_called_from_forward_code_are_checked() -> None:
    extra = (
        '\n  defp backfill, do: MyApp.Repo.update_all("posts", set: [status: "draft"])\n'
        '\n  defp unused, do: MyApp.Repo.delete_all("posts")\n'
    )
    source = migration("backfill()", extra=extra)
    assert texts(source) == ["MyApp.Repo.update_all"]


def test_down_is_not_checked() -> None:
    extra = '\n  def down do\n    Repo.delete_all("tags")\n    cleanup()\n  end\n' + (
        '\n  defp cleanup, do: Repo.delete_all("posts")\n'
    )
    assert mg010(migration("flush()", extra=extra)) == []


@pytest.mark.parametrize(
    "line",
    [
        'alter table(:posts) do\n  add :status, :string, default: "draft"\nend',
        "create index(:posts, [:status], concurrently: true)",
        "execute \"UPDATE posts SET status = 'draft' WHERE status IS NULL\"",
        "flush()",
        'execute(fragment("now()"))',
        "repo().query!(\"SET lock_timeout TO '5s'\")",
        'repo().query!("ALTER TABLE posts ADD COLUMN tag text")',
        "Ecto.Changeset.change(%{}, %{})",
        "Ecto.Migrator.with_repo(MyApp.Repo, fn _ -> :ok end)",
        'Logger.info("migrating posts")',
        'IO.puts("migrating")',
        'String.upcase("x")',
        "Enum.map([1, 2], &(&1 * 2))",
        "Map.update(%{}, :a, 1, & &1)",
        "Keyword.delete([a: 1], :a)",
        "repo().config()",
        "MyApp.Accounts.list_users()",
        "MyApp.Accounts.Policy.allowed?(:x)",
        ":ets.insert(:t, {1})",
        "MyApp.MigrationHelpers.create_updated_at_trigger(:posts)",
        "MyApp.Repo.Migrations.Shared.create_audit_table()",
    ],
)
def test_dsl_and_non_data_calls_are_not_flagged(line: str) -> None:
    assert mg010(migration(line)) == []


def test_data_migrations_directory_is_exempt() -> None:
    source = migration('repo().update_all("posts", set: [status: "draft"])')
    assert mg010(source, path="priv/repo/data_migrations/20240101000000_backfill.exs") == []
    assert len(mg010(source)) == 1


def test_other_adapters_are_flagged_too() -> None:
    source = migration('repo().update_all("posts", set: [status: "draft"])')
    for adapter in ("Ecto.Adapters.SQLite3", "Ecto.Adapters.MyXQL"):
        assert texts_with(source, adapter_facts(adapter)) == ["repo().update_all"]


def texts_with(source: str, facts: ProjectFacts) -> list[str]:
    """Flagged texts under ``facts``."""
    return [flagged_text(source, f) for f in mg010(source, facts=facts)]


def test_not_a_migration_module_is_not_checked() -> None:
    source = "defmodule MyApp.Seeds do\n  def run, do: MyApp.Repo.insert!(%MyApp.Tag{})\nend\n"
    assert mg010(source, path="lib/my_app/seeds.ex") == []


@pytest.mark.parametrize(
    "comment",
    [
        "# excellent_migrations:safety-assured-for-next-line operation_update",
        "# phxguard:disable-next-line MG010 -- tiny table",
    ],
)
def test_suppression(comment: str) -> None:
    source = migration(f'{comment}\nrepo().update_all("tags", set: [n: 0])')
    assert mg010(source) == []
