"""MG001 index-not-concurrent and MG002 concurrent-index-in-transaction."""

from __future__ import annotations

import pytest

from analyzers.edits import apply_edits, compatible_fixes
from analyzers.model import Severity
from tests.elixir_parser import ElixirParser
from tests.ruletools import (
    adapter_facts,
    advisory_lock_facts,
    assert_fixed,
    assert_parses,
    check,
    dedent,
    flagged_text,
    only,
)


def migration(body: str, attributes: str = "") -> str:
    """A migration module with ``body`` inside ``def change`` (both given unindented)."""
    inner = "\n".join(("    " + line) if line else "" for line in dedent(body).splitlines())
    attrs = "".join(f"  {line}\n" for line in dedent(attributes).splitlines())
    return (
        "defmodule MyApp.Repo.Migrations.Change do\n"
        "  use Ecto.Migration\n"
        f"{attrs}\n"
        "  def change do\n"
        f"{inner}\n"
        "  end\n"
        "end\n"
    )


# --- MG001: flagged -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "create index(:posts, [:user_id])",
        "create unique_index(:posts, [:slug])",
        "create_if_not_exists index(:posts, [:user_id])",
        "create index(:posts, [:user_id], concurrently: false)",
        'create index("posts", [:user_id], where: "deleted_at IS NULL")',
        "create(index(:posts, [:user_id]))",
    ],
)
def test_mg001_flags_index_builds_on_existing_tables(statement: str) -> None:
    source = migration(statement)
    findings = only("MG001", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert findings[0].severity is Severity.WARNING
    assert "`posts`" in findings[0].message
    assert "blocks writes" in findings[0].message
    assert findings[0].fixes[0].title == "Create index concurrently"


@pytest.mark.parametrize(
    "statement",
    ["drop index(:posts, [:user_id])", "drop_if_exists index(:posts, [:user_id])"],
)
def test_mg001_flags_index_drops_on_existing_tables(statement: str) -> None:
    source = migration(statement)
    [finding] = only("MG001", source)
    assert flagged_text(source, finding) == statement
    assert "Dropping an index" in finding.message
    assert finding.fixes[0].title == "Drop index concurrently"


def test_mg001_flags_in_def_up() -> None:
    source = dedent(
        """
        defmodule MyApp.Repo.Migrations.Up do
          use Ecto.Migration

          def up do
            create index(:posts, [:user_id])
          end

          def down do
            drop index(:posts, [:user_id])
          end
        end
        """
    )
    [finding] = only("MG001", source)
    assert flagged_text(source, finding) == "create index(:posts, [:user_id])"


def test_mg001_flags_piped_index_over_the_whole_pipeline() -> None:
    source = migration(":posts |> index([:user_id]) |> create()")
    [finding] = only("MG001", source)
    assert flagged_text(source, finding) == ":posts |> index([:user_id]) |> create()"


def test_mg001_flags_variable_bound_index() -> None:
    source = migration(
        """
        index = index(:posts, [:user_id], name: :posts_author_index)
        create index
        """
    )
    [finding] = only("MG001", source)
    assert flagged_text(source, finding) == "create index"


def test_mg001_flags_module_outside_migrations_dir_that_uses_ecto_migration() -> None:
    assert only("MG001", migration("create index(:posts, [:user_id])"), "lib/my_migration.ex")


# --- MG001: not flagged -------------------------------------------------------------------


def test_mg001_ignores_index_on_table_created_in_same_migration() -> None:
    source = migration(
        """
        create table(:posts) do
          add :user_id, :integer
        end

        create index(:posts, [:user_id])
        create_if_not_exists unique_index(:posts, [:slug])
        """
    )
    assert only("MG001", source) == []


def test_mg001_ignores_index_on_table_created_with_create_if_not_exists() -> None:
    source = migration(
        """
        create_if_not_exists table(:tags) do
          add :name, :string
        end

        create unique_index(:tags, [:name])
        """
    )
    assert only("MG001", source) == []


def test_mg001_ignores_prefixed_table_created_in_same_migration() -> None:
    source = migration(
        """
        create table(:posts, prefix: "blog") do
          add :user_id, :integer
        end

        create index(:posts, [:user_id], prefix: "blog")
        """
    )
    assert only("MG001", source) == []


def test_mg001_still_flags_same_name_in_another_prefix() -> None:
    source = migration(
        """
        create table(:posts, prefix: "blog") do
          add :user_id, :integer
        end

        create index(:posts, [:user_id])
        """
    )
    assert len(only("MG001", source)) == 1


def test_mg001_ignores_rollback_code() -> None:
    source = dedent(
        """
        defmodule MyApp.Repo.Migrations.Down do
          use Ecto.Migration

          def up do
            execute "SELECT 1"
          end

          def down do
            drop index(:posts, [:user_id])
            create index(:posts, [:old_id])
          end
        end
        """
    )
    assert only("MG001", source) == []


def test_mg001_ignores_concurrent_index_with_attributes() -> None:
    source = migration(
        "create index(:posts, [:user_id], concurrently: true)",
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert check(source) == []


def test_mg001_ignores_non_literal_concurrently() -> None:
    source = migration("create index(:posts, [:user_id], concurrently: @concurrently)")
    assert only("MG001", source) == []


@pytest.mark.parametrize("adapter", ["Ecto.Adapters.SQLite3", "Ecto.Adapters.MyXQL"])
def test_mg001_and_mg002_silent_on_other_adapters(adapter: str) -> None:
    facts = adapter_facts(adapter)
    assert only("MG001", migration("create index(:posts, [:user_id])"), facts=facts) == []
    concurrent = migration("create index(:posts, [:user_id], concurrently: true)")
    assert only("MG002", concurrent, facts=facts) == []


def test_mg001_ignores_other_ddl_and_remote_calls() -> None:
    source = migration(
        """
        create table(:comments) do
          add :body, :text
        end

        drop constraint(:posts, :posts_user_id_fkey)
        Other.create index(:posts, [:user_id])
        """
    )
    assert only("MG001", source) == []


def test_mg001_ignores_modules_that_are_not_migrations() -> None:
    source = dedent(
        """
        defmodule MyApp.Search do
          def create(index), do: index

          def change do
            create index(:posts, [:user_id])
          end

          defp index(table, cols), do: {table, cols}
        end
        """
    )
    assert only("MG001", source, "lib/my_app/search.ex") == []


# --- MG001: fixes -------------------------------------------------------------------------


def test_mg001_fix_adds_concurrently_and_both_attributes(elixir_parser: ElixirParser) -> None:
    source = migration("create index(:posts, [:user_id])")
    expected = migration(
        "create index(:posts, [:user_id], concurrently: true)",
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert_fixed("MG001", source, expected, elixir_parser)
    # The fixed file is clean for the whole index family.
    assert only("MG002", expected) == []


def test_mg001_fix_exact_layout(elixir_parser: ElixirParser) -> None:
    source = """
        defmodule MyApp.Repo.Migrations.AddIndex do
          use Ecto.Migration

          def change do
            create unique_index(:users, [:email])
          end
        end
        """
    expected = """
        defmodule MyApp.Repo.Migrations.AddIndex do
          use Ecto.Migration
          @disable_ddl_transaction true
          @disable_migration_lock true

          def change do
            create unique_index(:users, [:email], concurrently: true)
          end
        end
        """
    assert_fixed("MG001", source, expected, elixir_parser)


def test_mg001_fix_with_advisory_lock_adds_only_ddl_attribute(elixir_parser: ElixirParser) -> None:
    source = migration("create index(:posts, [:user_id])")
    expected = migration(
        "create index(:posts, [:user_id], concurrently: true)", "@disable_ddl_transaction true"
    )
    assert_fixed("MG001", source, expected, elixir_parser, facts=advisory_lock_facts())


def test_mg001_fix_keeps_attributes_already_present(elixir_parser: ElixirParser) -> None:
    source = migration("drop_if_exists index(:posts, [:user_id])", "@disable_ddl_transaction true")
    expected = migration(
        "drop_if_exists index(:posts, [:user_id], concurrently: true)",
        "@disable_migration_lock true\n@disable_ddl_transaction true",
    )
    assert_fixed("MG001", source, expected, elixir_parser)


def test_mg001_fix_turns_false_attribute_and_option_true(elixir_parser: ElixirParser) -> None:
    source = migration(
        "create index(:posts, [:user_id], concurrently: false)",
        "@disable_ddl_transaction false\n@disable_migration_lock true",
    )
    expected = migration(
        "create index(:posts, [:user_id], concurrently: true)",
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert_fixed("MG001", source, expected, elixir_parser)


def test_mg001_fix_piped_form(elixir_parser: ElixirParser) -> None:
    source = migration(":posts |> index([:user_id]) |> create()")
    expected = migration(
        ":posts |> index([:user_id], concurrently: true) |> create()",
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert_fixed("MG001", source, expected, elixir_parser)


def test_mg001_fix_variable_bound_index(elixir_parser: ElixirParser) -> None:
    source = migration(
        """
        idx = unique_index(:posts, [:slug], name: :posts_slug_index)
        create_if_not_exists idx
        """
    )
    expected = migration(
        """
        idx = unique_index(:posts, [:slug], name: :posts_slug_index, concurrently: true)
        create_if_not_exists idx
        """,
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert_fixed("MG001", source, expected, elixir_parser)


def test_mg001_fix_multiline_options(elixir_parser: ElixirParser) -> None:
    source = migration(
        """
        create index(:posts, [:user_id],
                 name: :posts_live_user_id_index,
                 where: "deleted_at IS NULL"
               )
        """
    )
    expected = migration(
        """
        create index(:posts, [:user_id],
                 name: :posts_live_user_id_index,
                 where: "deleted_at IS NULL",
                 concurrently: true
               )
        """,
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert_fixed("MG001", source, expected, elixir_parser)


def test_mg001_fix_without_use_line_inserts_before_first_statement(
    elixir_parser: ElixirParser,
) -> None:
    source = """
        defmodule MyApp.Repo.Migrations.Bare do
          def change do
            create index(:posts, [:user_id])
          end
        end
        """
    expected = """
        defmodule MyApp.Repo.Migrations.Bare do
          @disable_ddl_transaction true
          @disable_migration_lock true
          def change do
            create index(:posts, [:user_id], concurrently: true)
          end
        end
        """
    assert_fixed("MG001", source, expected, elixir_parser)


def test_mg001_fix_keeps_crlf_line_endings(elixir_parser: ElixirParser) -> None:
    source = migration("create index(:posts, [:user_id])").replace("\n", "\r\n")
    [finding] = only("MG001", source)
    result = apply_edits(source.encode(), finding.fixes[0].edits).decode()
    assert "\r\n  @disable_ddl_transaction true\r\n  @disable_migration_lock true\r\n" in result
    assert "\n" not in result.replace("\r\n", "")
    assert_parses(result, elixir_parser)


def _fix_all(source: str, **kwargs: object) -> str:
    findings = check(source, **kwargs)  # type: ignore[arg-type]
    fixes = compatible_fixes(findings)
    edits = [edit for fix in fixes for edit in fix.edits]
    return apply_edits(dedent(source).encode(), edits).decode()


def test_fix_all_two_unsafe_indexes_adds_attributes_once(elixir_parser: ElixirParser) -> None:
    source = migration(
        """
        create index(:posts, [:user_id])
        drop_if_exists unique_index(:comments, [:slug])
        """
    )
    expected = migration(
        """
        create index(:posts, [:user_id], concurrently: true)
        drop_if_exists unique_index(:comments, [:slug], concurrently: true)
        """,
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert len(only("MG001", source)) == 2
    result = _fix_all(source)
    assert result == expected
    assert_parses(result, elixir_parser)
    assert [f.code for f in check(result) if f.code in {"MG001", "MG002"}] == []


def test_fix_all_mg001_and_mg002_share_attribute_insertion(elixir_parser: ElixirParser) -> None:
    source = migration(
        """
        create index(:posts, [:user_id], concurrently: true)
        create index(:comments, [:post_id])
        """
    )
    expected = migration(
        """
        create index(:posts, [:user_id], concurrently: true)
        create index(:comments, [:post_id], concurrently: true)
        """,
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert sorted(f.code for f in check(source)) == ["MG001", "MG002"]
    result = _fix_all(source)
    assert result == expected
    assert_parses(result, elixir_parser)
    assert check(result) == []


# --- MG002 --------------------------------------------------------------------------------


def test_mg002_error_without_ddl_transaction_attribute() -> None:
    source = migration("create index(:posts, [:user_id], concurrently: true)")
    [finding] = only("MG002", source)
    assert finding.severity is Severity.ERROR
    assert "@disable_ddl_transaction true" in finding.message
    assert "@disable_migration_lock true" in finding.message
    assert flagged_text(source, finding) == "create index(:posts, [:user_id], concurrently: true)"
    assert only("MG001", source) == []


def test_mg002_warning_when_only_migration_lock_missing() -> None:
    source = migration(
        "create index(:posts, [:user_id], concurrently: true)", "@disable_ddl_transaction true"
    )
    [finding] = only("MG002", source)
    assert finding.severity is Severity.WARNING
    assert "@disable_migration_lock true" in finding.message
    assert "@disable_ddl_transaction" not in finding.message


def test_mg002_not_flagged_for_missing_lock_attribute_with_advisory_lock() -> None:
    source = migration(
        "create index(:posts, [:user_id], concurrently: true)", "@disable_ddl_transaction true"
    )
    assert only("MG002", source, facts=advisory_lock_facts()) == []


def test_mg002_error_with_advisory_lock_names_only_ddl_attribute(
    elixir_parser: ElixirParser,
) -> None:
    source = migration("create index(:posts, [:user_id], concurrently: true)")
    [finding] = only("MG002", source, facts=advisory_lock_facts())
    assert finding.severity is Severity.ERROR
    assert "migration_lock" not in finding.message
    expected = migration(
        "create index(:posts, [:user_id], concurrently: true)", "@disable_ddl_transaction true"
    )
    assert_fixed("MG002", source, expected, elixir_parser, facts=advisory_lock_facts())


def test_mg002_flags_concurrent_index_even_on_new_table() -> None:
    # Postgres refuses CONCURRENTLY in a transaction whatever the table's age.
    source = migration(
        """
        create table(:tags) do
          add :name, :string
        end

        create unique_index(:tags, [:name], concurrently: true)
        """
    )
    assert len(only("MG002", source)) == 1


def test_mg002_one_finding_per_index_statement() -> None:
    source = migration(
        """
        create index(:posts, [:user_id], concurrently: true)
        drop_if_exists index(:posts, [:old_id], concurrently: true)
        """
    )
    assert len(only("MG002", source)) == 2


def test_mg002_fix_adds_both_attributes(elixir_parser: ElixirParser) -> None:
    source = migration("drop index(:posts, [:user_id], concurrently: true)")
    expected = migration(
        "drop index(:posts, [:user_id], concurrently: true)",
        "@disable_ddl_transaction true\n@disable_migration_lock true",
    )
    assert_fixed("MG002", source, expected, elixir_parser)


def test_mg002_fix_adds_only_lock_attribute(elixir_parser: ElixirParser) -> None:
    source = migration(
        "create index(:posts, [:user_id], concurrently: true)", "@disable_ddl_transaction true"
    )
    expected = migration(
        "create index(:posts, [:user_id], concurrently: true)",
        "@disable_migration_lock true\n@disable_ddl_transaction true",
    )
    assert_fixed("MG002", source, expected, elixir_parser)


def test_mg002_piped_and_bound_forms() -> None:
    source = migration(
        """
        :posts |> index([:a], concurrently: true) |> create()
        idx = index(:posts, [:b], concurrently: true)
        create idx
        """
    )
    assert len(only("MG002", source)) == 2


def test_mg002_ignores_rollback_code() -> None:
    source = dedent(
        """
        defmodule MyApp.Repo.Migrations.Down do
          use Ecto.Migration

          def up, do: :ok

          def down do
            drop index(:posts, [:user_id], concurrently: true)
          end
        end
        """
    )
    assert only("MG002", source) == []


# --- suppressions -------------------------------------------------------------------------


def test_excellent_migrations_alias_silences_mg001() -> None:
    source = migration(
        """
        # excellent_migrations:safety-assured-for-next-line index_not_concurrently
        create index(:posts, [:user_id])
        create index(:posts, [:author_id])
        """
    )
    [finding] = only("MG001", source)
    assert "author_id" in flagged_text(source, finding)


def test_excellent_migrations_file_alias_silences_mg002() -> None:
    source = (
        "# excellent_migrations:safety-assured-for-this-file "
        + ("index_concurrently_without_disable_ddl_transaction\n")
        + migration("create index(:posts, [:user_id], concurrently: true)")
    )
    assert only("MG002", source) == []


def test_phxguard_disable_next_line_silences_mg001() -> None:
    source = migration(
        """
        # phxguard:disable-next-line MG001 -- table has 10 rows
        create index(:posts, [:user_id])
        """
    )
    assert only("MG001", source) == []
