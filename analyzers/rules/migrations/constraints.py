"""MG rules about constraints on existing tables.

MG003 not-null-on-existing-table, MG004 reference-validates-immediately,
MG005 check-constraint-validates-immediately. Each adds a constraint that
Postgres checks against every existing row while holding a lock; the safe
recipe adds it ``NOT VALID`` and validates it separately. Postgres only,
forward code only, tables not created in the same migration only.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.fixes import add_keyword_option
from analyzers.model import Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.migrations.indexes import statement_of
from analyzers.rules.migrations.model import (
    MigrationModule,
    ddl_calls,
    may_hold_migrations,
    name_of,
    option,
    positional,
    resolve_call,
    table_block_of,
)

COLUMN_CALLS = frozenset({"add", "add_if_not_exists", "modify"})
CONSTRAINT_DDL = frozenset({"create", "create_if_not_exists"})
CONSTRAINT_FUNCTIONS = frozenset({"constraint"})
TIMESTAMPS = frozenset({"timestamps"})

NOT_NULL_ON_EXISTING_TABLE = RuleMeta(
    code="MG003",
    slug="not-null-on-existing-table",
    title="`null: false` set on a column of an existing table",
    severity=Severity.WARNING,
    rationale=(
        "`modify ..., null: false` runs ALTER COLUMN SET NOT NULL, which scans the whole table "
        "under an ACCESS EXCLUSIVE lock: nothing can read or write it until the scan ends. "
        "`add ..., null: false` without a default (and `timestamps()`, whose columns are NOT "
        "NULL) fails outright on a table that has rows. "
        "Add a NOT VALID check constraint instead, backfill, validate it (a scan that does not "
        "block writes), and only then SET NOT NULL, which Postgres 12+ proves from the "
        "validated constraint without scanning."
    ),
    safe_pattern="""\
# Migration 1: add the column nullable and a NOT VALID check constraint
def change do
  alter table(:posts) do
    add :status, :string
  end

  create constraint(:posts, :status_not_null, check: "status IS NOT NULL", validate: false)
end

# Backfill existing rows in batches (a separate data migration), then
# Migration 2: validate, set NOT NULL, drop the now redundant constraint
def up do
  execute "ALTER TABLE posts VALIDATE CONSTRAINT status_not_null"
  execute "ALTER TABLE posts ALTER COLUMN status SET NOT NULL"
  drop constraint(:posts, :status_not_null)
end

def down do
  execute "ALTER TABLE posts ALTER COLUMN status DROP NOT NULL"
end""",
)

REFERENCE_VALIDATES_IMMEDIATELY = RuleMeta(
    code="MG004",
    slug="reference-validates-immediately",
    title="Foreign key added to an existing table without `validate: false`",
    severity=Severity.WARNING,
    rationale=(
        "Adding a foreign key checks every existing row against the referenced table while "
        "holding SHARE ROW EXCLUSIVE locks on both tables, so writes to both wait for the whole "
        "scan. `validate: false` adds the constraint NOT VALID (instant; new rows are still "
        "checked), and a later migration validates old rows without blocking writes."
    ),
    safe_pattern="""\
# Migration 1: add the foreign key without checking existing rows
def change do
  alter table(:posts) do
    add :user_id, references(:users, validate: false)
  end
end

# Migration 2: validate existing rows (no write lock on either table)
def change do
  execute "ALTER TABLE posts VALIDATE CONSTRAINT posts_user_id_fkey", ""
end""",
    fix_title="Add `validate: false` to `references`",
)

CHECK_CONSTRAINT_VALIDATES_IMMEDIATELY = RuleMeta(
    code="MG005",
    slug="check-constraint-validates-immediately",
    title="Check constraint added to an existing table without `validate: false`",
    severity=Severity.WARNING,
    rationale=(
        "Adding a check constraint scans every row of the table under an ACCESS EXCLUSIVE "
        "lock: reads and writes wait until the scan ends. `validate: false` adds it NOT VALID "
        "(instant; new rows are still checked), and a later migration validates existing rows "
        "while allowing reads and writes."
    ),
    safe_pattern="""\
# Migration 1: add the constraint without checking existing rows
def change do
  create constraint(:products, :price_must_be_positive, check: "price > 0", validate: false)
end

# Migration 2: validate existing rows (no read/write lock)
def change do
  execute "ALTER TABLE products VALIDATE CONSTRAINT price_must_be_positive", ""
end""",
    fix_title="Add `validate: false`",
)


def _altered_existing_table(ctx: FileContext, module: MigrationModule, call: Node) -> str | None:
    """The table name when ``call`` sits in ``alter table(...)`` of an existing table.

    Returns ``""`` for an existing table whose name is not a literal; None when
    the call is not in such a block.
    """
    block = table_block_of(ctx, call)
    if block is None or block.kind != "alter":
        return None
    name = block.table
    if not module.is_existing(name):
        return None
    return name or ""


def _column_calls(ctx: FileContext) -> list[tuple[MigrationModule, Node, str]]:
    """Column add/modify calls in ``alter table`` of existing tables (read once for MG003, MG004)."""

    def build() -> list[tuple[MigrationModule, Node, str]]:
        found: list[tuple[MigrationModule, Node, str]] = []
        for module, call in ddl_calls(ctx, COLUMN_CALLS):
            if not module.is_postgres:
                continue
            table = _altered_existing_table(ctx, module, call)
            if table is not None:
                found.append((module, call, table))
        return found

    return ctx.memo("migrations.constraints.column_calls", build)


def _column(ctx: FileContext, call: Node) -> str:
    args = positional(ctx, call)
    name = syntax.literal_name(args[0]) if args else None
    return f"`{name}`" if name else "the column"


def _on(table: str) -> str:
    return f"`{table}`" if table else "an existing table"


def _already_not_null(from_value: Node | None) -> bool:
    """``from: {:string, null: false}`` says the column was NOT NULL before."""
    if from_value is None or from_value.type != "tuple":
        return False
    inner = [c for c in from_value.named_children if c.type != "comment"]
    if not inner:
        return False
    return any(
        key == "null" and syntax.text(value) == "false"
        for key, _pair, value in syntax.keyword_pairs(inner[-1])
    )


def _is_false(node: Node | None) -> bool:
    return node is not None and node.type == "boolean" and syntax.text(node) == "false"


@register(NOT_NULL_ON_EXISTING_TABLE, scope="module", applies=may_hold_migrations)
def check_not_null_on_existing_table(ctx: FileContext) -> Iterator[Finding]:
    """MG003: ``null: false`` on ``modify``, or on ``add`` with no default, of an existing table."""
    if not ctx.contains(b"alter"):
        # Every call it reports sits in an `alter table` block (see _altered_existing_table).
        return
    for _module, call, table in _column_calls(ctx):
        if not _is_false(option(ctx, call, "null")):
            continue
        function = syntax.call_function(call)
        if function == "modify":
            if _already_not_null(option(ctx, call, "from")):
                continue
            message = (
                f"Setting {_column(ctx, call)} NOT NULL on {_on(table)} scans the whole table under an "
                "ACCESS EXCLUSIVE lock; add a NOT VALID check constraint, validate it, then set "
                "NOT NULL"
            )
            yield ctx.finding(NOT_NULL_ON_EXISTING_TABLE, call, message)
            continue
        default = option(ctx, call, "default")
        if default is not None and syntax.text(default) != "nil":
            continue
        message = (
            f"Adding {_column(ctx, call)} with `null: false` and no default fails on {_on(table)} "
            "once it has rows; add it nullable, backfill, then enforce NOT NULL"
        )
        yield ctx.finding(NOT_NULL_ON_EXISTING_TABLE, call, message, severity=Severity.ERROR)
    yield from _timestamps_on_existing_table(ctx)


def _timestamps_on_existing_table(ctx: FileContext) -> Iterator[Finding]:
    """``timestamps()`` in ``alter table`` adds two NOT NULL columns with no default."""
    for module, call in ddl_calls(ctx, TIMESTAMPS):
        if not module.is_postgres:
            continue
        table = _altered_existing_table(ctx, module, call)
        if table is None:
            continue
        null = option(ctx, call, "null")
        default = option(ctx, call, "default")
        if (null is not None and not _is_false(null)) or (
            default is not None and syntax.text(default) != "nil"
        ):
            continue
        message = (
            f"`timestamps()` adds `inserted_at` and `updated_at` as NOT NULL with no default: it "
            f'fails on {_on(table)} once it has rows; pass `default: fragment("now()")` or '
            "add them nullable and backfill"
        )
        yield ctx.finding(NOT_NULL_ON_EXISTING_TABLE, call, message, severity=Severity.ERROR)


@register(REFERENCE_VALIDATES_IMMEDIATELY, scope="module", applies=may_hold_migrations)
def check_reference_validates_immediately(ctx: FileContext) -> Iterator[Finding]:
    """MG004: ``references(...)`` added to an existing table without ``validate: false``."""
    if not ctx.contains(b"alter") or not ctx.contains(b"references"):
        # It reports a `references(...)` column of an `alter table` block only.
        return
    for _module, call, table in _column_calls(ctx):
        args = positional(ctx, call)
        if len(args) < 2 or args[1].type != "call" or name_of(ctx, args[1]) != "references":
            continue
        reference = args[1]
        validate = option(ctx, reference, "validate")
        # Only a literal (absent or true) is known to validate; a variable may be false.
        if validate is not None and syntax.text(validate) != "true":
            continue
        referenced = syntax.literal_name(next(iter(positional(ctx, reference)), None))
        target = f" to `{referenced}`" if referenced else ""
        message = (
            f"Foreign key{target} on {_column(ctx, call)} of {_on(table)} validates every existing "
            "row while locking both tables; add it with `validate: false` and validate it in a "
            "later migration"
        )
        fix = Fix(
            REFERENCE_VALIDATES_IMMEDIATELY.fix_title or "Add validate: false",
            (add_keyword_option(ctx.source, reference, "validate", "false"),),
        )
        yield ctx.finding(REFERENCE_VALIDATES_IMMEDIATELY, call, message, [fix])


def resolve_constraint(ctx: FileContext, value: Node) -> Node | None:
    """The ``constraint(...)`` call behind a DDL argument: inline, piped, or bound to a variable."""
    return resolve_call(ctx, value, CONSTRAINT_FUNCTIONS)


def _constraint_table(ctx: FileContext, constraint: Node) -> str | None:
    args = positional(ctx, constraint)
    name = syntax.literal_name(args[0]) if args else None
    if name is None:
        return None
    prefix = syntax.literal_name(option(ctx, constraint, "prefix"))
    return f"{prefix}.{name}" if prefix else name


@register(CHECK_CONSTRAINT_VALIDATES_IMMEDIATELY, scope="module", applies=may_hold_migrations)
def check_check_constraint_validates_immediately(ctx: FileContext) -> Iterator[Finding]:
    """MG005: ``create constraint(..., check: ...)`` on an existing table, validated at once."""
    if not ctx.contains(b"constraint"):
        return
    for module, call in ddl_calls(ctx, CONSTRAINT_DDL):
        if not module.is_postgres:
            continue
        args = positional(ctx, call)
        constraint = resolve_constraint(ctx, args[0]) if args else None
        if constraint is None or option(ctx, constraint, "check") is None:
            continue
        table = _constraint_table(ctx, constraint)
        if not module.is_existing(table):
            continue
        validate = option(ctx, constraint, "validate")
        if validate is not None and syntax.text(validate) != "true":
            continue
        name = syntax.literal_name(next(iter(positional(ctx, constraint)[1:]), None))
        label = f"`{name}`" if name else "constraint"
        message = (
            f"Check constraint {label} on {_on(table or '')} scans every row under an ACCESS "
            "EXCLUSIVE lock; add it with `validate: false` and validate it in a later migration"
        )
        fix = Fix(
            CHECK_CONSTRAINT_VALIDATES_IMMEDIATELY.fix_title or "Add validate: false",
            (add_keyword_option(ctx.source, constraint, "validate", "false"),),
        )
        yield ctx.finding(
            CHECK_CONSTRAINT_VALIDATES_IMMEDIATELY, statement_of(call), message, [fix]
        )
