"""PostgreSQL statements, classified: what a migration's raw SQL does to which table.

A thin, pure wrapper around ``pglast`` (PostgreSQL's own parser through
libpg_query), so a comment or a string literal is never mistaken for a
statement. Callers get plain data — :class:`SqlStatement` with its
:class:`SqlOperation` list — and never see pglast's node classes. pglast is
imported on first use only, so front ends that never meet raw SQL do not pay
for loading it.

Offsets are UTF-8 byte offsets into the SQL text (pglast itself reports
character offsets; they are converted here).
"""

from __future__ import annotations

import bisect
import enum
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Functions whose value differs per row: as a column default they force a rewrite.
VOLATILE_FUNCTIONS = frozenset(
    {
        "gen_random_uuid",
        "random",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "clock_timestamp",
        "gen_random_bytes",
        "nextval",
        "timeofday",
    }
)
SERIAL_TYPES = frozenset({"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"})


class Op(enum.StrEnum):
    """What one statement (or one ``ALTER TABLE`` sub-command) does."""

    CREATE_TABLE = "create_table"
    CREATE_INDEX = "create_index"
    DROP_INDEX = "drop_index"
    REINDEX = "reindex"
    ADD_COLUMN = "add_column"
    ADD_CONSTRAINT = "add_constraint"
    VALIDATE_CONSTRAINT = "validate_constraint"
    SET_NOT_NULL = "set_not_null"
    ALTER_COLUMN_TYPE = "alter_column_type"
    DROP_COLUMN = "drop_column"
    DROP_TABLE = "drop_table"
    RENAME_TABLE = "rename_table"
    RENAME_COLUMN = "rename_column"
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    VACUUM = "vacuum"
    CLUSTER = "cluster"
    LOCK_TABLE = "lock_table"
    OTHER = "other"


class Flag(enum.StrEnum):
    """Facts about an operation that decide whether it is safe."""

    CONCURRENTLY = "concurrently"
    UNIQUE = "unique"
    NOT_VALID = "not_valid"
    USING_INDEX = "using_index"
    WHERE = "where"
    FULL = "full"
    NOT_NULL = "not_null"
    DEFAULT = "default"
    VOLATILE_DEFAULT = "volatile_default"
    REFERENCES = "references"
    CHECK = "check"
    PRIMARY_KEY = "primary_key"
    EXCLUSION = "exclusion"
    FOREIGN_KEY = "foreign_key"
    SERIAL = "serial"
    IDENTITY = "identity"
    GENERATED_STORED = "generated_stored"


@dataclass(frozen=True, slots=True)
class SqlOperation:
    """One effect of a statement.

    ``table`` is ``schema.name`` when the SQL qualifies it, else ``name``;
    None when the statement targets no single table (``VACUUM FULL`` of a
    whole database, ``DROP INDEX`` which names only the index). ``name`` is
    the index or constraint name; ``detail`` a volatile default's function or
    a rename's new name; ``not_null_columns`` the columns a ``CHECK``
    constraint proves ``IS NOT NULL``.
    """

    op: Op
    table: str | None = None
    column: str | None = None
    name: str | None = None
    flags: frozenset[Flag] = frozenset()
    detail: str | None = None
    not_null_columns: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SqlStatement:
    """One statement: its byte span in the SQL text, node kind and operations.

    ``start``/``end`` cover the statement's own tokens: no leading comments,
    no trailing semicolon. ``no_transaction`` is set for statements Postgres
    refuses to run inside a transaction block (``CREATE INDEX CONCURRENTLY``,
    ``VACUUM``...).
    """

    start: int
    end: int
    kind: str
    operations: tuple[SqlOperation, ...] = field(default=())
    no_transaction: bool = False


class SqlSyntaxError(ValueError):
    """The SQL text is not valid PostgreSQL (as pglast's parser sees it)."""


def parse_statements(sql: str) -> list[SqlStatement]:
    """Parse ``sql`` into classified statements; raise :class:`SqlSyntaxError` if invalid.

    Results are cached by text: an editor re-analyses a file on every change,
    and its SQL strings rarely change with it.
    """
    parsed = _parse_cached(sql)
    if isinstance(parsed, str):
        raise SqlSyntaxError(parsed)
    return list(parsed)


@functools.lru_cache(maxsize=1024)
def _parse_cached(sql: str) -> tuple[SqlStatement, ...] | str:
    """The statements of ``sql``, or pglast's error message."""
    from pglast import parser

    try:
        raw_statements = parser.parse_sql(sql)
    except parser.ParseError as exc:
        return str(exc)
    spans = _statement_spans(sql, [(s.stmt_location or 0, s.stmt_len or 0) for s in raw_statements])
    to_bytes = _ByteOffsets(sql)
    statements: list[SqlStatement] = []
    for raw, (start, end) in zip(raw_statements, spans, strict=True):
        node = raw.stmt
        statements.append(
            SqlStatement(
                start=to_bytes(start),
                end=to_bytes(end),
                kind=type(node).__name__,
                operations=tuple(_operations(node)),
                no_transaction=_needs_no_transaction(node),
            )
        )
    return tuple(statements)


# Literals, quoted identifiers and comments: skipped when scanning SQL pglast rejects.
_SQL_NOISE = re.compile(
    r"--[^\n]*|/\*.*?\*/|[eE]?'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\$\w*\$).*?\1",
    re.DOTALL,
)
_FUNCTION_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_$]*)\s*\(")


@functools.lru_cache(maxsize=1024)
def expression_functions(expression_sql: str) -> tuple[str, ...]:
    """Lower-cased names of the functions an SQL expression calls (outside literals and comments).

    Used for column defaults written as ``fragment("...")``. When pglast cannot
    parse the text as an expression, it is scanned with literals and comments
    removed instead.
    """
    from pglast import parser

    try:
        parsed = parser.parse_sql(f"SELECT {expression_sql}")
    except parser.ParseError:
        stripped = _SQL_NOISE.sub(" ", expression_sql)
        return tuple(m.group(1).lower() for m in _FUNCTION_CALL.finditer(stripped))
    return tuple(
        str(node.funcname[-1].sval).lower()
        for node in _walk(parsed)
        if type(node).__name__ == "FuncCall"
        and node.funcname
        and type(node.funcname[-1]).__name__ == "String"
    )


def not_null_columns(check_sql: str) -> frozenset[str]:
    """Columns a ``CHECK`` expression proves non-null (``c IS NOT NULL [AND ...]``).

    Returns an empty set when the expression cannot be parsed.
    """
    from pglast import parser

    try:
        parsed = parser.parse_sql(f"SELECT 1 WHERE {check_sql}")
    except parser.ParseError:
        return frozenset()
    select: Any = parsed[0].stmt if len(parsed) == 1 else None
    if type(select).__name__ != "SelectStmt":
        return frozenset()
    return _not_null_columns(select.whereClause)


def _statement_spans(sql: str, raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans of each statement, trimmed to its first and last real token."""
    from pglast import parser

    tokens = [t for t in parser.scan(sql) if t.name not in {"SQL_COMMENT", "C_COMMENT", "ASCII_59"}]
    starts = [t.start for t in tokens]
    spans: list[tuple[int, int]] = []
    for location, length in raw:
        stop = location + length if length else len(sql)
        first, last = bisect.bisect_left(starts, location), bisect.bisect_left(starts, stop) - 1
        if first <= last:
            spans.append((tokens[first].start, tokens[last].end + 1))
        else:
            spans.append((location, stop))
    return spans


class _ByteOffsets:
    """Character offset -> UTF-8 byte offset, cheap for ASCII text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._ascii = text.isascii()

    def __call__(self, index: int) -> int:
        if self._ascii:
            return index
        return len(self._text[:index].encode("utf-8"))


def _relation_name(rangevar: Any) -> str | None:
    if rangevar is None:
        return None
    name: str = rangevar.relname
    return f"{rangevar.schemaname}.{name}" if rangevar.schemaname else name


def _qualified(names: Iterable[Any]) -> str:
    return ".".join(str(n.sval) for n in names)


def _operations(node: Any) -> Iterator[SqlOperation]:
    kind = type(node).__name__
    handler = _HANDLERS.get(kind)
    if handler is None:
        yield SqlOperation(Op.OTHER, detail=kind)
        return
    yield from handler(node)


def _create_table(node: Any) -> Iterator[SqlOperation]:
    yield SqlOperation(Op.CREATE_TABLE, table=_relation_name(node.relation))


def _create_table_as(node: Any) -> Iterator[SqlOperation]:
    into = node.into
    yield SqlOperation(Op.CREATE_TABLE, table=_relation_name(into.rel if into else None))


def _create_index(node: Any) -> Iterator[SqlOperation]:
    flags = {Flag.CONCURRENTLY} if node.concurrent else set()
    if node.unique:
        flags.add(Flag.UNIQUE)
    yield SqlOperation(
        Op.CREATE_INDEX,
        table=_relation_name(node.relation),
        name=node.idxname,
        flags=frozenset(flags),
    )


def _drop(node: Any) -> Iterator[SqlOperation]:
    from pglast.enums import ObjectType

    if node.removeType == ObjectType.OBJECT_INDEX:
        flags = frozenset({Flag.CONCURRENTLY}) if node.concurrent else frozenset()
        for names in node.objects or ():
            yield SqlOperation(Op.DROP_INDEX, name=_qualified(names), flags=flags)
    elif node.removeType == ObjectType.OBJECT_TABLE:
        for names in node.objects or ():
            yield SqlOperation(Op.DROP_TABLE, table=_qualified(names))
    else:
        yield SqlOperation(Op.OTHER, detail=type(node).__name__)


def _reindex(node: Any) -> Iterator[SqlOperation]:
    from pglast.enums import ReindexObjectType

    params = {p.defname for p in node.params or ()}
    flags = frozenset({Flag.CONCURRENTLY}) if "concurrently" in params else frozenset()
    target = _relation_name(node.relation)
    if node.kind == ReindexObjectType.REINDEX_OBJECT_TABLE:
        yield SqlOperation(Op.REINDEX, table=target, flags=flags, detail="table")
    elif node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
        yield SqlOperation(Op.REINDEX, name=target, flags=flags, detail="index")
    else:
        yield SqlOperation(
            Op.REINDEX,
            name=node.name,
            flags=flags,
            detail=ReindexObjectType(node.kind).name.rsplit("_", 1)[-1].lower(),
        )


def _alter_table(node: Any) -> Iterator[SqlOperation]:
    from pglast.enums import AlterTableType, ObjectType

    if node.objtype != ObjectType.OBJECT_TABLE:
        yield SqlOperation(Op.OTHER, detail=type(node).__name__)
        return
    table = _relation_name(node.relation)
    for cmd in node.cmds or ():
        subtype = cmd.subtype
        if subtype == AlterTableType.AT_AddColumn:
            yield _add_column(table, cmd.def_)
        elif subtype == AlterTableType.AT_AddConstraint:
            yield _add_constraint(table, cmd.def_)
        elif subtype == AlterTableType.AT_ValidateConstraint:
            yield SqlOperation(Op.VALIDATE_CONSTRAINT, table=table, name=cmd.name)
        elif subtype == AlterTableType.AT_SetNotNull:
            yield SqlOperation(Op.SET_NOT_NULL, table=table, column=cmd.name)
        elif subtype == AlterTableType.AT_AlterColumnType:
            yield SqlOperation(Op.ALTER_COLUMN_TYPE, table=table, column=cmd.name)
        elif subtype == AlterTableType.AT_DropColumn:
            yield SqlOperation(Op.DROP_COLUMN, table=table, column=cmd.name)
        else:
            yield SqlOperation(Op.OTHER, table=table, detail=AlterTableType(subtype).name)


def _add_column(table: str | None, column: Any) -> SqlOperation:
    from pglast.enums import ConstrType

    flags: set[Flag] = set()
    detail: str | None = None
    type_names = [n.sval for n in column.typeName.names] if column.typeName else []
    if type_names and type_names[-1] in SERIAL_TYPES:
        flags.add(Flag.SERIAL)
    if column.is_not_null:
        flags.add(Flag.NOT_NULL)
    for constraint in column.constraints or ():
        contype = constraint.contype
        if contype == ConstrType.CONSTR_NOTNULL:
            flags.add(Flag.NOT_NULL)
        elif contype == ConstrType.CONSTR_DEFAULT:
            if not _is_null_literal(constraint.raw_expr):
                flags.add(Flag.DEFAULT)
            volatile = _volatile_call(constraint.raw_expr)
            if volatile is not None:
                flags.add(Flag.VOLATILE_DEFAULT)
                detail = volatile
        elif contype == ConstrType.CONSTR_FOREIGN:
            flags.add(Flag.REFERENCES)
        elif contype == ConstrType.CONSTR_CHECK:
            flags.add(Flag.CHECK)
        elif contype == ConstrType.CONSTR_UNIQUE:
            flags.add(Flag.UNIQUE)
        elif contype == ConstrType.CONSTR_PRIMARY:
            flags.update({Flag.PRIMARY_KEY, Flag.NOT_NULL})
        elif contype == ConstrType.CONSTR_IDENTITY:
            flags.add(Flag.IDENTITY)
        elif contype == ConstrType.CONSTR_GENERATED:
            flags.add(Flag.GENERATED_STORED)
    return SqlOperation(
        Op.ADD_COLUMN, table=table, column=column.colname, flags=frozenset(flags), detail=detail
    )


def _add_constraint(table: str | None, constraint: Any) -> SqlOperation:
    from pglast.enums import ConstrType

    kinds = {
        ConstrType.CONSTR_FOREIGN: Flag.FOREIGN_KEY,
        ConstrType.CONSTR_CHECK: Flag.CHECK,
        ConstrType.CONSTR_UNIQUE: Flag.UNIQUE,
        ConstrType.CONSTR_PRIMARY: Flag.PRIMARY_KEY,
        ConstrType.CONSTR_EXCLUSION: Flag.EXCLUSION,
    }
    flags: set[Flag] = set()
    kind = kinds.get(constraint.contype)
    if kind is not None:
        flags.add(kind)
    if constraint.skip_validation:
        flags.add(Flag.NOT_VALID)
    if constraint.indexname:
        flags.add(Flag.USING_INDEX)
    columns = (
        _not_null_columns(constraint.raw_expr)
        if constraint.contype == ConstrType.CONSTR_CHECK
        else frozenset()
    )
    return SqlOperation(
        Op.ADD_CONSTRAINT,
        table=table,
        name=constraint.conname,
        flags=frozenset(flags),
        not_null_columns=columns,
    )


def _rename(node: Any) -> Iterator[SqlOperation]:
    from pglast.enums import ObjectType

    table = _relation_name(node.relation)
    if node.renameType == ObjectType.OBJECT_TABLE:
        yield SqlOperation(Op.RENAME_TABLE, table=table, detail=node.newname)
    elif (
        node.renameType == ObjectType.OBJECT_COLUMN and node.relationType == ObjectType.OBJECT_TABLE
    ):
        yield SqlOperation(Op.RENAME_COLUMN, table=table, column=node.subname, detail=node.newname)
    else:
        yield SqlOperation(Op.OTHER, table=table, detail=type(node).__name__)


def _insert(node: Any) -> Iterator[SqlOperation]:
    yield SqlOperation(Op.INSERT, table=_relation_name(node.relation))


def _update_or_delete(op: Op) -> Any:
    def handle(node: Any) -> Iterator[SqlOperation]:
        flags = frozenset({Flag.WHERE}) if node.whereClause is not None else frozenset()
        yield SqlOperation(op, table=_relation_name(node.relation), flags=flags)

    return handle


def _vacuum(node: Any) -> Iterator[SqlOperation]:
    options = {o.defname for o in node.options or ()}
    if not node.is_vacuumcmd:
        yield SqlOperation(Op.OTHER, detail="AnalyzeStmt")
        return
    flags = frozenset({Flag.FULL}) if "full" in options else frozenset()
    relations = [_relation_name(r.relation) for r in node.rels or ()]
    for table in relations or [None]:
        yield SqlOperation(Op.VACUUM, table=table, flags=flags)


def _cluster(node: Any) -> Iterator[SqlOperation]:
    yield SqlOperation(Op.CLUSTER, table=_relation_name(node.relation), name=node.indexname)


def _lock(node: Any) -> Iterator[SqlOperation]:
    for relation in node.relations or ():
        yield SqlOperation(Op.LOCK_TABLE, table=_relation_name(relation))


_HANDLERS: dict[str, Any] = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "IndexStmt": _create_index,
    "DropStmt": _drop,
    "ReindexStmt": _reindex,
    "AlterTableStmt": _alter_table,
    "RenameStmt": _rename,
    "InsertStmt": _insert,
    "UpdateStmt": _update_or_delete(Op.UPDATE),
    "DeleteStmt": _update_or_delete(Op.DELETE),
    "VacuumStmt": _vacuum,
    "ClusterStmt": _cluster,
    "LockStmt": _lock,
}

# Statements Postgres refuses inside a transaction block (regardless of options).
_NO_TRANSACTION_KINDS = frozenset(
    {
        "VacuumStmt",
        "CreatedbStmt",
        "DropdbStmt",
        "AlterSystemStmt",
        "CreateTableSpaceStmt",
        "DropTableSpaceStmt",
    }
)


def _needs_no_transaction(node: Any) -> bool:
    kind = type(node).__name__
    if kind in _NO_TRANSACTION_KINDS:
        # ANALYZE alone may run in a transaction; VACUUM may not.
        return kind != "VacuumStmt" or bool(node.is_vacuumcmd)
    if kind == "IndexStmt":
        return bool(node.concurrent)
    if kind == "DropStmt":
        return bool(node.concurrent)
    if kind == "ReindexStmt":
        from pglast.enums import ReindexObjectType

        params = {p.defname for p in node.params or ()}
        return "concurrently" in params or node.kind in {
            ReindexObjectType.REINDEX_OBJECT_SYSTEM,
            ReindexObjectType.REINDEX_OBJECT_DATABASE,
        }
    return False


def _is_null_literal(expr: Any) -> bool:
    return type(expr).__name__ == "A_Const" and bool(expr.isnull)


def _walk(value: Any) -> Iterator[Any]:
    """Every pglast node under ``value`` (tuples and node attributes followed)."""
    from pglast import ast

    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
        elif isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, attr) for attr in item)


def _volatile_call(expr: Any) -> str | None:
    for node in _walk(expr):
        if type(node).__name__ == "FuncCall":
            name = str(node.funcname[-1].sval).lower()
            if name in VOLATILE_FUNCTIONS:
                return name
    return None


def _not_null_columns(expr: Any) -> frozenset[str]:
    """Columns ``expr`` proves non-null: a ``c IS NOT NULL`` test, possibly ANDed with others."""
    from pglast.enums import BoolExprType, NullTestType

    if expr is None:
        return frozenset()
    kind = type(expr).__name__
    if kind == "NullTest" and expr.nulltesttype == NullTestType.IS_NOT_NULL:
        arg = expr.arg
        if type(arg).__name__ == "ColumnRef" and type(arg.fields[-1]).__name__ == "String":
            return frozenset({str(arg.fields[-1].sval)})
        return frozenset()
    if kind == "BoolExpr" and expr.boolop == BoolExprType.AND_EXPR:
        found: frozenset[str] = frozenset()
        for arg in expr.args:
            found |= _not_null_columns(arg)
        return found
    return frozenset()
