"""MG011 unsafe-sql: raw SQL in ``execute`` held to the DSL rules."""

from __future__ import annotations

import pytest

from analyzers.model import Finding, Severity
from analyzers.project import ProjectFacts
from tests.elixir_parser import ElixirParser
from tests.ruletools import (
    MIGRATION_PATH,
    adapter_facts,
    advisory_lock_facts,
    assert_fixed,
    flagged_text,
    only,
)


def migration(up: str, *, attributes: str = "", kind: str = "up") -> str:
    """A migration module whose ``def up`` (or ``change``) body is ``up`` (4-space indented)."""
    body = "\n".join(f"    {line}" if line else "" for line in up.strip("\n").split("\n"))
    attrs = "".join(f"  {a}\n" for a in attributes.split("\n") if a)
    return (
        "defmodule MyApp.Repo.Migrations.Change do\n"
        "  use Ecto.Migration\n"
        f"{attrs}\n"
        f"  def {kind} do\n{body}\n  end\n"
        "end\n"
    )


def mg011(
    source: str, *, path: str = MIGRATION_PATH, facts: ProjectFacts | None = None
) -> list[Finding]:
    """MG011 findings of ``source``."""
    return only("MG011", source, path, facts=facts)


def texts(source: str) -> list[str]:
    """The source text each MG011 finding points at."""
    return [flagged_text(source, f) for f in mg011(source)]


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("CREATE INDEX posts_title_index ON posts (title)", "MG001"),
        ("CREATE UNIQUE INDEX posts_slug_index ON posts (slug)", "MG001"),
        ("DROP INDEX posts_title_index", "MG001"),
        ("REINDEX TABLE posts", "MG001"),
        ("REINDEX INDEX posts_title_index", "MG001"),
        (
            "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id)",
            "MG004",
        ),
        ("ALTER TABLE posts ADD CONSTRAINT positive CHECK (votes >= 0)", "MG005"),
        ("ALTER TABLE posts ADD CONSTRAINT posts_slug_key UNIQUE (slug)", "MG001"),
        ("ALTER TABLE posts ADD PRIMARY KEY (id)", "MG001"),
        ("ALTER TABLE posts ALTER COLUMN title SET NOT NULL", "MG003"),
        ("ALTER TABLE posts ALTER COLUMN votes TYPE bigint", "MG006"),
        ("ALTER TABLE posts RENAME TO articles", "MG007"),
        ("ALTER TABLE posts RENAME COLUMN title TO headline", "MG007"),
        ("ALTER TABLE posts DROP COLUMN title", "MG008"),
        ("DROP TABLE posts", "MG008"),
        ("UPDATE posts SET status = 'draft'", "MG010"),
        ("DELETE FROM posts", "MG010"),
        ("ALTER TABLE posts ADD COLUMN user_id bigint REFERENCES users (id)", "MG004"),
        ("ALTER TABLE posts ADD COLUMN token uuid DEFAULT gen_random_uuid()", "MG009"),
        ("ALTER TABLE posts ADD COLUMN n bigserial", "MG009"),
        ("ALTER TABLE posts ADD COLUMN title text NOT NULL", "MG003"),
        ("ALTER TABLE posts ADD COLUMN slug text UNIQUE", "MG001"),
        ("ALTER TABLE posts ADD COLUMN votes int CHECK (votes >= 0)", "MG005"),
        ("CLUSTER posts USING posts_pkey", "MG006"),
    ],
)
def test_unsafe_statement_is_flagged_with_its_dsl_rule(sql: str, rule: str) -> None:
    source = migration(f'execute "{sql}"')
    (finding,) = mg011(source)
    assert flagged_text(source, finding) == sql
    assert finding.message.endswith(f"(as {rule})"), finding.message
    assert finding.severity is Severity.WARNING
    assert not finding.fixes


def test_message_names_statement_and_table() -> None:
    (finding,) = mg011(migration('execute "CREATE INDEX posts_title_index ON posts (title)"'))
    assert finding.message == (
        "CREATE INDEX without CONCURRENTLY on existing table posts blocks writes for the whole "
        "build (as MG001)"
    )


def test_lock_table_and_vacuum_full() -> None:
    source = migration(
        'execute "LOCK TABLE posts IN ACCESS EXCLUSIVE MODE"\nexecute "VACUUM FULL posts"',
        attributes="@disable_ddl_transaction true",
    )
    found = mg011(source)
    assert [flagged_text(source, f) for f in found] == [
        "LOCK TABLE posts IN ACCESS EXCLUSIVE MODE",
        "VACUUM FULL posts",
    ]
    assert "LOCK TABLE on existing table posts holds an explicit lock" in found[0].message
    assert (
        found[1].message
        == "VACUUM FULL rewrites table posts under an ACCESS EXCLUSIVE lock (as MG006)"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX CONCURRENTLY posts_title_index ON posts (title)",
        "DROP INDEX CONCURRENTLY IF EXISTS posts_title_index",
        "REINDEX INDEX CONCURRENTLY posts_title_index",
        "ALTER TABLE posts VALIDATE CONSTRAINT posts_user_fk",
        "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
        "ALTER TABLE posts ADD CONSTRAINT votes_positive CHECK (votes >= 0) NOT VALID",
        "ALTER TABLE posts ADD CONSTRAINT posts_slug_key UNIQUE USING INDEX posts_slug_index",
        "ALTER TABLE posts ALTER COLUMN status SET DEFAULT 'draft'",
        "ALTER TABLE posts ALTER COLUMN status DROP NOT NULL",
        "ALTER TABLE posts ADD COLUMN subtitle text",
        "ALTER TABLE posts ADD COLUMN published_at timestamptz DEFAULT now()",
        "ALTER TABLE posts ADD COLUMN status text NOT NULL DEFAULT 'draft'",
        "ALTER TABLE posts DROP CONSTRAINT posts_user_fk",
        "CREATE EXTENSION IF NOT EXISTS citext",
        "COMMENT ON TABLE posts IS 'Blog posts'",
        "GRANT SELECT ON posts TO reporting",
        "UPDATE posts SET status = 'draft' WHERE status IS NULL",
        "DELETE FROM posts WHERE id = 1",
        "INSERT INTO settings (key) VALUES ('DROP TABLE posts')",
        "ANALYZE posts",
        "SELECT 1",
    ],
)
def test_safe_statement_is_not_flagged(sql: str) -> None:
    attrs = "@disable_ddl_transaction true\n@disable_migration_lock true"
    assert mg011(migration(f'execute "{sql}"', attributes=attrs)) == []


def test_functions_and_triggers_are_not_flagged() -> None:
    source = migration(
        '''
execute """
CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  UPDATE counters SET n = n + 1;
  NEW.updated_at = now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
execute "CREATE TRIGGER touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch()"
'''
    )
    assert mg011(source) == []


def test_heredoc_statements_are_flagged_one_by_one_at_their_own_bytes() -> None:
    source = migration(
        '''
execute """
-- CREATE INDEX commented_out ON posts (title);
ALTER TABLE posts ADD COLUMN subtitle text;
CREATE INDEX posts_subtitle_index ON posts (subtitle);
/* DROP TABLE posts; */
ALTER TABLE posts DROP COLUMN legacy;
"""
'''
    )
    assert texts(source) == [
        "CREATE INDEX posts_subtitle_index ON posts (subtitle)",
        "ALTER TABLE posts DROP COLUMN legacy",
    ]


def test_escapes_keep_narrowed_ranges_aligned() -> None:
    source = migration(r'execute "COMMENT ON TABLE posts IS \'say \"hi\"\'; DROP TABLE \"Posts\""')
    assert texts(source) == [r"DROP TABLE \"Posts\""]


def test_sigils_and_concatenation_are_read() -> None:
    source = migration(
        "execute ~S(CREATE INDEX a ON posts (x\\))\n"
        'execute ~s"DROP TABLE #{"comments"}"\n'
        'execute ~S"""\nDROP TABLE tags\n"""\n'
        'execute "ALTER TABLE posts " <> "DROP COLUMN title"'
    )
    found = mg011(source)
    assert [f.message.rsplit("(as ", 1)[1] for f in found] == [
        "MG001)",
        "MG008)",
        "MG008)",
        "MG008)",
    ]
    assert texts(source) == [
        "CREATE INDEX a ON posts (x\\)",
        'DROP TABLE #{"comments"}',
        "DROP TABLE tags",
        'ALTER TABLE posts " <> "DROP COLUMN title',
    ]


def test_module_attribute_and_variable_resolve_to_literals() -> None:
    source = (
        "defmodule MyApp.Repo.Migrations.Change do\n"
        "  use Ecto.Migration\n"
        '  @table "posts"\n'
        '  @index_sql "CREATE INDEX posts_a_index ON posts (a)"\n\n'
        "  def up do\n"
        "    execute @index_sql\n"
        '    execute "ALTER TABLE #{@table} DROP COLUMN b"\n'
        '    sql = "DROP TABLE #{:comments}"\n'
        "    execute(sql)\n"
        "    execute(drop_users())\n"
        "    execute drop_users\n"
        "  end\n\n"
        '  defp drop_users, do: "DROP TABLE users"\n'
        "end\n"
    )
    found = mg011(source)
    assert [flagged_text(source, f) for f in found] == [
        "@index_sql",
        "ALTER TABLE #{@table} DROP COLUMN b",
        "sql",
        "drop_users()",
        "drop_users",
    ]
    assert "posts.b" in found[1].message
    assert "DROP TABLE comments" in found[2].message
    assert all(f.severity is Severity.WARNING for f in found)


@pytest.mark.parametrize(
    ("line", "unreadable"),
    [
        ('execute "CREATE INDEX ON #{table} (a)"', "#{table}"),
        ('execute "DROP TABLE #{name()}"', "#{name()}"),
        ("execute(sql)", "sql"),
        ('execute("ALTER TABLE posts " <> column_sql(:title))', "column_sql(:title)"),
        ('execute(File.read!("priv/sql/up.sql"))', 'File.read!("priv/sql/up.sql")'),
    ],
)
def test_sql_built_at_run_time_is_one_info_finding(line: str, unreadable: str) -> None:
    source = migration(line)
    (finding,) = mg011(source)
    assert flagged_text(source, finding) == unreadable
    assert finding.severity is Severity.INFO
    assert "cannot be checked" in finding.message


def test_execute_with_a_function_or_keywords_is_not_sql() -> None:
    source = migration(
        'execute(fn -> repo().query!("SELECT 1") end)\nexecute(&backfill/0)\nexecute [ok: 1]'
    )
    assert mg011(source) == []


def test_unparsable_sql_is_not_flagged() -> None:
    assert mg011(migration('execute "CREATE INDEX ON; DROP TABLE posts"')) == []


def test_execute_2_in_change_checks_the_up_sql() -> None:
    source = migration(
        'execute "ALTER TABLE posts RENAME COLUMN a TO b", "ALTER TABLE posts RENAME COLUMN b TO a"\n'
        'execute("CREATE EXTENSION citext", "DROP TABLE posts")',
        kind="change",
    )
    assert texts(source) == ["ALTER TABLE posts RENAME COLUMN a TO b"]


def test_down_is_not_checked() -> None:
    source = migration('execute "CREATE EXTENSION citext"').replace(
        "end\nend\n",
        'end\n\n  def down do\n    execute "DROP TABLE posts"\n  end\nend\n',
    )
    assert "def down" in source
    assert mg011(source) == []


def test_tables_created_in_the_same_module_are_new() -> None:
    source = migration(
        """
create table(:comments) do
  add :body, :text
end
execute "CREATE TABLE tags (id bigint PRIMARY KEY, name text)"
execute "CREATE INDEX comments_body_index ON comments (body)"
execute "CREATE INDEX tags_name_index ON public.tags (name)"
execute "ALTER TABLE tags ADD CONSTRAINT tags_name_key UNIQUE (name)"
execute "ALTER TABLE comments ALTER COLUMN body SET NOT NULL"
execute "DROP INDEX tags_name_index"
execute "CREATE INDEX posts_a_index ON posts (a)"
"""
    )
    assert texts(source) == ["CREATE INDEX posts_a_index ON posts (a)"]


def test_set_not_null_after_validated_check_is_safe() -> None:
    source = migration(
        """
execute "ALTER TABLE posts ADD CONSTRAINT title_nn CHECK (title IS NOT NULL) NOT VALID"
execute "ALTER TABLE posts ALTER COLUMN title SET NOT NULL"
execute "ALTER TABLE posts VALIDATE CONSTRAINT title_nn"
execute "ALTER TABLE posts ALTER COLUMN title SET NOT NULL"
execute "ALTER TABLE posts ALTER COLUMN body SET NOT NULL"
"""
    )
    found = mg011(source)
    assert [flagged_text(source, f) for f in found] == [
        "ALTER TABLE posts ALTER COLUMN title SET NOT NULL",
        "ALTER TABLE posts ALTER COLUMN body SET NOT NULL",
    ]
    assert found[0].start < source.index("VALIDATE")


def test_set_not_null_after_validating_a_constraint_from_an_earlier_migration() -> None:
    source = migration(
        """
execute "ALTER TABLE posts VALIDATE CONSTRAINT posts_title_not_null"
execute "ALTER TABLE posts ALTER COLUMN title SET NOT NULL"
"""
    )
    assert mg011(source) == []


def test_set_not_null_after_dsl_check_constraint() -> None:
    source = migration(
        """
create constraint(:posts, :title_present, check: "title IS NOT NULL", validate: false)
execute "ALTER TABLE posts VALIDATE CONSTRAINT title_present"
execute "ALTER TABLE posts ALTER COLUMN title SET NOT NULL"
"""
    )
    assert mg011(source) == []


def test_concurrently_needs_disable_ddl_transaction(elixir_parser: ElixirParser) -> None:
    source = migration('execute "CREATE INDEX CONCURRENTLY posts_a_index ON posts (a)"')
    (finding,) = mg011(source)
    assert finding.severity is Severity.ERROR
    assert "@disable_ddl_transaction true (as MG002)" in finding.message
    assert "@disable_migration_lock true" in finding.message
    assert_fixed(
        "MG011",
        source,
        """
        defmodule MyApp.Repo.Migrations.Change do
          use Ecto.Migration
          @disable_ddl_transaction true
          @disable_migration_lock true

          def up do
            execute "CREATE INDEX CONCURRENTLY posts_a_index ON posts (a)"
          end
        end
        """,
        elixir_parser,
    )


def test_concurrently_with_advisory_lock_needs_only_ddl_transaction(
    elixir_parser: ElixirParser,
) -> None:
    source = migration('execute "DROP INDEX CONCURRENTLY posts_a_index"')
    facts = advisory_lock_facts()
    (finding,) = mg011(source, facts=facts)
    assert "@disable_migration_lock" not in finding.message
    assert finding.fixes[0].title == "Add @disable_ddl_transaction true"
    assert_fixed(
        "MG011",
        source,
        """
        defmodule MyApp.Repo.Migrations.Change do
          use Ecto.Migration
          @disable_ddl_transaction true

          def up do
            execute "DROP INDEX CONCURRENTLY posts_a_index"
          end
        end
        """,
        elixir_parser,
        facts=facts,
    )


def test_missing_migration_lock_alone_is_a_warning() -> None:
    source = migration(
        'execute "CREATE INDEX CONCURRENTLY posts_a_index ON posts (a)"',
        attributes="@disable_ddl_transaction true",
    )
    (finding,) = mg011(source)
    assert finding.severity is Severity.WARNING
    assert finding.fixes[0].title == "Add @disable_migration_lock true"


def test_vacuum_inside_transaction_is_an_error() -> None:
    (finding,) = mg011(migration('execute "VACUUM ANALYZE posts"'))
    assert finding.severity is Severity.ERROR
    assert finding.message.startswith("VACUUM cannot run inside the migration's transaction")


def test_silent_for_other_adapters() -> None:
    source = migration('execute "DROP TABLE posts"')
    assert mg011(source, facts=adapter_facts("Ecto.Adapters.SQLite3")) == []
    assert mg011(source, facts=adapter_facts("Ecto.Adapters.MyXQL")) == []
    assert len(mg011(source, facts=adapter_facts("Ecto.Adapters.Postgres"))) == 1


def test_backfill_in_data_migration_directory_is_not_flagged() -> None:
    source = migration("execute \"UPDATE posts SET status = 'draft'\"")
    assert mg011(source, path="priv/repo/data_migrations/20240101000000_backfill.exs") == []


@pytest.mark.parametrize(
    "comment",
    [
        "# excellent_migrations:safety-assured-for-next-line raw_sql_executed",
        "# phxguard:disable-next-line MG011 -- reviewed",
    ],
)
def test_suppression_above_execute_covers_every_statement(comment: str) -> None:
    body = f'''
execute "DROP TABLE a"
{comment}
execute """
ALTER TABLE posts ADD COLUMN subtitle text;
DROP TABLE b;
"""
'''
    assert texts(migration(body)) == ["DROP TABLE a"]


def test_file_level_excellent_migrations_suppression() -> None:
    source = "# excellent_migrations:safety-assured-for-this-file raw_sql_executed\n" + migration(
        'execute "DROP TABLE posts"'
    )
    assert mg011(source) == []
