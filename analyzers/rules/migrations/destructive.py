"""MG rules about destructive and one-way changes: renames (MG007), removals (MG008),
changes ``mix ecto.rollback`` cannot reverse (MG013).

Renames and removals break the code still running during a deploy on every
adapter; irreversibility follows Ecto's own ``Ecto.Migration.Runner`` rules.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.migrations.columns import table_subcommands
from analyzers.rules.migrations.model import (
    ddl_calls,
    may_hold_migrations,
    name_of,
    option,
    positional,
    resolve_index,
    table_name,
)

DROP_CALLS = frozenset({"drop", "drop_if_exists"})


def _table_call(ctx: FileContext, node: Node | None) -> Node | None:
    """``node`` itself when it is a ``table(...)`` call."""
    if node is not None and node.type == "call" and name_of(ctx, node) == "table":
        return node
    return None


def _statement(call: Node) -> Node:
    """The whole pipeline for a piped call (``table(:t) |> drop()``), else the call."""
    parent = call.parent
    if syntax.pipe_source(call) is not None and parent is not None:
        return parent
    return call


def _first_positional(ctx: FileContext, call: Node) -> Node | None:
    args = positional(ctx, call)
    return args[0] if args else None


def _quoted(name: str | None, fallback: str) -> str:
    return f"`{name}`" if name else fallback


# --- MG007 rename -------------------------------------------------------------------------------

MG007 = RuleMeta(
    code="MG007",
    slug="rename",
    title="Renaming a table or column breaks the code still running during the deploy",
    severity=Severity.WARNING,
    rationale=(
        "The migration runs while nodes with the old code are still serving requests, and "
        "their queries name the old table or column: they fail until every node is replaced. "
        "Rename in the schema instead (`field :new, source: :old`), or expand and contract: "
        "add the new name, write both, backfill, switch reads, then drop the old one."
    ),
    safe_pattern="""
# Keep the database column, rename only in the schema:
schema "users" do
  field :display_name, :string, source: :name
end

# Or for a table: create the new one, write to both, backfill,
# switch reads, and drop the old table in a later release.
""",
)


@register(MG007, scope="module", applies=may_hold_migrations)
def check_rename(ctx: FileContext) -> Iterator[Finding]:
    """``rename table(...), to: table(...)`` and ``rename table(:t), :a, to: :b``."""
    if not ctx.contains(b"rename"):
        return
    for module, call in ddl_calls(ctx, frozenset({"rename"})):
        args = positional(ctx, call)
        table_call = _table_call(ctx, args[0] if args else None)
        if table_call is None:
            continue
        table = table_name(ctx, table_call)
        if not module.is_existing(table):
            continue
        target = option(ctx, call, "to")
        if len(args) == 1 and _table_call(ctx, target) is not None:
            new = table_name(ctx, target) if target is not None else None
            message = (
                f"Renaming table {_quoted(table, 'the table')} to {_quoted(new, 'a new name')} "
                "breaks running code that still queries the old name; expand and contract instead"
            )
        elif len(args) == 2:
            old_column = syntax.literal_name(args[1])
            new_column = syntax.literal_name(target)
            message = (
                f"Renaming column {_quoted(old_column, 'the column')} of "
                f"{_quoted(table, 'the table')} breaks running code that still selects it; "
                + (
                    f"use `field :{new_column}, source: :{old_column}` in the schema instead"
                    if old_column and new_column
                    else "rename the field in the schema with `source:` instead"
                )
            )
        else:
            continue
        yield ctx.finding(MG007, _statement(call), message)


# --- MG008 remove-column ------------------------------------------------------------------------

MG008 = RuleMeta(
    code="MG008",
    slug="remove-column",
    title="Removing a column or table breaks the code still running during the deploy",
    severity=Severity.WARNING,
    rationale=(
        "Ecto selects every field of a schema by name, so nodes still running the old code "
        "fail on every query of that schema once the column (or table) is gone, until they are "
        "replaced. Remove the field from the schema first, deploy, and only then run the "
        "migration that drops it."
    ),
    safe_pattern="""
# Release 1: stop using the column (remove the field from the schema), deploy.
# Release 2: drop it; remove/3 keeps the migration reversible.
alter table(:users) do
  remove :legacy_token, :string
end
""",
)


@register(MG008, scope="module", applies=may_hold_migrations)
def check_remove_column(ctx: FileContext) -> Iterator[Finding]:
    """``remove``/``remove_if_exists`` of a column and ``drop table`` on existing tables."""
    if not ctx.contains(b"remove") and not ctx.contains(b"drop"):
        return
    for sub in table_subcommands(ctx, frozenset({"remove", "remove_if_exists"})):
        if not sub.on_existing_table:
            continue
        yield ctx.finding(
            MG008,
            sub.call,
            f"Removing column {_quoted(sub.column, 'a column')} from "
            f"{_quoted(sub.table, 'the table')} breaks running code whose schema still selects it; "
            "remove the field from the schema and deploy first",
        )
    for module, call in ddl_calls(ctx, DROP_CALLS):
        table_call = _table_call(ctx, _first_positional(ctx, call))
        if table_call is None:
            continue
        table = table_name(ctx, table_call)
        if not module.is_existing(table):
            continue
        yield ctx.finding(
            MG008,
            _statement(call),
            f"Dropping table {_quoted(table, 'the table')} breaks running code that still queries "
            "it; remove its schema and uses and deploy first",
        )


# --- MG013 irreversible-change ------------------------------------------------------------------

MG013 = RuleMeta(
    code="MG013",
    slug="irreversible-change",
    title="This change in `def change` cannot be rolled back: `mix ecto.rollback` raises",
    severity=Severity.WARNING,
    rationale=(
        "Ecto reverses `def change` by inverting each command, which needs everything the "
        "inverse uses: the down SQL of `execute`, the old type of `modify` (`from:`), the type "
        "of a removed column, the columns of a dropped index. Dropped tables and constraints and "
        "`*_if_exists` column changes cannot be inverted at all, so rollback raises mid-incident."
    ),
    safe_pattern="""
def change do
  execute "CREATE EXTENSION IF NOT EXISTS citext", "DROP EXTENSION IF EXISTS citext"

  alter table(:users) do
    modify :bio, :text, null: true, from: {:text, null: false}
    remove :nickname, :string, default: ""
  end
end

# Or write both directions explicitly:
def up, do: drop(constraint(:users, :age_positive))
def down, do: create(constraint(:users, :age_positive, check: "age > 0"))
""",
)

_SPLIT = "split the migration into `up` and `down`"
# Every call MG013 reads is named with one of these (execute_file and the *_if_exists forms too).
_IRREVERSIBLE_WORDS = (b"modify", b"remove", b"add_if_not_exists", b"drop", b"execute")


def _irreversible_subcommand(ctx: FileContext, call: Node, function: str) -> str | None:
    """Why an ``alter table`` sub-command cannot be reversed, or None."""
    args = positional(ctx, call)
    column = syntax.literal_name(args[0]) if args else None
    name = _quoted(column, "the column")
    if function == "modify" and option(ctx, call, "from") is None:
        return f"`modify` of {name} without `from:` cannot be rolled back; add `from:` with the old type"
    if function == "remove" and len(args) == 1:
        return (
            f"`remove` of {name} without its type cannot be rolled back; "
            "use `remove/3` with the column's type and options"
        )
    if function in {"remove_if_exists", "add_if_not_exists"}:
        return f"`{function}` of {name} cannot be rolled back by Ecto; {_SPLIT}"
    return None


def _irreversible_drop(ctx: FileContext, call: Node) -> str | None:
    """Why a ``drop``/``drop_if_exists`` cannot be reversed, or None."""
    target = _first_positional(ctx, call)
    if target is None:
        return None
    if _table_call(ctx, target) is not None:
        return f"Ecto cannot recreate a dropped table on rollback; {_SPLIT}"
    if target.type == "call" and name_of(ctx, target) == "constraint":
        return f"Ecto cannot recreate a dropped constraint on rollback; {_SPLIT}"
    index = resolve_index(ctx, target)
    if index is None:
        return None
    index_args = positional(ctx, index)
    columns = index_args[1] if len(index_args) > 1 else None
    if columns is None or (columns.type == "list" and not columns.named_children):
        return (
            "Rollback recreates a dropped index from its columns, and none are given; "
            "list the index's columns or " + _SPLIT
        )
    return None


def _irreversible(ctx: FileContext, call: Node) -> str | None:
    """Why an ``execute``/``drop`` call cannot be reversed, or None."""
    function = syntax.call_function(call)
    if function in {"execute", "execute_file"}:
        if len(syntax.effective_args(call)) == 1:
            return (
                f"`{function}/1` in `change` has no down step, so rollback raises; "
                f"give the down SQL as a second argument or {_SPLIT}"
            )
        return None
    if function in DROP_CALLS:
        return _irreversible_drop(ctx, call)
    return None


@register(MG013, scope="module", applies=may_hold_migrations)
def check_irreversible_change(ctx: FileContext) -> Iterator[Finding]:
    """Commands inside ``def change`` that ``Ecto.Migration.Runner`` cannot reverse."""
    if not any(ctx.contains(word) for word in _IRREVERSIBLE_WORDS):
        return
    subcommands = frozenset({"modify", "remove", "remove_if_exists", "add_if_not_exists"})
    for sub in table_subcommands(ctx, subcommands):
        if sub.kind != "alter" or not sub.module.in_change(sub.call):
            continue
        why = _irreversible_subcommand(ctx, sub.call, syntax.call_function(sub.call) or "")
        if why is not None:
            yield ctx.finding(MG013, sub.call, why)
    for module, call in ddl_calls(ctx, DROP_CALLS | {"execute", "execute_file"}):
        if not module.in_change(call):
            continue
        why = _irreversible(ctx, call)
        if why is not None:
            yield ctx.finding(MG013, _statement(call), why)
