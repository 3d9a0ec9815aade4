"""MG006 column-type-change, MG009 volatile-default and MG012 json-column."""

from __future__ import annotations

import pytest

from analyzers.config import Config
from analyzers.model import Severity
from analyzers.registry import get_rule
from analyzers.rules.migrations.columns import PgType, called_functions, rewrites_table
from tests.elixir_parser import ElixirParser
from tests.ruletools import (
    adapter_facts,
    assert_fixed,
    assert_parses,
    flagged_text,
    migration,
    only,
)

SQLITE = "Ecto.Adapters.SQLite3"


def alter(statement: str, table: str = "posts") -> str:
    """``statement`` inside ``alter table(:table)`` in ``def change``."""
    return migration(f"alter table(:{table}) do\n  {statement}\nend")


# --- MG006: flagged -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "change"),
    [
        ("modify :views, :bigint, from: :integer", "from integer to bigint"),
        ("modify :body, :string, from: :text", "from text to varchar(255)"),
        ("modify :title, :string, size: 100, from: :string", "from varchar(255) to varchar(100)"),
        ("modify :status, :integer, from: {:string, null: true}", "from varchar(255) to integer"),
        (
            "modify :price, :decimal, precision: 10, scale: 4, "
            "from: {:decimal, precision: 10, scale: 2}",
            "from numeric(10,2) to numeric(10,4)",
        ),
        ("modify :payload, :map, from: :json", "from json to jsonb"),
        (
            "modify :seen_at, :utc_datetime, from: :utc_datetime_usec",
            "from timestamp to timestamp(0)",
        ),
        ("modify :views, :bigint", "to bigint"),
        ("modify(:views, :bigint)", "to bigint"),
        ("modify :title, :string", "to varchar(255)"),
    ],
)
def test_mg006_flags_type_changes_on_existing_tables(statement: str, change: str) -> None:
    source = alter(statement)
    findings = only("MG006", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert findings[0].severity is Severity.WARNING
    assert change in findings[0].message
    assert "`posts`" in findings[0].message
    assert findings[0].fixes == ()


def test_mg006_uses_an_earlier_add_in_the_file_as_evidence() -> None:
    source = migration(
        """
        alter table(:posts) do
          add :count, :integer
        end

        alter table(:posts) do
          modify :count, :bigint, null: false
        end
        """
    )
    findings = only("MG006", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == "modify :count, :bigint, null: false"
    assert "from integer to bigint" in findings[0].message


def test_mg006_earlier_add_of_another_table_is_not_evidence() -> None:
    source = migration(
        """
        alter table(:comments) do
          add :count, :integer
        end

        alter table(:posts) do
          modify :count, :bigint, null: false
        end
        """
    )
    assert only("MG006", source) == []


def test_mg006_flags_in_def_up() -> None:
    source = migration(
        "alter table(:posts) do\n  modify :views, :bigint, from: :integer\nend", definition="up"
    )
    assert len(only("MG006", source)) == 1


# --- MG006: not flagged -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        # only nullability or the default changes
        "modify :body, :string, null: false, from: {:string, null: true}",
        'modify :body, :text, default: "", from: :text',
        # same PostgreSQL type under two Ecto names
        "modify :author_id, :id, from: :integer",
        "modify :seen_at, :naive_datetime, from: :utc_datetime",
        # in-place widenings: no rewrite
        "modify :title, :text, from: :string",
        "modify :title, :text, from: {:string, size: 40, null: false}",
        "modify :title, :string, size: 500, from: :string",
        "modify :title, :string, size: 500, from: {:string, size: 100}",
        "modify :title, :string, from: {:string, size: 100}",
        "modify :price, :decimal, precision: 12, scale: 2, from: {:decimal, precision: 10, scale: 2}",
        "modify :price, :decimal, from: {:decimal, precision: 10, scale: 2}",
        "modify :seen_at, :utc_datetime_usec, from: :utc_datetime",
        # no evidence of a type change
        "modify :title, :string, null: false",
        "modify :title, :string, size: 500",
        "modify :title, :text",
        "modify :price, :decimal",
        # types that are not literal: cannot tell
        "modify :author_id, references(:users, on_delete: :delete_all), from: references(:users)",
        "modify :author_id, references(:users)",
        "modify :kind, @kind_type, from: :string",
    ],
)
def test_mg006_ignores_changes_that_do_not_rewrite(statement: str) -> None:
    assert only("MG006", alter(statement)) == []


def test_mg006_same_type_as_earlier_add_is_not_a_change() -> None:
    source = migration(
        """
        alter table(:posts) do
          add :count, :integer
        end

        alter table(:posts) do
          modify :count, :integer
        end
        """
    )
    assert only("MG006", source) == []


def test_mg006_ignores_tables_created_in_the_same_migration() -> None:
    source = migration(
        """
        create table(:posts) do
          add :views, :integer
        end

        alter table(:posts) do
          modify :views, :bigint, from: :integer
        end
        """
    )
    assert only("MG006", source) == []


def test_mg006_ignores_def_down() -> None:
    source = migration(
        "alter table(:posts) do\n  add :flag, :boolean\nend",
        definition="up",
        down="alter table(:posts) do\n  modify :views, :integer, from: :bigint\nend",
    )
    assert only("MG006", source) == []


def test_mg006_is_silent_on_other_adapters() -> None:
    source = alter("modify :views, :bigint, from: :integer")
    assert only("MG006", source, facts=adapter_facts(SQLITE)) == []
    assert len(only("MG006", source, facts=adapter_facts("Ecto.Adapters.Postgres"))) == 1


@pytest.mark.parametrize(
    "comment",
    [
        "# phxguard:disable-next-line MG006 -- table has 12 rows",
        "# excellent_migrations:safety-assured-for-next-line column_type_changed",
    ],
)
def test_mg006_can_be_suppressed(comment: str) -> None:
    source = alter(f"{comment}\n  modify :views, :bigint, from: :integer")
    assert only("MG006", source) == []


@pytest.mark.parametrize(
    ("old", "new", "rewrites"),
    [
        (PgType("varchar", length=255), PgType("text"), False),
        (PgType("varchar", length=255), PgType("varchar"), False),
        (PgType("varchar"), PgType("varchar", length=255), True),
        (PgType("text"), PgType("varchar", length=255), True),
        (PgType("numeric", precision=10, scale=2), PgType("numeric", precision=9, scale=2), True),
        (PgType("timestamp", precision=3), PgType("timestamp"), False),
        (PgType("timestamp"), PgType("timestamptz"), True),
        (PgType("integer"), PgType("bigint"), True),
        (
            PgType("array", element=PgType("integer")),
            PgType("array", element=PgType("bigint")),
            True,
        ),
    ],
)
def test_rewrites_table(old: PgType, new: PgType, rewrites: bool) -> None:
    assert rewrites_table(old, new) is rewrites


# --- MG009: flagged -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "function"),
    [
        ("gen_random_uuid()", "gen_random_uuid()"),
        ("GEN_RANDOM_UUID()", "gen_random_uuid()"),
        ("public.gen_random_uuid()", "gen_random_uuid()"),
        ("random()", "random()"),
        ("md5(random()::text)", "random()"),
        ("uuid_generate_v4()", "uuid_generate_v4()"),
        ("clock_timestamp()", "clock_timestamp()"),
        ("encode(gen_random_bytes(16), 'hex')", "gen_random_bytes()"),
        ("nextval('invoice_number_seq'::regclass)", "nextval()"),
        ("timeofday()", "timeofday()"),
    ],
)
def test_mg009_flags_volatile_defaults_on_existing_tables(sql: str, function: str) -> None:
    statement = f'add :token, :string, default: fragment("{sql}")'
    source = alter(statement)
    findings = only("MG009", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == statement
    assert findings[0].severity is Severity.WARNING
    assert function in findings[0].message
    assert findings[0].fixes == ()


def test_mg009_reports_once_with_null_false_and_no_mg003() -> None:
    source = alter('add :public_id, :uuid, null: false, default: fragment("gen_random_uuid()")')
    assert len(only("MG009", source)) == 1
    assert only("MG003", source) == []


@pytest.mark.parametrize("default", ["fragment(~s|gen_random_uuid()|)", 'fragment(~S"random()")'])
def test_mg009_reads_sql_in_string_sigils(default: str) -> None:
    assert len(only("MG009", alter(f"add :token, :uuid, default: {default}"))) == 1


def test_mg009_ignores_interpolated_sql() -> None:
    source = alter('add :token, :uuid, default: fragment("#{@uuid_function}()")')
    assert only("MG009", source) == []


def test_mg009_flags_add_if_not_exists_and_heredoc_sql() -> None:
    source = alter(
        'add_if_not_exists :public_id, :uuid, default: fragment("""\n  gen_random_uuid()\n  """)'
    )
    assert len(only("MG009", source)) == 1


@pytest.mark.parametrize(
    "default",
    [
        'fragment("now()")',
        'fragment("CURRENT_TIMESTAMP")',
        'fragment("transaction_timestamp()")',
        'fragment("statement_timestamp()")',
        "fragment(\"'random()'\")",
        'fragment("now() /* not random() */")',
        '"draft"',
        "0",
        "nil",
    ],
)
def test_mg009_ignores_stable_and_constant_defaults_on_pg11_plus(default: str) -> None:
    assert only("MG009", alter(f"add :value, :string, default: {default}")) == []


def test_mg009_ignores_tables_created_in_the_same_migration() -> None:
    source = migration(
        """
        create table(:tokens) do
          add :value, :uuid, default: fragment("gen_random_uuid()")
        end

        alter table(:tokens) do
          add :other, :uuid, default: fragment("gen_random_uuid()")
        end
        """
    )
    assert only("MG009", source) == []


def test_mg009_ignores_def_down_and_other_adapters() -> None:
    statement = 'add :token, :uuid, default: fragment("gen_random_uuid()")'
    down = migration(
        "alter table(:posts) do\n  add :x, :integer\nend",
        definition="up",
        down=f"alter table(:posts) do\n  {statement}\nend",
    )
    assert only("MG009", down) == []
    assert only("MG009", alter(statement), facts=adapter_facts(SQLITE)) == []


@pytest.mark.parametrize(
    "default", ['"draft"', "0", "false", 'fragment("now()")', 'fragment("CURRENT_TIMESTAMP")']
)
def test_mg009_flags_any_default_before_pg11(default: str) -> None:
    source = alter(f"add :value, :string, default: {default}")
    findings = only("MG009", source, config=Config(pg_version=10))
    assert len(findings) == 1
    assert "Before PostgreSQL 11" in findings[0].message
    assert only("MG009", source, config=Config(pg_version=11)) == []


def test_mg009_nil_default_is_fine_before_pg11() -> None:
    source = alter("add :value, :string, default: nil")
    assert only("MG009", source, config=Config(pg_version=10)) == []


def test_mg009_can_be_suppressed() -> None:
    source = alter(
        "# excellent_migrations:safety-assured-for-next-line column_volatile_default\n"
        '  add :token, :uuid, default: fragment("gen_random_uuid()")'
    )
    assert only("MG009", source) == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("lower(md5(random()::text))", ["lower", "md5", "random"]),
        ("'gen_random_uuid()' || now()", ["now"]),
        # not a lone expression: scanned without its literals and comments
        ("now() ) 'random()' -- clock_timestamp()", ["now"]),
        ("$$random()$$ ) timeofday()", ["timeofday"]),
    ],
)
def test_called_functions_skips_literals_and_comments(sql: str, expected: list[str]) -> None:
    assert called_functions(sql) == expected


# --- MG012 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "add :payload, :json",
        "add :payload, :json, null: false",
        "add_if_not_exists :payload, :json",
        "modify :payload, :json, from: :map",
        "add :payloads, {:array, :json}",
    ],
)
def test_mg012_flags_json_columns(statement: str) -> None:
    source = alter(statement)
    findings = only("MG012", source)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == ":json"
    assert findings[0].severity is Severity.WARNING
    assert findings[0].fixes[0].title == "Use :map (jsonb)"


def test_mg012_fix_replaces_json_with_map(elixir_parser: ElixirParser) -> None:
    assert_fixed(
        "MG012",
        alter("add :payload, :json, null: false"),
        alter("add :payload, :map, null: false"),
        elixir_parser,
    )


def test_mg012_fix_in_array_type(elixir_parser: ElixirParser) -> None:
    assert_fixed(
        "MG012",
        alter("add :events, {:array, :json}, default: []"),
        alter("add :events, {:array, :map}, default: []"),
        elixir_parser,
    )


def test_mg012_flags_and_fixes_new_tables_too(elixir_parser: ElixirParser) -> None:
    source = migration(
        """
        create table(:events) do
          add :name, :string
          add :payload, :json
          timestamps()
        end
        """
    )
    expected = migration(
        """
        create table(:events) do
          add :name, :string
          add :payload, :map
          timestamps()
        end
        """
    )
    assert_fixed("MG012", source, expected, elixir_parser)


@pytest.mark.parametrize(
    "statement",
    [
        "add :payload, :map",
        "add :payload, :jsonb",
        "add :payload, {:map, :string}",
        "modify :payload, :map, from: :json",
        "remove :payload, :json",
        "add :json, :string",
    ],
)
def test_mg012_ignores_other_types_and_old_types(statement: str) -> None:
    assert only("MG012", alter(statement)) == []


def test_mg012_ignores_def_down_and_other_adapters() -> None:
    down = migration(
        "alter table(:posts) do\n  modify :payload, :map, from: :json\nend",
        definition="up",
        down="alter table(:posts) do\n  modify :payload, :json, from: :map\nend",
    )
    assert only("MG012", down) == []
    assert only("MG012", alter("add :payload, :json"), facts=adapter_facts(SQLITE)) == []
    mysql = adapter_facts("Ecto.Adapters.MyXQL")
    assert only("MG012", alter("add :payload, :json"), facts=mysql) == []


def test_mg012_can_be_suppressed() -> None:
    source = alter(
        "# excellent_migrations:safety-assured-for-next-line json_column_added\n"
        "  add :payload, :json"
    )
    assert only("MG012", source) == []


@pytest.mark.parametrize("code", ["MG006", "MG009", "MG012"])
def test_safe_pattern_parses_and_passes_its_own_rule(
    code: str, elixir_parser: ElixirParser
) -> None:
    rule = get_rule(code)
    assert rule is not None
    pattern = rule.meta.safe_pattern.strip("\n") + "\n"
    assert_parses(pattern, elixir_parser)
    assert only(code, migration(pattern)) == []
