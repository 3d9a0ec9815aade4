"""MG007 rename, MG008 remove-column and MG013 irreversible-change."""

from __future__ import annotations

import pytest

from analyzers.model import Severity
from analyzers.registry import get_rule
from tests.elixir_parser import ElixirParser
from tests.ruletools import adapter_facts, assert_parses, flagged_text, migration, only

SQLITE = "Ecto.Adapters.SQLite3"


def alter(statement: str, table: str = "posts", definition: str = "change") -> str:
    """``statement`` inside ``alter table(:table)`` in ``def <definition>``."""
    return migration(f"alter table(:{table}) do\n  {statement}\nend", definition=definition)


def up_down(up: str, down: str) -> str:
    """A migration with explicit ``up`` and ``down``."""
    return migration(up, definition="up", down=down)


# --- MG007 --------------------------------------------------------------------------------------


def test_mg007_flags_table_rename() -> None:
    statement = "rename table(:posts), to: table(:articles)"
    source = migration(statement)
    findings = only("MG007", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert findings[0].severity is Severity.WARNING
    assert "`posts`" in findings[0].message and "`articles`" in findings[0].message
    assert findings[0].fixes == ()


@pytest.mark.parametrize(
    "statement",
    [
        "rename table(:posts), :title, to: :headline",
        "rename(table(:posts), :title, to: :headline)",
        "table(:posts) |> rename(:title, to: :headline)",
    ],
)
def test_mg007_flags_column_rename_and_suggests_source(statement: str) -> None:
    source = migration(statement)
    findings = only("MG007", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert "`field :headline, source: :title`" in findings[0].message


def test_mg007_applies_to_every_adapter_and_def_up() -> None:
    source = migration("rename table(:posts), :title, to: :headline", definition="up")
    assert len(only("MG007", source, facts=adapter_facts(SQLITE))) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "rename index(:posts, [:title]), to: :posts_headline_index",
        'rename index(:posts, [:title], name: "old"), to: "new"',
    ],
)
def test_mg007_ignores_index_renames(statement: str) -> None:
    assert only("MG007", migration(statement)) == []


def test_mg007_ignores_tables_created_in_the_same_migration() -> None:
    source = migration(
        """
        create table(:drafts) do
          add :title, :string
        end

        rename table(:drafts), :title, to: :headline
        rename table(:drafts), to: table(:posts)
        """
    )
    assert only("MG007", source) == []


def test_mg007_ignores_def_down() -> None:
    source = up_down(
        "rename table(:posts), :headline, to: :title",
        "rename table(:posts), :title, to: :headline",
    )
    findings = only("MG007", source)
    assert len(findings) == 1
    assert findings[0].start < source.index("def down")
    assert "Renaming column `headline`" in findings[0].message


@pytest.mark.parametrize(
    "comment",
    [
        "# phxguard:disable-next-line MG007 -- no code reads this column yet",
        "# excellent_migrations:safety-assured-for-next-line column_renamed",
    ],
)
def test_mg007_can_be_suppressed(comment: str) -> None:
    source = migration(f"{comment}\nrename table(:posts), :title, to: :headline")
    assert only("MG007", source) == []


# --- MG008 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "remove :legacy_token",
        "remove :legacy_token, :string",
        'remove :legacy_token, :string, default: ""',
        "remove_if_exists :legacy_token, :string",
        "remove_if_exists :legacy_token",
    ],
)
def test_mg008_flags_column_removal(statement: str) -> None:
    source = alter(statement)
    findings = only("MG008", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert findings[0].severity is Severity.WARNING
    assert "`legacy_token`" in findings[0].message and "`posts`" in findings[0].message
    assert "schema" in findings[0].message


@pytest.mark.parametrize(
    "statement",
    [
        "drop table(:legacy_events)",
        "drop table(:legacy_events), mode: :cascade",
        "drop_if_exists table(:legacy_events)",
        'drop table("legacy_events", prefix: "audit")',
        "table(:legacy_events) |> drop()",
    ],
)
def test_mg008_flags_table_drops(statement: str) -> None:
    source = migration(statement, definition="up", down="create table(:legacy_events)")
    findings = only("MG008", source)
    assert len(findings) == 1
    assert "legacy_events" in findings[0].message
    assert flagged_text(source, findings[0]) == statement


def test_mg008_applies_to_every_adapter() -> None:
    assert (
        len(only("MG008", alter("remove :legacy_token, :string"), facts=adapter_facts(SQLITE))) == 1
    )


@pytest.mark.parametrize(
    "statement",
    [
        "drop index(:posts, [:title])",
        "drop_if_exists index(:posts, [:title])",
        "drop constraint(:posts, :title_length)",
        "drop_if_exists constraint(:posts, :title_length)",
    ],
)
def test_mg008_ignores_index_and_constraint_drops(statement: str) -> None:
    assert only("MG008", up_down(statement, "create index(:posts, [:title])")) == []


def test_mg008_ignores_def_down() -> None:
    source = up_down(
        "alter table(:posts) do\n  add :legacy_token, :string\nend",
        "alter table(:posts) do\n  remove :legacy_token\nend\ndrop table(:posts)",
    )
    assert only("MG008", source) == []


def test_mg008_ignores_tables_created_in_the_same_migration() -> None:
    source = migration(
        """
        create table(:imports) do
          add :raw, :text
        end

        alter table(:imports) do
          remove :raw, :text
        end

        drop table(:imports)
        """
    )
    assert only("MG008", source) == []


@pytest.mark.parametrize(
    "comment",
    [
        "# phxguard:disable-next-line MG008 -- field removed from the schema in v1.4",
        "# phxguard:disable-next-line MG008, MG013",
        "# excellent_migrations:safety-assured-for-next-line column_removed",
    ],
)
def test_mg008_can_be_suppressed(comment: str) -> None:
    source = alter(f"{comment}\n  remove :legacy_token, :string")
    assert only("MG008", source) == []


def test_mg008_file_wide_excellent_migrations_annotation() -> None:
    source = "# excellent_migrations:safety-assured-for-this-file table_dropped\n" + migration(
        "drop table(:legacy_events)", definition="up", down="create table(:legacy_events)"
    )
    assert only("MG008", source) == []


# --- MG013: flagged -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "hint"),
    [
        ('execute "CREATE EXTENSION citext"', "second argument"),
        ('execute("UPDATE posts SET views = 0 WHERE views IS NULL")', "second argument"),
        ('execute(fn -> repo().query!("SELECT 1") end)', "second argument"),
        ('"CREATE EXTENSION citext" |> execute()', "second argument"),
        ('execute_file "priv/repo/sql/functions.sql"', "second argument"),
        ("drop constraint(:posts, :title_length)", "constraint"),
        ('drop constraint(:posts, :title_length, check: "length(title) < 200")', "constraint"),
        ("drop_if_exists constraint(:posts, :title_length)", "constraint"),
        ("drop index(:posts, [], name: :posts_title_index)", "columns"),
        ("drop_if_exists index(:posts, name: :posts_title_index)", "columns"),
        ("drop table(:legacy_events)", "table"),
        ("drop_if_exists table(:legacy_events)", "table"),
    ],
)
def test_mg013_flags_irreversible_commands_in_change(statement: str, hint: str) -> None:
    source = migration(statement)
    findings = only("MG013", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert findings[0].severity is Severity.WARNING
    assert hint in findings[0].message


@pytest.mark.parametrize(
    ("statement", "hint"),
    [
        ("remove :legacy_token", "remove/3"),
        ("remove(:legacy_token)", "remove/3"),
        ("modify :title, :text", "from:"),
        ("modify :title, :string, null: false", "from:"),
        ("remove_if_exists :legacy_token, :string", "`up` and `down`"),
        ("add_if_not_exists :slug, :string", "`up` and `down`"),
    ],
)
def test_mg013_flags_irreversible_alter_subcommands(statement: str, hint: str) -> None:
    source = alter(statement)
    findings = only("MG013", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert hint in findings[0].message


def test_mg013_flags_an_index_without_columns_bound_to_a_variable() -> None:
    source = migration(
        """
        index = index(:posts, [], name: :posts_title_index)
        drop index
        """
    )
    assert [flagged_text(source, f) for f in only("MG013", source)] == ["drop index"]


def test_mg013_applies_to_tables_created_in_the_same_migration() -> None:
    source = migration(
        """
        create table(:imports) do
          add :raw, :text
        end

        alter table(:imports) do
          remove :raw
        end
        """
    )
    assert len(only("MG013", source)) == 1


# --- MG013: not flagged -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        'execute "CREATE EXTENSION citext", "DROP EXTENSION citext"',
        'execute("CREATE EXTENSION citext", "DROP EXTENSION citext")',
        "execute(&create_function/0, &drop_function/0)",
        'execute_file "up.sql", "down.sql"',
        "drop index(:posts, [:title])",
        "drop index(:posts, :title)",
        "drop_if_exists index(:posts, [:title], name: :posts_title_index)",
        ":posts |> index([:title]) |> drop()",
        'create constraint(:posts, :title_length, check: "length(title) < 200")',
        "rename table(:posts), :title, to: :headline",
        "create index(:posts, [:title])",
        "flush()",
    ],
)
def test_mg013_ignores_reversible_commands(statement: str) -> None:
    assert only("MG013", migration(statement)) == []


@pytest.mark.parametrize(
    "statement",
    [
        "remove :legacy_token, :string",
        'remove :legacy_token, :string, default: ""',
        "modify :title, :text, from: :string",
        "modify :body, :string, null: false, from: {:string, null: true}",
        "add :slug, :string",
        "timestamps()",
    ],
)
def test_mg013_ignores_reversible_alter_subcommands(statement: str) -> None:
    assert only("MG013", alter(statement)) == []


def test_mg013_ignores_create_table_blocks() -> None:
    source = migration("create table(:imports) do\n  add_if_not_exists :raw, :text\nend")
    assert only("MG013", source) == []


@pytest.mark.parametrize(
    "statement",
    [
        'execute "CREATE EXTENSION citext"',
        "drop constraint(:posts, :title_length)",
        "drop table(:legacy_events)",
        "alter table(:posts) do\n  remove :legacy_token\n  modify :title, :text\nend",
    ],
)
def test_mg013_ignores_up_and_down(statement: str) -> None:
    assert only("MG013", up_down(statement, statement)) == []


def test_mg013_can_be_suppressed() -> None:
    source = migration(
        "# phxguard:disable-next-line MG013 -- never rolled back in production\n"
        'execute "CREATE EXTENSION citext"'
    )
    assert only("MG013", source) == []


@pytest.mark.parametrize("code", ["MG007", "MG008", "MG013"])
def test_safe_pattern_parses(code: str, elixir_parser: ElixirParser) -> None:
    rule = get_rule(code)
    assert rule is not None
    assert_parses(rule.meta.safe_pattern.strip("\n") + "\n", elixir_parser)


def test_mg013_safe_pattern_change_is_reversible() -> None:
    rule = get_rule("MG013")
    assert rule is not None
    source = (
        "defmodule MyApp.Repo.Migrations.Change do\n  use Ecto.Migration\n"
        + rule.meta.safe_pattern
        + "end\n"
    )
    assert only("MG013", source) == []
