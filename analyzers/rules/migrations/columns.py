"""MG rules about columns: type changes (MG006), volatile defaults (MG009), json columns (MG012).

All three only matter on PostgreSQL; with another adapter they stay silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.migrations.model import (
    MigrationModule,
    ddl_calls,
    may_hold_migrations,
    option,
    positional,
    shape_of,
    table_block_of,
)
from analyzers.sql import VOLATILE_FUNCTIONS, expression_functions

ADD_CALLS = frozenset({"add", "add_if_not_exists"})
COLUMN_CALLS = ADD_CALLS | {"modify"}


# --- table sub-commands (shared with destructive.py) -------------------------------------------


@dataclass(frozen=True)
class TableSubcommand:
    """A call such as ``add``/``modify``/``remove`` inside a ``create``/``alter table`` block."""

    module: MigrationModule
    call: Node
    kind: str
    table: str | None
    # The column name (first argument), when it is a literal.
    column: str | None

    @property
    def on_existing_table(self) -> bool:
        """Inside ``alter table(...)`` of a table this module did not create."""
        return self.kind == "alter" and self.module.is_existing(self.table)


def table_subcommands(ctx: FileContext, names: frozenset[str]) -> list[TableSubcommand]:
    """Forward-code calls named ``names`` that sit directly in a table block (do not mutate).

    Read once per file and set of names: MG006, MG008, MG009, MG012 and MG013
    go through the same sub-commands.
    """
    cache: dict[frozenset[str], list[TableSubcommand]] = ctx.memo(
        "migrations.table_subcommands", dict
    )
    found = cache.get(names)
    if found is None:
        # One record per call, whichever sets of names ask for it.
        by_call: dict[Node, TableSubcommand | None] = ctx.memo(
            "migrations.table_subcommand_of", dict
        )
        found = cache[names] = []
        for module, call in ddl_calls(ctx, names):
            if call in by_call:
                sub = by_call[call]
            else:
                sub = by_call[call] = _subcommand(ctx, module, call)
            if sub is not None:
                found.append(sub)
    return found


def _subcommand(ctx: FileContext, module: MigrationModule, call: Node) -> TableSubcommand | None:
    block = table_block_of(ctx, call)
    if block is None:
        return None
    args = positional(ctx, call)
    column = syntax.literal_name(args[0]) if args else None
    return TableSubcommand(module, call, block.kind, block.table, column)


# --- PostgreSQL column types --------------------------------------------------------------------


@dataclass(frozen=True)
class PgType:
    """The PostgreSQL type Ecto's Postgres adapter writes for a migration column type.

    ``length`` is a varchar length, ``precision``/``scale`` those of numeric or
    of time/timestamp; None means unconstrained.
    """

    name: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    element: PgType | None = None

    def __str__(self) -> str:
        if self.element is not None:
            return f"{self.element}[]"
        if self.length is not None:
            return f"{self.name}({self.length})"
        if self.precision is not None and self.name == "numeric":
            return f"{self.name}({self.precision},{self.scale or 0})"
        if self.precision is not None:
            return f"{self.name}({self.precision})"
        return self.name


# Ecto type atoms (and common PostgreSQL spellings) -> the PostgreSQL type they create.
_TYPE_NAMES = {
    "id": "integer",
    "int": "integer",
    "int4": "integer",
    "integer": "integer",
    "bigint": "bigint",
    "int8": "bigint",
    "smallint": "smallint",
    "int2": "smallint",
    "string": "varchar",
    "varchar": "varchar",
    "binary_id": "uuid",
    "binary": "bytea",
    "map": "jsonb",
    "boolean": "boolean",
    "bool": "boolean",
    "float": "float8",
    "float8": "float8",
    "decimal": "numeric",
    "numeric": "numeric",
    "naive_datetime": "timestamp",
    "naive_datetime_usec": "timestamp",
    "utc_datetime": "timestamp",
    "utc_datetime_usec": "timestamp",
    "time_usec": "time",
    "duration": "interval",
}
# Ecto writes these with precision 0 (seconds), whatever the options say.
_SECOND_PRECISION = frozenset({"time", "naive_datetime", "utc_datetime"})
_USEC_TYPES = frozenset({"time_usec", "naive_datetime_usec", "utc_datetime_usec"})
_TEMPORAL = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval"})
# PostgreSQL's default (and maximum) fractional-second precision.
_MAX_TIME_PRECISION = 6


def _int_option(options: dict[str, Node], key: str) -> int | None:
    node = options.get(key)
    if node is None or node.type != "integer":
        return None
    try:
        return int(syntax.text(node).replace("_", ""))
    except ValueError:
        return None


def pg_type(type_node: Node | None, options: dict[str, Node]) -> PgType | None:
    """The PostgreSQL type of an Ecto column type and its options; None when not literal."""
    if type_node is None:
        return None
    if type_node.type == "tuple":
        items = [c for c in type_node.named_children if c.type != "comment"]
        if len(items) == 2 and syntax.atom_value(items[0]) == "array":
            element = pg_type(items[1], options)
            return PgType("array", element=element) if element is not None else None
        if len(items) == 2 and syntax.atom_value(items[0]) == "map":
            return PgType("jsonb")
        return None
    atom = syntax.atom_value(type_node)
    if atom is None:
        return None
    name = _TYPE_NAMES.get(atom, atom)
    if atom in _SECOND_PRECISION:
        return PgType(name, precision=0)
    if atom in _USEC_TYPES:
        return PgType(name, precision=_int_option(options, "precision"))
    if atom == "duration":
        return PgType(name, precision=_int_option(options, "precision"))
    size = _int_option(options, "size")
    if size is not None:
        return PgType(name, length=size)
    precision = _int_option(options, "precision")
    if precision is not None:
        return PgType(name, precision=precision, scale=_int_option(options, "scale") or 0)
    if atom == "string":
        return PgType(name, length=255)
    return PgType(name)


def rewrites_table(old: PgType, new: PgType) -> bool:
    """Whether ``ALTER COLUMN ... TYPE`` from ``old`` to ``new`` makes PostgreSQL rewrite the table.

    Changes PostgreSQL performs in place are not rewrites: varchar to text or to a
    longer/unconstrained varchar, numeric to more precision at the same scale (or
    unconstrained), and time/timestamp/interval to more fractional-second precision.
    """
    if old == new:
        return False
    if old.name in {"varchar", "text"} and new.name == "text":
        return False
    if old.name in {"varchar", "text"} and new.name == "varchar":
        if new.length is None:
            return False
        return not (old.name == "varchar" and old.length is not None and new.length >= old.length)
    if old.name == new.name == "numeric":
        if new.precision is None:
            return False
        return not (
            old.precision is not None
            and new.precision >= old.precision
            and (new.scale or 0) == (old.scale or 0)
        )
    if old.name == new.name and old.name in _TEMPORAL and old.length is None and new.length is None:
        old_precision = _MAX_TIME_PRECISION if old.precision is None else old.precision
        new_precision = _MAX_TIME_PRECISION if new.precision is None else new.precision
        return new_precision < old_precision
    return True


def _unconstrained_widening_target(new: PgType) -> bool:
    """Types a bare ``modify`` usually widens *to* (from varchar or numeric) without a rewrite."""
    return new.name == "text" or (new.name in {"varchar", "numeric"} and new == PgType(new.name))


def _options(ctx: FileContext, call: Node) -> dict[str, Node]:
    return {key: value for key, _pair, value in shape_of(ctx, call).options}


def _column_type(ctx: FileContext, call: Node) -> PgType | None:
    args = positional(ctx, call)
    return pg_type(args[1] if len(args) > 1 else None, _options(ctx, call))


def _from_type(value: Node) -> PgType | None:
    """The type named by ``from: :t`` or ``from: {:t, opts}``."""
    if value.type == "tuple":
        items = [c for c in value.named_children if c.type != "comment"]
        if len(items) == 2 and items[1].type in {"keywords", "list"}:
            opts = {key: node for key, _pair, node in syntax.keyword_pairs(items[1])}
            return pg_type(items[0], opts)
        return None
    return pg_type(value, {})


# --- MG006 column-type-change -------------------------------------------------------------------

MG006 = RuleMeta(
    code="MG006",
    slug="column-type-change",
    title="Changing a column's type rewrites the whole table under an exclusive lock",
    severity=Severity.WARNING,
    rationale=(
        "`modify` with a new type runs `ALTER COLUMN ... TYPE`, which for most type changes "
        "makes PostgreSQL rewrite the table and rebuild its indexes while holding an ACCESS "
        "EXCLUSIVE lock: every read and write waits until it is done. Running code also still "
        "expects the old type. Only in-place widenings (varchar to text, a longer varchar, more "
        "numeric precision) avoid the rewrite."
    ),
    safe_pattern="""
# Migration 1: a new column with the new type (instant, no rewrite)
alter table(:orders) do
  add :amount_cents, :bigint
end

# Deploy code that writes both columns, backfill :amount_cents in batches
# (a separate data migration), then read from it:
#   field :amount, :integer, source: :amount_cents
# Migration 2, after the switch: drop the old column
alter table(:orders) do
  remove :amount, :integer
end
""",
)


@dataclass(frozen=True)
class _ColumnWrite:
    table: str | None
    column: str | None
    call: Node


def _column_writes(ctx: FileContext) -> list[_ColumnWrite]:
    """Every add/modify in forward code with its table, in document order (memoised)."""

    def build() -> list[_ColumnWrite]:
        return [
            _ColumnWrite(sub.table, sub.column, sub.call)
            for sub in table_subcommands(ctx, COLUMN_CALLS)
        ]

    return ctx.memo("migrations.columns.writes", build)


def _earlier_type(ctx: FileContext, sub: TableSubcommand) -> PgType | None:
    """The column's type as set by the last add/modify of it earlier in the file."""
    if sub.table is None or sub.column is None:
        return None
    previous: Node | None = None
    for write in _column_writes(ctx):
        if write.call.start_byte >= sub.call.start_byte:
            break
        if write.table == sub.table and write.column == sub.column:
            previous = write.call
    return _column_type(ctx, previous) if previous is not None else None


def _type_change_message(sub: TableSubcommand, old: PgType | None, new: PgType) -> str:
    column = f"`{sub.column}`" if sub.column else "the column"
    table = f" of `{sub.table}`" if sub.table else ""
    change = f"from {old} to {new}" if old is not None else f"to {new}"
    return (
        f"Changing {column}{table} {change} rewrites the table under an ACCESS EXCLUSIVE lock; "
        "add a new column, backfill it, then switch reads"
    )


@register(MG006, scope="module", applies=may_hold_migrations)
def check_column_type_change(ctx: FileContext) -> Iterator[Finding]:
    """``modify`` that really changes a column's type on an existing table."""
    if not ctx.contains(b"modify"):
        return
    for sub in table_subcommands(ctx, frozenset({"modify"})):
        if not sub.on_existing_table or not sub.module.is_postgres:
            continue
        new = _column_type(ctx, sub.call)
        if new is None:
            continue
        from_value = option(ctx, sub.call, "from")
        if from_value is not None:
            old = _from_type(from_value)
        else:
            old = _earlier_type(ctx, sub)
            if old is None:
                # Without any record of the old type only a bare `modify :c, :type` shows
                # intent to change the type (options such as `null:` restate it instead).
                if shape_of(
                    ctx, sub.call
                ).options_node is not None or _unconstrained_widening_target(new):
                    continue
                yield ctx.finding(MG006, sub.call, _type_change_message(sub, None, new))
                continue
        if old is not None and rewrites_table(old, new):
            yield ctx.finding(MG006, sub.call, _type_change_message(sub, old, new))


# --- MG009 volatile-default ---------------------------------------------------------------------

MG009 = RuleMeta(
    code="MG009",
    slug="volatile-default",
    title="Adding a column with a volatile default rewrites the whole table",
    severity=Severity.WARNING,
    rationale=(
        "PostgreSQL 11+ adds a column with a constant or STABLE default (`now()`) instantly, "
        "but a VOLATILE default such as `gen_random_uuid()` or `random()` must be computed per "
        "row, so the table is rewritten under an ACCESS EXCLUSIVE lock. Before PostgreSQL 11 "
        "every non-null default rewrites the table."
    ),
    safe_pattern="""
# 1. add the column without a default (instant)
alter table(:users) do
  add :public_id, :uuid
end

# 2. set the default for new rows only (no rewrite)
execute "ALTER TABLE users ALTER COLUMN public_id SET DEFAULT gen_random_uuid()",
        "ALTER TABLE users ALTER COLUMN public_id DROP DEFAULT"

# 3. backfill existing rows in batches in a separate data migration
""",
)


def called_functions(sql: str) -> list[str]:
    """Names of the functions an SQL expression calls (outside literals and comments)."""
    return list(expression_functions(sql))


def _fragment_sql(value: Node) -> str | None:
    if value.type != "call" or syntax.call_name(value) != "fragment":
        return None
    args = syntax.call_args(value)
    if len(args) != 1:
        return None
    return syntax.string_value(args[0]) or _sigil_string(args[0])


def _sigil_string(node: Node) -> str | None:
    """Contents of a ``~s``/``~S`` string sigil without interpolation."""
    if node.type != "sigil":
        return None
    parts = node.named_children
    if not parts or parts[0].type != "sigil_name" or syntax.text(parts[0]) not in {"s", "S"}:
        return None
    contents = parts[1:]
    if any(part.type not in {"quoted_content", "sigil_modifiers"} for part in contents):
        return None
    return "".join(syntax.text(part) for part in contents if part.type == "quoted_content")


def _is_nil(node: Node) -> bool:
    return node.type == "nil"


@register(MG009, scope="module", applies=may_hold_migrations)
def check_volatile_default(ctx: FileContext) -> Iterator[Finding]:
    """``add ..., default: fragment("<volatile SQL>")`` on an existing table."""
    old_postgres = ctx.config.pg_version < 11
    if not old_postgres and not ctx.contains(b"fragment"):
        # Since PostgreSQL 11 only a volatile `fragment(...)` default is reported.
        return
    for sub in table_subcommands(ctx, ADD_CALLS):
        if not sub.on_existing_table or not sub.module.is_postgres:
            continue
        default = option(ctx, sub.call, "default")
        if default is None or _is_nil(default):
            continue
        column = f"`{sub.column}`" if sub.column else "a column"
        sql = _fragment_sql(default)
        called = called_functions(sql) if sql is not None else []
        volatile = sorted({name for name in called if name in VOLATILE_FUNCTIONS})
        if volatile:
            names = ", ".join(f"{n}()" for n in volatile)
            yield ctx.finding(
                MG009,
                sub.call,
                f"Adding {column} with a volatile default ({names}) rewrites the table; add it "
                "without a default, SET DEFAULT separately, then backfill in batches",
            )
        elif old_postgres:
            yield ctx.finding(
                MG009,
                sub.call,
                f"Before PostgreSQL 11 adding {column} with a default rewrites the table; add it "
                "without a default, SET DEFAULT separately, then backfill in batches",
            )


# --- MG012 json-column --------------------------------------------------------------------------

MG012 = RuleMeta(
    code="MG012",
    slug="json-column",
    title="`:json` column: use `:map` (jsonb) instead",
    severity=Severity.WARNING,
    rationale=(
        "PostgreSQL's `json` type stores the raw text: it has no equality operator, so "
        "`DISTINCT`, `GROUP BY`, `UNION` and unique constraints on it fail, and it cannot be "
        "indexed with GIN. Ecto's `:map` type creates `jsonb`, which supports all of these."
    ),
    safe_pattern="""
create table(:events) do
  add :payload, :map, null: false, default: %{}
  timestamps()
end
""",
    fix_title="Use :map (jsonb)",
)


def _json_atoms(type_node: Node) -> Iterable[Node]:
    """The ``:json`` atom of a column type, also inside (nested) ``{:array, ...}``."""
    if syntax.atom_value(type_node) == "json":
        yield type_node
    elif type_node.type == "tuple":
        items = [c for c in type_node.named_children if c.type != "comment"]
        if len(items) == 2 and syntax.atom_value(items[0]) == "array":
            yield from _json_atoms(items[1])


@register(MG012, scope="module", applies=may_hold_migrations)
def check_json_column(ctx: FileContext) -> Iterator[Finding]:
    """A column declared (or modified) with the ``:json`` type."""
    if not ctx.contains(b"json"):
        # The type is an atom spelled `:json` (or `:"json"`), so the word is in the source.
        return
    for sub in table_subcommands(ctx, COLUMN_CALLS):
        if not sub.module.is_postgres:
            continue
        args = positional(ctx, sub.call)
        if len(args) < 2:
            continue
        for atom in _json_atoms(args[1]):
            fix = Fix(MG012.fix_title or "", (Edit(atom.start_byte, atom.end_byte, ":map"),))
            column = f"`{sub.column}`" if sub.column else "this column"
            yield ctx.finding(
                MG012,
                atom,
                f"{column} is `json`: no equality operator and no GIN index; use `:map` (jsonb)",
                fixes=(fix,),
            )
