"""OT rules about GenServer calls: OT003 infinite-call-timeout, OT006 genserver-bottleneck.

A call waits for one process to answer. With ``:infinity`` a stuck server
hangs every caller for ever; a single globally named server doing I/O in
``handle_call`` makes every caller in the node queue behind that I/O.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.otp.support import (
    ModuleInfo,
    calls_in,
    io_call,
    is_script_or_test,
    may_concern_otp,
    module_of,
    modules,
    remote_target,
)

CALLS = frozenset({("GenServer", "call"), (":gen_server", "call"), (":gen_statem", "call")})
STARTS = frozenset({("GenServer", "start_link"), ("GenServer", "start")})

INFINITE_CALL_TIMEOUT = RuleMeta(
    code="OT003",
    slug="infinite-call-timeout",
    title="`GenServer.call` with an `:infinity` timeout (a stuck server hangs its callers for ever)",
    severity=Severity.WARNING,
    rationale=(
        "The default 5-second call timeout is what turns a stuck or overloaded server into an "
        "error you can see. With `:infinity`, every caller (a request, a LiveView) blocks "
        "for as long as the server is stuck, holding its resources, and the pile-up spreads "
        "to everything waiting on those callers. Pick a finite timeout that matches the "
        "work, and handle the exit if the work can legitimately be slow."
    ),
    safe_pattern="""\
defmodule MyApp.Exporter do
  use GenServer

  @export_timeout :timer.seconds(60)

  def export(report_id) do
    GenServer.call(__MODULE__, {:export, report_id}, @export_timeout)
  catch
    :exit, {:timeout, _} -> {:error, :timeout}
  end
end""",
)

GENSERVER_BOTTLENECK = RuleMeta(
    code="OT006",
    slug="genserver-bottleneck",
    title="Globally named GenServer doing I/O in `handle_call` (every caller queues behind it)",
    severity=Severity.WARNING,
    rationale=(
        "A GenServer handles one message at a time. When a single, globally named server runs "
        "database queries, HTTP requests or file I/O inside `handle_call`, every caller in the "
        "node waits in its mailbox behind the slowest of them: throughput is capped at one "
        "I/O at a time and timeouts cascade under load. Do the I/O in the caller (reading "
        "shared state from ETS), or use a pool or per-key processes (`Registry`)."
    ),
    safe_pattern="""\
defmodule MyApp.Prices do
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, :ok, name: __MODULE__)

  # Callers read directly and concurrently; the server only owns the table.
  def price(sku) do
    case :ets.lookup(__MODULE__, sku) do
      [{^sku, price}] -> price
      [] -> MyApp.Repo.get_by!(MyApp.Price, sku: sku).amount
    end
  end

  @impl true
  def init(:ok), do: {:ok, :ets.new(__MODULE__, [:named_table, :public, read_concurrency: true])}
end""",
)


@register(INFINITE_CALL_TIMEOUT, applies=may_concern_otp)
def check_infinite_call_timeout(ctx: FileContext) -> Iterator[Finding]:
    """Flag ``GenServer.call(server, message, :infinity)``."""
    if not ctx.contains(b":infinity") or is_script_or_test(ctx.path):
        return
    # Every target of CALLS is a function named `call`.
    for call in ctx.calls_named(("call",)):
        name = syntax.call_name(call)
        if name is None or not name.endswith("call"):
            continue
        if remote_target(module_of(ctx, call), call) not in CALLS:
            continue
        args = syntax.effective_args(call)
        if len(args) == 3 and syntax.atom_value(args[2]) == "infinity":
            message = (
                f"`{name}` to `{syntax.text(args[0])}` waits for ever: if the server is stuck, "
                "every caller hangs with it; use a finite timeout"
            )
            yield ctx.finding(INFINITE_CALL_TIMEOUT, args[2], message)


@register(GENSERVER_BOTTLENECK, applies=may_concern_otp)
def check_genserver_bottleneck(ctx: FileContext) -> Iterator[Finding]:
    """Flag I/O inside ``handle_call`` of a GenServer registered under one global name."""
    if not ctx.contains(b"handle_call") or is_script_or_test(ctx.path):
        return
    for info in modules(ctx):
        if not info.uses_any(frozenset({"GenServer"})):
            continue
        name = _global_name(info)
        if name is None:
            continue
        helpers = _local_io_helpers(ctx, info)
        for definition in _functions(info, "handle_call"):
            found = _first_io(ctx, info, definition, helpers)
            if found is None:
                continue
            node, label = found
            message = (
                f"`handle_call` of `{info.name}` (registered as `{name}`) {label}: every "
                "caller in the node queues behind this I/O, one at a time"
            )
            yield ctx.finding(GENSERVER_BOTTLENECK, node, message)


def _functions(info: ModuleInfo, function: str) -> list[Node]:
    found = []
    for statement in syntax.block_statements(syntax.do_block(info.node)):
        named = syntax.def_name(statement)
        if named is not None and named[1] == function:
            found.append(statement)
    return found


def _global_name(info: ModuleInfo) -> str | None:
    """The single global name the module's server registers under, if any."""
    for call in calls_in(info.node):
        if remote_target(info, call) not in STARTS:
            continue
        name = syntax.option(call, "name")
        if name is None:
            continue
        if name.type in {"alias", "atom"} or syntax.text(name) == "__MODULE__":
            return syntax.text(name)
        if name.type == "tuple":
            items = name.named_children
            if items and syntax.atom_value(items[0]) == "global":
                return syntax.text(name)
            continue
        # `Keyword.get(opts, :name, __MODULE__)` / `opts[:name] || __MODULE__`: global by default.
        if name.type in {"call", "binary_operator"} and any(
            n.type == "alias" or syntax.text(n) == "__MODULE__" for n in syntax.walk(name)
        ):
            return "__MODULE__"
    return None


def _local_io_helpers(ctx: FileContext, info: ModuleInfo) -> dict[str, str]:
    """Local functions doing I/O directly, with the I/O call each makes."""
    helpers: dict[str, str] = {}
    for statement in syntax.block_statements(syntax.do_block(info.node)):
        named = syntax.def_name(statement)
        if named is None or named[1] == "handle_call":
            continue
        for call in calls_in(statement, into_functions=False):
            label = io_call(ctx, info, call)
            if label is not None:
                helpers.setdefault(named[1], label)
                break
    return helpers


def _first_io(
    ctx: FileContext, info: ModuleInfo, definition: Node, helpers: dict[str, str]
) -> tuple[Node, str] | None:
    for call in sorted(calls_in(definition, into_functions=False), key=lambda n: n.start_byte):
        if call == definition:
            continue
        label = io_call(ctx, info, call)
        if label is not None:
            return call, f"calls `{label}`"
        name = syntax.call_name(call)
        if name in helpers and syntax.enclosing_def(call) == definition:
            return call, f"calls `{name}`, which calls `{helpers[name]}`"
    return None
