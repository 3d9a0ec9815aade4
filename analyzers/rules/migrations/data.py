"""MG010 data-migration: data read or written from a schema migration.

Flags, in forward code (``def change``/``def up`` and the private helpers
they call — never ``def down``):

* ``Repo.*``/``MyApp.Repo.*``/``repo().*`` data functions (and a repo reached
  through ``alias ..., as:`` or named in the project's config), and
  ``Ecto.Adapters.SQL.query*``; a query whose literal SQL is only DDL or
  settings (``repo().query!("SET lock_timeout ...")``) is not data;
* calls into application modules whose name says they write data
  (``MyApp.Accounts.create_user(...)``, ``Billing.backfill_invoices()``).

The Ecto migration DSL, ``Ecto.Changeset``, ``Ecto.Migrator``, ``fragment``,
``execute``, ``flush`` and the Elixir standard library are not data access.
Files in a separate data-migration directory (``priv/repo/data_migrations``)
are exempt. Applies to every adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.migrations.model import (
    MigrationModule,
    in_data_migrations_dir,
    may_hold_migrations,
    migration_modules,
    name_of,
    positional,
)
from analyzers.sql import SqlSyntaxError, parse_statements

REPO_WRITES = frozenset(
    {
        "insert", "insert!", "insert_all", "insert_or_update", "insert_or_update!",
        "update", "update!", "update_all", "delete", "delete!", "delete_all",
    }
)  # fmt: skip
REPO_READS = frozenset(
    {
        "all", "all_by", "one", "one!", "get", "get!", "get_by", "get_by!", "aggregate",
        "exists?", "stream", "preload", "reload", "reload!",
    }
)  # fmt: skip
REPO_QUERIES = frozenset({"query", "query!", "query_many", "query_many!"})
REPO_TRANSACTIONS = frozenset({"transaction", "transact"})
SQL_ADAPTER = "Ecto.Adapters.SQL"
# Verbs that name a write in a context or schema module's public function.
WRITE_VERBS = (
    "create", "update", "delete", "insert", "upsert", "remove", "destroy", "import",
    "backfill", "seed", "register",
)  # fmt: skip
# Receivers that are never the application's data layer.
NOT_APPLICATION = frozenset(
    {
        "Access", "Agent", "Application", "Atom", "Base", "Bitwise", "Calendar", "Code", "Date",
        "DateTime", "Decimal", "Enum", "Exception", "File", "Float", "Function", "GenServer",
        "Integer", "IO", "Jason", "Kernel", "Keyword", "List", "Logger", "Macro", "Map",
        "MapSet", "Module", "NaiveDateTime", "Node", "Path", "Port", "Process", "Range", "Regex",
        "Registry", "Stream", "String", "Supervisor", "System", "Task", "Time", "Tuple", "URI",
        "Version", "Ecto", "Phoenix", "Plug", "Postgrex", "Mix", "ExUnit",
    }
)  # fmt: skip
# Statements that read or write rows, as opposed to DDL or session settings.
DATA_STATEMENTS = frozenset(
    {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "CopyStmt", "MergeStmt"}
)

META = RuleMeta(
    code="MG010",
    slug="data-migration",
    title="Data read or written inside a schema migration",
    severity=Severity.WARNING,
    rationale=(
        "A schema migration runs in one transaction: a backfill inside it holds its row and "
        "DDL locks until every row is written, and a failure rolls the schema change back too. "
        "Calling `Repo` or the application's contexts also couples the migration to today's "
        "code: once the schema module or context changes, old migrations no longer run on a "
        "fresh database."
    ),
    safe_pattern="""\
# priv/repo/data_migrations/20240102000000_backfill_posts_status.exs
defmodule MyApp.Repo.DataMigrations.BackfillPostsStatus do
  use Ecto.Migration
  import Ecto.Query
  @disable_ddl_transaction true
  @disable_migration_lock true
  @batch_size 1_000

  def up, do: backfill(0)

  defp backfill(last_id) do
    ids =
      repo().all(
        from p in "posts",
          where: p.id > ^last_id and is_nil(p.status),
          order_by: p.id,
          limit: @batch_size,
          select: p.id
      )

    if ids != [] do
      repo().update_all(from(p in "posts", where: p.id in ^ids), set: [status: "draft"])
      backfill(List.last(ids))
    end
  end

  def down, do: :ok
end
""",
)


@register(META, scope="module", applies=may_hold_migrations)
def check(ctx: FileContext) -> Iterable[Finding]:
    """Report data access in schema migrations (any adapter)."""
    if in_data_migrations_dir(ctx.path):
        return
    repo_names = {name for name in ctx.facts.repos}
    for module in migration_modules(ctx):
        yield from _check_module(ctx, module, repo_names)


def _check_module(
    ctx: FileContext, module: MigrationModule, repo_names: set[str]
) -> Iterator[Finding]:
    if not _may_access_data(module):
        return
    aliases = _aliases(module)
    # Calls come in pre-order, so a call nested in a flagged one follows it directly.
    last: tuple[int, int] = (-1, -1)
    for call in _reachable_calls(ctx, module):
        if last[0] <= call.start_byte and call.end_byte <= last[1]:
            continue
        message = _data_access(ctx, call, aliases, repo_names)
        if message is None:
            continue
        last = (call.start_byte, call.end_byte)
        yield ctx.finding(META, syntax.call_target(call) or call, message)


def _may_access_data(module: MigrationModule) -> bool:
    """False only where no call can be reported: a cheap exit before reading every call.

    Only a dotted call can be data access, and without helpers forward code is all that is
    read, so a module whose forward calls are all local ones has nothing to report.
    """
    return bool(module.other_calls() or module.helpers)


def _data_access(
    ctx: FileContext, call: Node, aliases: dict[str, str], repo_names: set[str]
) -> str | None:
    """Why ``call`` is data access from a migration, or None."""
    # syntax.call_receiver/call_function, from one cached name: local calls have no receiver.
    name = name_of(ctx, call)
    if name is None or "." not in name:
        return None
    receiver, function = name.rsplit(".", 1)
    resolved = aliases.get(receiver.split(".", 1)[0], "")
    full = resolved + receiver[len(receiver.split(".", 1)[0]) :] if resolved else receiver
    if full == SQL_ADAPTER and function in {*REPO_QUERIES, "stream"}:
        return None if _ddl_only(ctx, call, 1) else _message(name, "runs SQL on the data")
    if _is_repo(full, repo_names):
        if function in REPO_WRITES:
            return _message(name, "writes data")
        if function in REPO_READS:
            return _message(name, "reads data")
        if function in REPO_TRANSACTIONS:
            return _message(name, "runs a data transaction")
        if function in REPO_QUERIES:
            return None if _ddl_only(ctx, call, 0) else _message(name, "runs SQL on the data")
        return None
    if _is_application_module(full) and _is_write_verb(function):
        return (
            f"{name} writes data through application code from a schema migration: the "
            "migration breaks when that code changes and the write holds the migration's "
            "locks; move it to a separate, batched data migration"
        )
    return None


def _message(name: str, what: str) -> str:
    return (
        f"{name} {what} inside a schema migration's transaction; move it to a separate, "
        "batched data migration"
    )


def _is_repo(receiver: str, repo_names: set[str]) -> bool:
    if receiver == "repo()" or receiver in repo_names:
        return True
    last = receiver.rsplit(".", 1)[-1]
    return last[:1].isupper() and last.endswith("Repo")


def _is_application_module(receiver: str) -> bool:
    first = receiver.split(".", 1)[0]
    if not first[:1].isupper() or first in NOT_APPLICATION:
        return False
    # Migration helper modules create triggers, indexes... (DDL, not data).
    return "Migration" not in receiver


def _is_write_verb(function: str) -> bool:
    return any(function == verb or function.startswith(verb + "_") for verb in WRITE_VERBS)


def _ddl_only(ctx: FileContext, call: Node, sql_index: int) -> bool:
    """The query's SQL is a literal holding only DDL or settings (no rows read or written)."""
    args = positional(ctx, call)
    sql = syntax.string_value(args[sql_index]) if len(args) > sql_index else None
    if sql is None:
        return False
    try:
        statements = parse_statements(sql)
    except SqlSyntaxError:
        return False
    return bool(statements) and all(s.kind not in DATA_STATEMENTS for s in statements)


def _aliases(module: MigrationModule) -> dict[str, str]:
    """``alias MyApp.Repo, as: DB`` and ``alias MyApp.Repo``: short name -> full module."""
    found: dict[str, str] = {}
    for statement in syntax.block_statements(syntax.do_block(module.node)):
        if statement.type != "call" or syntax.call_name(statement) != "alias":
            continue
        args = syntax.call_args(statement)
        if not args or args[0].type != "alias":
            continue
        full = syntax.text(args[0])
        short = syntax.option(statement, "as")
        name = syntax.text(short) if short is not None else full.rsplit(".", 1)[-1]
        found[name] = full
    return found


def _reachable_calls(ctx: FileContext, module: MigrationModule) -> Iterator[Node]:
    """Calls in forward code and in the module's own functions that forward code calls."""
    helpers = module.helpers
    seen: set[str] = set()
    pending: list[Node] = []

    def followed(calls: Iterable[Node]) -> Iterator[Node]:
        # Definitions nested in the code are not calls it makes; helpers it calls are queued.
        for node in calls:
            name = name_of(ctx, node)
            if name in syntax.DEF_KEYWORDS and syntax.def_name(node) is not None:
                continue
            yield node
            if name is not None and name in helpers and name not in seen:
                seen.add(name)
                pending.extend(helpers[name])

    # Forward code first, in order: the module already holds its calls (in pre-order) and
    # their names; helpers reached from it follow, as the queue below would visit them.
    yield from followed(module.forward_calls())
    while pending:
        definition = pending.pop(0)
        # Pre-order, as a walk would give them, but found by one query in C.
        calls = syntax.descendants_of_type(definition, "call", ctx.tree.language)
        yield from followed(node for node in calls if node != definition)
