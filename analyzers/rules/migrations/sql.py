"""MG011 unsafe-sql: raw SQL in ``execute`` that the DSL rules would flag if written in Ecto.

The SQL is read from the literal (heredocs, sigils, concatenation, module
attributes and literal interpolation included) and parsed by PostgreSQL's own
parser (:mod:`analyzers.sql`), so comments and string literals are never read
as statements. One finding per unsafe statement, pointing at the statement's
own bytes when the SQL is written inside the ``execute`` call.

Severity: **error** when Postgres will refuse the statement (``CONCURRENTLY``,
``VACUUM``... inside the migration's transaction); **info** when the SQL is
built at run time and cannot be checked (a review hint); **warning** for every
lock, rewrite or running-code breakage, like the DSL rules they mirror
(``UPDATE``/``DELETE`` without ``WHERE`` are data migrations, not certain
failures). ``INSERT`` and ``UPDATE``/``DELETE`` with ``WHERE`` are not flagged:
RULES.md lists only the unbounded forms, and MG010 covers data written
through Elixir code. Postgres only; rollback code (``def down``) is not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from analyzers import suppressions, syntax
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.migrations.model import (
    MigrationModule,
    in_data_migrations_dir,
    may_hold_migrations,
    migration_modules,
    name_of,
    option,
    positional,
)
from analyzers.rules.migrations.sql_text import NotSql, SqlText, Unreadable, read_sql
from analyzers.sql import Flag, Op, SqlOperation, SqlStatement, SqlSyntaxError, parse_statements
from analyzers.sql import not_null_columns as check_not_null_columns

EXECUTE_NAMES = frozenset({"execute", "Ecto.Migration.execute"})

META = RuleMeta(
    code="MG011",
    slug="unsafe-sql",
    title="Raw SQL in a migration does something the migration rules would flag in the DSL",
    severity=Severity.WARNING,
    rationale=(
        "SQL passed to `execute` runs with the same locks as the DSL would take: a "
        "non-concurrent index build blocks writes, a validated constraint or `SET NOT NULL` "
        "scans the whole table under a lock, a type change rewrites it, and renames or drops "
        "break the code still running. Raw SQL hides these from review, so each statement is "
        "parsed and held to the rule its DSL form would answer to; SQL built at run time "
        "cannot be checked at all."
    ),
    safe_pattern="""\
defmodule MyApp.Repo.Migrations.AddPostsTitleIndex do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true

  def up do
    execute "CREATE INDEX CONCURRENTLY posts_title_index ON posts (title)"
    execute "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) " <>
              "REFERENCES users (id) NOT VALID"
  end

  def down do
    execute "DROP INDEX CONCURRENTLY posts_title_index"
    execute "ALTER TABLE posts DROP CONSTRAINT posts_user_fk"
  end
end

# In a later migration:
# execute "ALTER TABLE posts VALIDATE CONSTRAINT posts_user_fk"
""",
    fix_title="Add @disable_ddl_transaction true (statements that cannot run in a transaction)",
    related=("MG001", "MG002", "MG003", "MG004", "MG005", "MG006", "MG007", "MG008", "MG010"),
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One unsafe thing a statement does."""

    message: str
    severity: Severity = Severity.WARNING


@dataclass
class _Execute:
    """One ``execute`` call in forward code and what its SQL argument reads as."""

    call: Node
    argument: Node
    sql: SqlText | None = None
    statements: list[SqlStatement] = field(default_factory=list)
    unreadable: Node | None = None


@dataclass
class _ModuleState:
    """What earlier statements of the module established, read in order."""

    new_tables: set[str]
    new_indexes: set[str]
    proven_not_null: set[tuple[str, str]]
    pending_checks: dict[tuple[str, str], frozenset[str]]
    validated_unknown: dict[str, set[str]] = field(default_factory=dict)


@register(META, scope="module", applies=may_hold_migrations)
def check(ctx: FileContext) -> Iterable[Finding]:
    """Report unsafe or unreadable SQL in ``execute`` calls of Postgres migrations."""
    for module in migration_modules(ctx):
        if module.is_postgres:
            yield from _check_module(ctx, module)


def _check_module(ctx: FileContext, module: MigrationModule) -> Iterator[Finding]:
    if not _may_execute(module):
        return
    executes = [e for e in (_read_execute(ctx, c, module) for c in module.forward_calls()) if e]
    if not executes:
        return
    silenced = _suppressed_calls(ctx, executes)
    state = _initial_state(ctx, module, executes)
    for execute in executes:
        if execute.unreadable is not None:
            if execute.call.start_byte not in silenced:
                yield ctx.finding(
                    META,
                    execute.unreadable,
                    "SQL built at run time cannot be checked for unsafe operations; "
                    "write it as a literal or review it by hand",
                    severity=Severity.INFO,
                )
            continue
        for statement in execute.statements:
            problems = list(_problems(statement, state, module, ctx))
            if not problems or execute.call.start_byte in silenced:
                continue
            severity = max(p.severity for p in problems)
            fixes = _transaction_fixes(ctx, module, statement)
            yield ctx.finding(
                META,
                _statement_range(execute, statement),
                "; ".join(p.message for p in problems),
                fixes=fixes,
                severity=severity,
            )


def _may_execute(module: MigrationModule) -> bool:
    """False only where forward code has no ``execute``: a cheap exit before reading every call.

    Without a local ``execute`` call, only a dotted call could be ``Ecto.Migration.execute``.
    """
    return module.has_local_call("execute") or bool(module.other_calls())


def _read_execute(ctx: FileContext, call: Node, module: MigrationModule) -> _Execute | None:
    if name_of(ctx, call) not in EXECUTE_NAMES:
        return None
    args = positional(ctx, call)
    if not args:
        return None
    execute = _Execute(call=call, argument=args[0])
    resolved = read_sql(args[0], module)
    if isinstance(resolved, NotSql):
        return None
    if isinstance(resolved, Unreadable):
        execute.unreadable = resolved.node
        return execute
    execute.sql = resolved
    try:
        execute.statements = parse_statements(resolved.text)
    except SqlSyntaxError:
        # Unparsable SQL: nothing can be seen reliably, so nothing is claimed.
        return None
    return execute


def _suppressed_calls(ctx: FileContext, executes: list[_Execute]) -> set[int]:
    """Start bytes of ``execute`` calls silenced for MG011 by a comment above the call.

    The engine applies suppressions at a finding's first line, which for a
    statement deep inside a heredoc is not the line the comment annotates.
    """
    spans = [(n.start_byte, n.end_byte) for n in ctx.nodes("comment")]
    if not spans:
        return set()
    silenced = ctx.memo(
        "suppressions", lambda: suppressions.collect(ctx.source, spans, ctx.line_index)
    )
    found: set[int] = set()
    for execute in executes:
        probe = Finding(
            META.code, execute.call.start_byte, execute.call.end_byte, "", META.severity
        )
        if silenced.covers(probe, ctx.line_index):
            found.add(execute.call.start_byte)
    return found


def _normal(table: str | None) -> str | None:
    """Table names compare without the default ``public`` schema."""
    if table is None:
        return None
    return table[len("public.") :] if table.startswith("public.") else table


def _initial_state(
    ctx: FileContext, module: MigrationModule, executes: list[_Execute]
) -> _ModuleState:
    new_tables = {t for t in (_normal(t) for t in module.created_tables) if t}
    operations = [op for e in executes for s in e.statements for op in s.operations]
    new_tables |= {
        t for op in operations if op.op is Op.CREATE_TABLE for t in [_normal(op.table)] if t
    }
    new_indexes = {
        op.name
        for op in operations
        if op.op is Op.CREATE_INDEX and op.name and _normal(op.table) in new_tables
    }
    state = _ModuleState(new_tables, new_indexes, set(), {})
    for table, name, columns, validated in _dsl_check_constraints(ctx, module):
        if validated:
            state.proven_not_null |= {(table, c) for c in columns}
        else:
            state.pending_checks[(table, name)] = columns
    return state


def _dsl_check_constraints(
    ctx: FileContext, module: MigrationModule
) -> Iterator[tuple[str, str, frozenset[str], bool]]:
    """``create constraint(t, name, check: ...)``: table, name, non-null columns, validated."""
    for call in module.forward_calls():
        if name_of(ctx, call) != "constraint":
            continue
        owner = _owning_call(call)
        if owner is None or name_of(ctx, owner) not in {"create", "create_if_not_exists"}:
            continue
        args = positional(ctx, call)
        check_sql = syntax.string_value(option(ctx, call, "check"))
        if len(args) < 2 or check_sql is None:
            continue
        table = _normal(syntax.literal_name(args[0]))
        name = syntax.literal_name(args[1])
        if table is None or name is None:
            continue
        validate = option(ctx, call, "validate")
        validated = not (validate is not None and syntax.text(validate) == "false")
        yield table, name, check_not_null_columns(check_sql), validated


def _owning_call(call: Node) -> Node | None:
    """The call ``call`` is an argument of, or is piped into."""
    parent = call.parent
    if parent is not None and parent.type == "arguments":
        return parent.parent
    if parent is not None and parent.type == "binary_operator" and syntax.operator(parent) == "|>":
        right = parent.child_by_field_name("right")
        return right if right is not None and right != call else None
    return None


def _statement_range(execute: _Execute, statement: SqlStatement) -> tuple[int, int]:
    whole = (execute.argument.start_byte, execute.argument.end_byte)
    if execute.sql is None:
        return whole
    narrowed = execute.sql.source_range(statement.start, statement.end)
    if narrowed is None or narrowed[0] < whole[0] or narrowed[1] > whole[1]:
        return whole
    return narrowed


def _problems(
    statement: SqlStatement, state: _ModuleState, module: MigrationModule, ctx: FileContext
) -> Iterator[Problem]:
    if statement.no_transaction:
        yield from _transaction_problems(statement, module)
    for operation in statement.operations:
        problem = _operation_problem(operation, state, ctx)
        _record(operation, state)
        if problem is not None:
            yield problem


def _is_new(table: str | None, state: _ModuleState) -> bool:
    return table is not None and _normal(table) in state.new_tables


def _operation_problem(op: SqlOperation, state: _ModuleState, ctx: FileContext) -> Problem | None:
    table = _normal(op.table)
    # Backfills are what a separate data-migration directory is for (MG010 exempts it too).
    data_dir = in_data_migrations_dir(ctx.path)
    if op.op is not Op.DROP_INDEX and op.op is not Op.REINDEX and _is_new(table, state):
        return None
    where = f" on existing table {table}" if table else ""
    if op.op is Op.CREATE_INDEX and Flag.CONCURRENTLY not in op.flags:
        kind = "CREATE UNIQUE INDEX" if Flag.UNIQUE in op.flags else "CREATE INDEX"
        return Problem(
            f"{kind} without CONCURRENTLY{where} blocks writes for the whole build (as MG001)"
        )
    if (
        op.op is Op.DROP_INDEX
        and Flag.CONCURRENTLY not in op.flags
        and op.name not in state.new_indexes
    ):
        return Problem(
            f"DROP INDEX {op.name} without CONCURRENTLY locks its table against reads "
            "and writes (as MG001)"
        )
    if op.op is Op.REINDEX and Flag.CONCURRENTLY not in op.flags:
        return _reindex_problem(op, state)
    if op.op is Op.ADD_CONSTRAINT:
        return _constraint_problem(op, where)
    if op.op is Op.ADD_COLUMN:
        return _add_column_problem(op, where, ctx)
    if op.op is Op.SET_NOT_NULL and not _not_null_proven(table, op.column, state):
        return Problem(
            f"SET NOT NULL on {table}.{op.column} scans the whole table under an ACCESS "
            f"EXCLUSIVE lock; validate a CHECK ({op.column} IS NOT NULL) constraint "
            "first (as MG003)"
        )
    if op.op is Op.ALTER_COLUMN_TYPE:
        return Problem(
            f"ALTER COLUMN {table}.{op.column} TYPE rewrites the table under an ACCESS "
            "EXCLUSIVE lock (as MG006)"
        )
    if op.op is Op.RENAME_TABLE:
        return Problem(
            f"RENAME of table {table} to {op.detail} breaks the code still running "
            "against the old name (as MG007)"
        )
    if op.op is Op.RENAME_COLUMN:
        return Problem(
            f"RENAME COLUMN {table}.{op.column} to {op.detail} breaks the code still "
            "running against the old name (as MG007)"
        )
    if op.op is Op.DROP_COLUMN:
        return Problem(
            f"DROP COLUMN {table}.{op.column} breaks nodes still running code whose "
            "schema selects it (as MG008)"
        )
    if op.op is Op.DROP_TABLE:
        return Problem(
            f"DROP TABLE {table} breaks nodes still running code that uses it (as MG008)"
        )
    if op.op in (Op.UPDATE, Op.DELETE) and Flag.WHERE not in op.flags and not data_dir:
        verb = "UPDATE" if op.op is Op.UPDATE else "DELETE"
        return Problem(
            f"{verb} without WHERE{where} touches every row inside the migration's "
            "transaction (as MG010)"
        )
    if op.op is Op.VACUUM and Flag.FULL in op.flags:
        target = f"table {table}" if table else "every table"
        return Problem(f"VACUUM FULL rewrites {target} under an ACCESS EXCLUSIVE lock (as MG006)")
    if op.op is Op.CLUSTER:
        target = f"table {table}" if table else "every clustered table"
        return Problem(f"CLUSTER rewrites {target} under an ACCESS EXCLUSIVE lock (as MG006)")
    if op.op is Op.LOCK_TABLE:
        return Problem(
            f"LOCK TABLE{where} holds an explicit lock until the migration commits, "
            "queueing every query on the table"
        )
    return None


def _reindex_problem(op: SqlOperation, state: _ModuleState) -> Problem | None:
    if op.detail == "table":
        if _is_new(op.table, state):
            return None
        target = f"table {_normal(op.table)}"
    elif op.detail == "index":
        if op.name in state.new_indexes:
            return None
        target = f"index {op.name}"
    else:
        target = f"{op.detail} {op.name}" if op.name else str(op.detail)
    return Problem(
        f"REINDEX {target} without CONCURRENTLY blocks writes while it rebuilds (as MG001)"
    )


def _constraint_problem(op: SqlOperation, where: str) -> Problem | None:
    name = f" {op.name}" if op.name else ""
    if Flag.FOREIGN_KEY in op.flags and Flag.NOT_VALID not in op.flags:
        return Problem(
            f"ADD CONSTRAINT{name} FOREIGN KEY without NOT VALID{where} validates "
            "every row while locking both tables (as MG004)"
        )
    if Flag.CHECK in op.flags and Flag.NOT_VALID not in op.flags:
        return Problem(
            f"ADD CONSTRAINT{name} CHECK without NOT VALID{where} scans the whole "
            "table under an ACCESS EXCLUSIVE lock (as MG005)"
        )
    if (
        Flag.UNIQUE in op.flags or Flag.PRIMARY_KEY in op.flags
    ) and Flag.USING_INDEX not in op.flags:
        kind = "UNIQUE" if Flag.UNIQUE in op.flags else "PRIMARY KEY"
        return Problem(
            f"ADD CONSTRAINT{name} {kind}{where} builds its index while blocking "
            "writes; build it CONCURRENTLY and add the constraint USING INDEX "
            "(as MG001)"
        )
    return None


def _add_column_problem(op: SqlOperation, where: str, ctx: FileContext) -> Problem | None:
    column = f"ADD COLUMN {op.column}"
    flags = op.flags
    if Flag.REFERENCES in flags:
        return Problem(
            f"{column} REFERENCES{where} validates the foreign key immediately while "
            "locking both tables; add it NOT VALID (as MG004)"
        )
    if Flag.VOLATILE_DEFAULT in flags:
        return Problem(
            f"{column} with volatile default {op.detail}(){where} rewrites the table (as MG009)"
        )
    if flags & {Flag.SERIAL, Flag.IDENTITY, Flag.GENERATED_STORED}:
        return Problem(
            f"{column} as serial, identity or stored generated column{where} "
            "rewrites the table (as MG009)"
        )
    if Flag.DEFAULT in flags and ctx.config.pg_version < 11:
        return Problem(
            f"{column} with a default{where} rewrites the table before PostgreSQL 11 (as MG009)"
        )
    if Flag.UNIQUE in flags or Flag.PRIMARY_KEY in flags:
        return Problem(
            f"{column} with an inline UNIQUE/PRIMARY KEY{where} builds its index "
            "while blocking writes (as MG001)"
        )
    if Flag.CHECK in flags:
        return Problem(
            f"{column} with an inline CHECK{where} validates it against every row "
            "under an ACCESS EXCLUSIVE lock (as MG005)"
        )
    if Flag.NOT_NULL in flags and Flag.DEFAULT not in flags:
        return Problem(
            f"{column} NOT NULL without a default{where} fails on a populated table (as MG003)"
        )
    return None


def _not_null_proven(table: str | None, column: str | None, state: _ModuleState) -> bool:
    if table is None or column is None:
        return False
    if (table, column) in state.proven_not_null:
        return True
    # A constraint defined in an earlier migration and validated here: trust its name.
    return any(column.lower() in name.lower() for name in state.validated_unknown.get(table, ()))


def _record(op: SqlOperation, state: _ModuleState) -> None:
    """Update what later statements may rely on (validated NOT NULL checks)."""
    table = _normal(op.table)
    if table is None:
        return
    if op.op is Op.ADD_CONSTRAINT and Flag.CHECK in op.flags and op.name:
        if Flag.NOT_VALID in op.flags:
            state.pending_checks[(table, op.name)] = op.not_null_columns
        else:
            state.proven_not_null |= {(table, c) for c in op.not_null_columns}
    elif op.op is Op.VALIDATE_CONSTRAINT and op.name:
        pending = state.pending_checks.get((table, op.name))
        if pending is None:
            state.validated_unknown.setdefault(table, set()).add(op.name)
        else:
            state.proven_not_null |= {(table, c) for c in pending}


_NO_TRANSACTION_NAMES = {
    "IndexStmt": "CREATE INDEX CONCURRENTLY",
    "DropStmt": "DROP INDEX CONCURRENTLY",
    "ReindexStmt": "REINDEX",
    "VacuumStmt": "VACUUM",
}


def _transaction_problems(statement: SqlStatement, module: MigrationModule) -> Iterator[Problem]:
    name = _NO_TRANSACTION_NAMES.get(statement.kind, "This statement")
    if not module.attribute_true("disable_ddl_transaction"):
        yield Problem(
            f"{name} cannot run inside the migration's transaction: the module needs "
            "@disable_ddl_transaction true (as MG002)",
            Severity.ERROR,
        )
    if _needs_migration_lock_off(statement, module):
        yield Problem(
            f"{name} waits for running transactions while holding the migration "
            "lock: add @disable_migration_lock true (as MG002)"
        )


def _needs_migration_lock_off(statement: SqlStatement, module: MigrationModule) -> bool:
    concurrent = any(Flag.CONCURRENTLY in op.flags for op in statement.operations)
    return (
        concurrent
        and not module.attribute_true("disable_migration_lock")
        and not module.uses_advisory_lock
    )


def _transaction_fixes(
    ctx: FileContext, module: MigrationModule, statement: SqlStatement
) -> tuple[Fix, ...]:
    if not statement.no_transaction:
        return ()
    missing = []
    if not module.attribute_true("disable_ddl_transaction"):
        missing.append("@disable_ddl_transaction true")
    if _needs_migration_lock_off(statement, module):
        missing.append("@disable_migration_lock true")
    if not missing:
        return ()
    offset, indent = module.insertion_after_use(ctx.source)
    text = "".join(f"\n{indent}{attribute}" for attribute in missing)
    title = "Add " + " and ".join(missing)
    return (Fix(title, (Edit(offset, offset, text),)),)
