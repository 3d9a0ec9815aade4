"""MG rules about indexes: MG001 index-not-concurrent, MG002 concurrent-index-in-transaction.

Both read every ``create``/``create_if_not_exists``/``drop``/``drop_if_exists``
of an ``index``/``unique_index`` in forward migration code, whether the index
is written inline, piped, or bound to a variable first. Postgres only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.fixes import add_keyword_option, insert_module_attributes, replace_node
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.migrations.model import (
    INDEX_DDL,
    MigrationModule,
    ddl_calls,
    index_table,
    may_hold_migrations,
    option,
    positional,
    resolve_index,
)

DISABLE_DDL_TRANSACTION = "disable_ddl_transaction"
DISABLE_MIGRATION_LOCK = "disable_migration_lock"

# The safe recipe both index rules show: a concurrent build outside the transaction and lock.
SAFE_CONCURRENT_INDEX = """\
defmodule MyApp.Repo.Migrations.AddPostsUserIdIndex do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true

  def change do
    create index(:posts, [:user_id], concurrently: true)
  end
end"""

INDEX_NOT_CONCURRENT = RuleMeta(
    code="MG001",
    slug="index-not-concurrent",
    title="Index built or dropped without `concurrently: true` on an existing table",
    severity=Severity.WARNING,
    rationale=(
        "A plain CREATE INDEX takes a SHARE lock on the table for the whole build, so every "
        "INSERT, UPDATE and DELETE waits until the index is finished; DROP INDEX takes an "
        "ACCESS EXCLUSIVE lock that blocks reads too. On a large table that is minutes of "
        "downtime. CONCURRENTLY builds or drops the index without blocking writes, but cannot "
        "run inside a transaction, so the migration must disable Ecto's DDL transaction (and "
        "its migration lock, unless the repo uses `migration_lock: :pg_advisory_lock`). Keep "
        "the concurrent build in a migration of its own: without the transaction, the module's "
        "other statements no longer roll back together if one fails."
    ),
    safe_pattern=SAFE_CONCURRENT_INDEX,
    fix_title="Create index concurrently",
    related=("MG002",),
)

CONCURRENT_INDEX_IN_TRANSACTION = RuleMeta(
    code="MG002",
    slug="concurrent-index-in-transaction",
    title="`concurrently: true` index in a migration that still runs in a transaction or "
    "under the migration lock",
    severity=Severity.ERROR,
    rationale=(
        "Postgres refuses CREATE/DROP INDEX CONCURRENTLY inside a transaction block, and Ecto "
        "wraps every migration in one unless the module sets `@disable_ddl_transaction true`: "
        "the migration fails at deploy time. Without `@disable_migration_lock true` Ecto also "
        "holds a lock on schema_migrations for the whole (long) build, blocking other nodes' "
        "migrations; a repo configured with `migration_lock: :pg_advisory_lock` does not need it."
    ),
    safe_pattern=SAFE_CONCURRENT_INDEX,
    fix_title="Disable the DDL transaction and migration lock",
    related=("MG001",),
)


@dataclass(frozen=True)
class IndexOperation:
    """One index DDL statement: the DDL call, the index call it runs, and where to report."""

    module: MigrationModule
    ddl: Node
    index: Node
    anchor: Node

    @property
    def verb(self) -> str:
        """``create`` or ``drop`` (``_if_not_exists``/``_if_exists`` stripped)."""
        name = syntax.call_function(self.ddl) or ""
        return "drop" if name.startswith("drop") else "create"


def index_operations(ctx: FileContext) -> list[IndexOperation]:
    """Index DDL in forward code of the file's migration modules (computed once per file)."""
    return ctx.memo("migrations.index_operations", lambda: list(_index_operations(ctx)))


def _index_operations(ctx: FileContext) -> Iterator[IndexOperation]:
    for module, call in ddl_calls(ctx, INDEX_DDL):
        args = positional(ctx, call)
        if not args:
            continue
        index = resolve_index(ctx, args[0])
        if index is None:
            continue
        yield IndexOperation(module, call, index, statement_of(call))


def statement_of(call: Node) -> Node:
    """The whole pipeline a call ends (``:t |> index(c) |> create()``), else the call itself."""
    return syntax.pipeline_top(call)


def missing_attributes(module: MigrationModule) -> list[str]:
    """The module attributes a concurrent index operation needs and ``module`` lacks, in order."""
    missing: list[str] = []
    if not module.attribute_true(DISABLE_DDL_TRANSACTION):
        missing.append(DISABLE_DDL_TRANSACTION)
    if not module.uses_advisory_lock and not module.attribute_true(DISABLE_MIGRATION_LOCK):
        missing.append(DISABLE_MIGRATION_LOCK)
    return missing


def attribute_edits(source: bytes, module: MigrationModule, names: list[str]) -> list[Edit]:
    """Edits that make ``@name true`` hold for each of ``names``.

    An attribute already written with another value (``@disable_ddl_transaction
    false``) gets its value replaced, since a second, earlier line would be
    overridden by it; the others are inserted right after ``use Ecto.Migration``.
    Every fix of the file computes the same edits, so fix-all applies them once.
    """
    edits: list[Edit] = []
    to_insert: list[tuple[str, str]] = []
    for name in names:
        existing = module.attributes.get(name)
        found = syntax.module_attribute(existing) if existing is not None else None
        if found is not None and found[1] is not None:
            edits.append(replace_node(found[1], "true"))
        else:
            to_insert.append((name, "true"))
    if to_insert:
        at, indent = module.insertion_after_use(source)
        edits.append(insert_module_attributes(source, at, indent, to_insert))
    return edits


def _table_label(ctx: FileContext, index: Node) -> str:
    table = index_table(ctx, index)
    return f"`{table}`" if table else "an existing table"


@register(INDEX_NOT_CONCURRENT, scope="module", applies=may_hold_migrations)
def check_index_not_concurrent(ctx: FileContext) -> Iterator[Finding]:
    """MG001: index created/dropped on an existing table without ``concurrently: true``."""
    for op in index_operations(ctx):
        module = op.module
        if not module.is_postgres or not module.is_existing(index_table(ctx, op.index)):
            continue
        concurrently = option(ctx, op.index, "concurrently")
        # A non-literal value (a variable, a module attribute) may well be true: stay quiet.
        if concurrently is not None and syntax.text(concurrently) not in {"false", "nil"}:
            continue
        table = _table_label(ctx, op.index)
        if op.verb == "drop":
            message = (
                f"Dropping an index on {table} without `concurrently: true` takes an ACCESS "
                "EXCLUSIVE lock: reads and writes wait"
            )
            title = "Drop index concurrently"
        else:
            message = (
                f"Building an index on {table} without `concurrently: true` blocks writes "
                "to the table for the whole build"
            )
            title = INDEX_NOT_CONCURRENT.fix_title or "Create index concurrently"
        edits = [add_keyword_option(ctx.source, op.index, "concurrently", "true")]
        edits.extend(attribute_edits(ctx.source, module, missing_attributes(module)))
        yield ctx.finding(INDEX_NOT_CONCURRENT, op.anchor, message, [Fix(title, tuple(edits))])


@register(CONCURRENT_INDEX_IN_TRANSACTION, scope="module", applies=may_hold_migrations)
def check_concurrent_index_in_transaction(ctx: FileContext) -> Iterator[Finding]:
    """MG002: ``concurrently: true`` without the module attributes that let it run."""
    if not ctx.contains(b"concurrently"):
        return
    for op in index_operations(ctx):
        module = op.module
        if not module.is_postgres:
            continue
        if not syntax.is_literal_true(option(ctx, op.index, "concurrently")):
            continue
        missing = missing_attributes(module)
        if not missing:
            continue
        written = " and ".join(f"`@{name} true`" for name in missing)
        if DISABLE_DDL_TRANSACTION in missing:
            severity = Severity.ERROR
            message = (
                f"`concurrently: true` needs {written}: Postgres refuses CONCURRENTLY inside "
                "the transaction Ecto wraps the migration in"
            )
        else:
            severity = Severity.WARNING
            message = (
                f"`concurrently: true` without {written}: the migration lock is held for the "
                "whole index build"
            )
        fix_title = "Add " + " and ".join(f"@{name} true" for name in missing)
        edits = attribute_edits(ctx.source, module, missing)
        yield ctx.finding(
            CONCURRENT_INDEX_IN_TRANSACTION,
            op.anchor,
            message,
            [Fix(fix_title, tuple(edits))],
            severity=severity,
        )
