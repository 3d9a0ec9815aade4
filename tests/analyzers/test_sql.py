"""analyzers.sql: statements classified by PostgreSQL's parser, with byte spans."""

from __future__ import annotations

import subprocess
import sys

import pytest

from analyzers.sql import (
    Flag,
    Op,
    SqlOperation,
    SqlSyntaxError,
    not_null_columns,
    parse_statements,
)


def ops(sql: str) -> list[SqlOperation]:
    """Every operation of every statement in ``sql``."""
    return [op for statement in parse_statements(sql) for op in statement.operations]


def one(sql: str) -> SqlOperation:
    """The single operation ``sql`` performs."""
    found = ops(sql)
    assert len(found) == 1, found
    return found[0]


def test_statement_spans_skip_comments_and_semicolons() -> None:
    sql = "-- CREATE INDEX x ON y (z);\nCREATE INDEX a ON posts (t); /* note */ DROP TABLE b;\n"
    statements = parse_statements(sql)
    texts = [sql.encode()[s.start : s.end].decode() for s in statements]
    assert texts == ["CREATE INDEX a ON posts (t)", "DROP TABLE b"]
    assert [s.kind for s in statements] == ["IndexStmt", "DropStmt"]


def test_spans_are_utf8_byte_offsets() -> None:
    sql = "-- déjà vu\nUPDATE posts SET title = 'é' -- trailing comment\n"
    (statement,) = parse_statements(sql)
    assert sql.encode()[statement.start : statement.end].decode() == "UPDATE posts SET title = 'é'"


def test_comment_and_string_literal_are_not_statements() -> None:
    assert ops("-- DROP TABLE posts") == []
    assert one("INSERT INTO logs VALUES ('DROP TABLE posts')") == SqlOperation(Op.INSERT, "logs")


def test_syntax_error_raises() -> None:
    with pytest.raises(SqlSyntaxError):
        parse_statements("CREATE INDEX ON")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE INDEX i ON posts (a)", SqlOperation(Op.CREATE_INDEX, "posts", name="i")),
        (
            "CREATE UNIQUE INDEX CONCURRENTLY ON s.posts (a)",
            SqlOperation(
                Op.CREATE_INDEX, "s.posts", flags=frozenset({Flag.CONCURRENTLY, Flag.UNIQUE})
            ),
        ),
        ("DROP INDEX i", SqlOperation(Op.DROP_INDEX, name="i")),
        (
            "DROP INDEX CONCURRENTLY IF EXISTS s.i",
            SqlOperation(Op.DROP_INDEX, name="s.i", flags=frozenset({Flag.CONCURRENTLY})),
        ),
        ("REINDEX TABLE posts", SqlOperation(Op.REINDEX, "posts", detail="table")),
        (
            "REINDEX INDEX CONCURRENTLY i",
            SqlOperation(
                Op.REINDEX, name="i", flags=frozenset({Flag.CONCURRENTLY}), detail="index"
            ),
        ),
        ("CREATE TABLE posts (id int)", SqlOperation(Op.CREATE_TABLE, "posts")),
        ("CREATE TABLE copy AS SELECT 1", SqlOperation(Op.CREATE_TABLE, "copy")),
        (
            "ALTER TABLE posts ALTER COLUMN t SET NOT NULL",
            SqlOperation(Op.SET_NOT_NULL, "posts", "t"),
        ),
        (
            "ALTER TABLE posts ALTER COLUMN t TYPE text",
            SqlOperation(Op.ALTER_COLUMN_TYPE, "posts", "t"),
        ),
        ("ALTER TABLE posts DROP COLUMN t", SqlOperation(Op.DROP_COLUMN, "posts", "t")),
        (
            "ALTER TABLE posts VALIDATE CONSTRAINT c",
            SqlOperation(Op.VALIDATE_CONSTRAINT, "posts", name="c"),
        ),
        (
            "ALTER TABLE posts RENAME TO articles",
            SqlOperation(Op.RENAME_TABLE, "posts", detail="articles"),
        ),
        (
            "ALTER TABLE posts RENAME COLUMN a TO b",
            SqlOperation(Op.RENAME_COLUMN, "posts", "a", detail="b"),
        ),
        ("UPDATE posts SET a = 1", SqlOperation(Op.UPDATE, "posts")),
        (
            "DELETE FROM posts WHERE a = 1",
            SqlOperation(Op.DELETE, "posts", flags=frozenset({Flag.WHERE})),
        ),
        ("VACUUM (FULL) posts", SqlOperation(Op.VACUUM, "posts", flags=frozenset({Flag.FULL}))),
        ("CLUSTER posts USING i", SqlOperation(Op.CLUSTER, "posts", name="i")),
        ("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE", SqlOperation(Op.LOCK_TABLE, "posts")),
        (
            "CREATE EXTENSION IF NOT EXISTS citext",
            SqlOperation(Op.OTHER, detail="CreateExtensionStmt"),
        ),
    ],
)
def test_statement_kinds(sql: str, expected: SqlOperation) -> None:
    assert one(sql) == expected


def test_alter_table_has_one_operation_per_subcommand() -> None:
    found = ops(
        "ALTER TABLE posts ADD COLUMN a int, ALTER COLUMN b SET DEFAULT 0, "
        "ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id) NOT VALID"
    )
    assert [op.op for op in found] == [Op.ADD_COLUMN, Op.OTHER, Op.ADD_CONSTRAINT]
    assert found[1].detail == "AT_ColumnDefault"
    assert found[2].flags == {Flag.FOREIGN_KEY, Flag.NOT_VALID}


@pytest.mark.parametrize(
    ("definition", "flags"),
    [
        ("FOREIGN KEY (u) REFERENCES users (id)", {Flag.FOREIGN_KEY}),
        ("CHECK (a > 0) NOT VALID", {Flag.CHECK, Flag.NOT_VALID}),
        ("UNIQUE (a)", {Flag.UNIQUE}),
        ("UNIQUE USING INDEX i", {Flag.UNIQUE, Flag.USING_INDEX}),
        ("PRIMARY KEY USING INDEX i", {Flag.PRIMARY_KEY, Flag.USING_INDEX}),
    ],
)
def test_add_constraint_flags(definition: str, flags: set[Flag]) -> None:
    assert one(f"ALTER TABLE posts ADD CONSTRAINT c {definition}").flags == flags


def test_check_constraint_reports_not_null_columns() -> None:
    op = one("ALTER TABLE p ADD CONSTRAINT c CHECK (a IS NOT NULL AND b IS NOT NULL) NOT VALID")
    assert op.not_null_columns == {"a", "b"}
    assert (
        one("ALTER TABLE p ADD CONSTRAINT c CHECK (a IS NULL OR b > 0)").not_null_columns == set()
    )


@pytest.mark.parametrize(
    ("column", "flags", "detail"),
    [
        ("a text", set(), None),
        ("a text DEFAULT NULL", set(), None),
        ("a text NOT NULL", {Flag.NOT_NULL}, None),
        ("a text NOT NULL DEFAULT 'x'", {Flag.NOT_NULL, Flag.DEFAULT}, None),
        ("a timestamptz DEFAULT now()", {Flag.DEFAULT}, None),
        (
            "a uuid DEFAULT gen_random_uuid()",
            {Flag.DEFAULT, Flag.VOLATILE_DEFAULT},
            "gen_random_uuid",
        ),
        ("a bigserial", {Flag.SERIAL}, None),
        ("a int GENERATED ALWAYS AS IDENTITY", {Flag.IDENTITY}, None),
        ("a bigint REFERENCES users (id)", {Flag.REFERENCES}, None),
        ("a int CHECK (a > 0)", {Flag.CHECK}, None),
        ("a int UNIQUE", {Flag.UNIQUE}, None),
    ],
)
def test_add_column_flags(column: str, flags: set[Flag], detail: str | None) -> None:
    op = one(f"ALTER TABLE posts ADD COLUMN {column}")
    assert (op.op, op.column, op.detail) == (Op.ADD_COLUMN, "a", detail)
    assert op.flags == frozenset(flags)


@pytest.mark.parametrize(
    ("sql", "no_transaction"),
    [
        ("CREATE INDEX CONCURRENTLY i ON p (a)", True),
        ("CREATE INDEX i ON p (a)", False),
        ("DROP INDEX CONCURRENTLY i", True),
        ("REINDEX TABLE CONCURRENTLY p", True),
        ("REINDEX TABLE p", False),
        ("VACUUM p", True),
        ("ANALYZE p", False),
        ("ALTER TABLE p ADD COLUMN a int", False),
    ],
)
def test_statements_refused_in_a_transaction(sql: str, no_transaction: bool) -> None:
    (statement,) = parse_statements(sql)
    assert statement.no_transaction is no_transaction


def test_not_null_columns_of_a_check_expression() -> None:
    assert not_null_columns("title IS NOT NULL") == {"title"}
    assert not_null_columns("title <> ''") == set()
    assert not_null_columns("not sql (") == set()
    assert not_null_columns("1); DROP TABLE x; SELECT (1") == set()


def test_importing_the_wrapper_does_not_load_pglast() -> None:
    # pglast costs ~35 ms to import; it loads with the first SQL actually parsed.
    code = (
        "import sys, analyzers.sql; before = 'pglast' in sys.modules; "
        "analyzers.sql.parse_statements('SELECT 1'); print(before, 'pglast' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
