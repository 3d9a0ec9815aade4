"""OT rules about process ownership: OT001 unsupervised-process, OT005 unowned-ets.

A process started with ``spawn``/``Task.start`` belongs to no supervisor: when
it crashes nothing restarts it, and a deploy kills it mid-work. An ETS table
belongs to the process that created it and vanishes with it. Tests, scripts
(``.exs``) and mix tasks are short-lived and not checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.otp.support import (
    PROCESS_STARTERS,
    ModuleInfo,
    calls_in,
    is_script_or_test,
    may_concern_otp,
    module_of,
    remote_target,
)

SPAWNS = frozenset({"spawn", "spawn_link"})
KERNEL_SPAWNS = frozenset({("Kernel", "spawn"), ("Kernel", "spawn_link"), ("Process", "spawn")})
ERLANG_SPAWNS = frozenset({(":erlang", "spawn"), (":erlang", "spawn_link")})
AWAITS = frozenset({"await", "await_many", "yield", "yield_many", "ignore", "shutdown"})
# Functions whose body runs in (or starts) a process its supervisor manages.
SUPERVISED_STARTS = frozenset({"start_link", "child_spec", "init"})
BODY_TYPES = frozenset({"do_block", "body", "block", "source"})

UNSUPERVISED_PROCESS = RuleMeta(
    code="OT001",
    slug="unsupervised-process",
    title="Process started outside a supervisor (lost on crash, killed mid-work on deploy)",
    severity=Severity.WARNING,
    rationale=(
        "`spawn`, `Task.start` and a never-awaited `Task.async` start processes no supervisor "
        "knows about: a crash is logged at best and the work is silently lost, nothing limits "
        "how many run at once, and a deploy or shutdown kills them mid-work instead of letting "
        "them finish. Start them under a `Task.Supervisor` in your application's supervision "
        "tree (or `Task.Supervisor.async_nolink` when you want the result)."
    ),
    safe_pattern="""\
defmodule MyApp.Notifier do
  def deliver_later(user) do
    Task.Supervisor.start_child(MyApp.TaskSupervisor, fn ->
      MyApp.Mailer.deliver_welcome(user)
    end)
  end
end

# lib/my_app/application.ex: children = [{Task.Supervisor, name: MyApp.TaskSupervisor}, ...]""",
)

UNOWNED_ETS = RuleMeta(
    code="OT005",
    slug="unowned-ets",
    title="Shared ETS table created by a short-lived or unsupervised process (dies with it)",
    severity=Severity.WARNING,
    rationale=(
        "An ETS table is owned by the process that created it and is deleted when that process "
        "exits. A `:public` or `:named_table` table created in a request, a LiveView, a "
        "spawned task or lazily by whichever caller comes first disappears as soon as that "
        "process ends, and every other process then crashes with `ArgumentError` on lookup. "
        "Create shared tables in the `init/1` of a GenServer started by your supervision tree."
    ),
    safe_pattern="""\
defmodule MyApp.RateCache do
  use GenServer

  def start_link(_opts), do: GenServer.start_link(__MODULE__, :ok, name: __MODULE__)

  def lookup(key), do: :ets.lookup(__MODULE__, key)

  @impl true
  def init(:ok) do
    table = :ets.new(__MODULE__, [:named_table, :public, read_concurrency: true])
    {:ok, table}
  end
end""",
)


def _spawn_kind(info: ModuleInfo | None, call: Node) -> str | None:
    """``spawn``, ``Task.start`` or ``Task.async`` for process-starting calls, as written."""
    name = syntax.call_name(call)
    if name is None:
        return None
    if name in SPAWNS:
        # `spawn(enemy)` in a game module is the module's own function, not Kernel.spawn/1.
        args = syntax.call_args(call)
        process_fun = len(args) == 3 or (
            len(args) == 1
            and (
                args[0].type == "anonymous_function"
                or (args[0].type == "unary_operator" and syntax.operator(args[0]) == "&")
            )
        )
        if not process_fun or (info is not None and _defines(info.node, name)):
            return None
        return name
    target = remote_target(info, call)
    if target is None:
        return None
    if target in KERNEL_SPAWNS or target in ERLANG_SPAWNS:
        return name
    if target in {("Task", "start"), ("Task", "async")}:
        return name
    return None


@register(UNSUPERVISED_PROCESS, applies=may_concern_otp)
def check_unsupervised_process(ctx: FileContext) -> Iterator[Finding]:
    """Flag ``spawn``/``spawn_link``/``Task.start`` and fire-and-forget ``Task.async``."""
    if (not ctx.contains(b"spawn") and not ctx.contains(b"Task.")) or is_script_or_test(ctx.path):
        return
    for call in ctx.calls_named(PROCESS_STARTERS):
        written = syntax.call_function(call)
        if written not in PROCESS_STARTERS:
            continue
        info = module_of(ctx, call)
        kind = _spawn_kind(info, call)
        if kind is None or info is None or info.name.startswith("Mix.Tasks."):
            continue
        definition = syntax.enclosing_def(call)
        if definition is None:
            continue  # compile-time code
        named = syntax.def_name(definition)
        function = named[1] if named else "?"
        if kind.endswith("async"):
            if not _async_discarded(info, call, definition):
                continue
            message = (
                f"`{kind}` in `{function}` is never awaited: the task is linked to the caller "
                "and supervised by nobody; start it with `Task.Supervisor.start_child` "
                "(or `async_nolink`) under your application's Task.Supervisor"
            )
        else:
            if function in SUPERVISED_STARTS:
                continue  # a custom child's start: its supervisor owns the process
            if kind.endswith("spawn_link") and info.is_process:
                continue  # linked to a supervised process: a crash restarts both
            message = (
                f"`{kind}` in `{function}` starts a process no supervisor knows about: a crash "
                "loses its work and a deploy kills it mid-way; use "
                f"`Task.Supervisor.start_child({_task_supervisor(info)}, fn -> ... end)`"
            )
        where = syntax.call_target(call) or call
        yield ctx.finding(UNSUPERVISED_PROCESS, where, message)


def _task_supervisor(info: ModuleInfo) -> str:
    """``MyApp.TaskSupervisor`` for a module of ``MyApp`` or ``MyAppWeb`` (the generators' name)."""
    app = info.name.split(".", 1)[0]
    app = app.removesuffix("Web") or app
    return f"{app}.TaskSupervisor"


def _async_discarded(info: ModuleInfo, call: Node, definition: Node) -> bool:
    """``Task.async`` whose task is thrown away: never awaited, returned, kept or received."""
    if any(_is_await(info, c) for c in calls_in(definition)):
        return False
    # A GenServer or LiveView receiving the task's reply as a `{ref, result}` message.
    if _defines(info.node, "handle_info"):
        return False
    top = call
    while top.parent is not None and top.parent.type == "binary_operator":
        if syntax.operator(top.parent) != "|>":
            break
        top = top.parent
    parent = top.parent
    if parent is not None and parent.type == "binary_operator" and syntax.operator(parent) == "=":
        left = parent.child_by_field_name("left")
        return left is not None and syntax.text(left).startswith("_")
    if parent is None or parent.type not in BODY_TYPES:
        return False
    statements = [c for c in parent.named_children if c.type != "comment"]
    return bool(statements) and statements[-1] != top


def _is_await(info: ModuleInfo, node: Node) -> bool:
    target = remote_target(info, node)
    return target is not None and target[0] == "Task" and target[1] in AWAITS


def _defines(module: Node, function: str) -> bool:
    for statement in syntax.block_statements(syntax.do_block(module)):
        named = syntax.def_name(statement)
        if named is not None and named[1] == function:
            return True
    return False


@register(UNOWNED_ETS, applies=may_concern_otp)
def check_unowned_ets(ctx: FileContext) -> Iterator[Finding]:
    """Flag shared ETS tables created where their owner process is short-lived."""
    if not ctx.contains(b":ets.new") or is_script_or_test(ctx.path):
        return
    for call in ctx.calls_named(("new",)):
        if syntax.call_name(call) != ":ets.new":
            continue
        shared = _shared_table_options(call)
        if not shared:
            continue
        info = module_of(ctx, call)
        owner = _short_lived_owner(info, call)
        if owner is None:
            continue
        args = syntax.call_args(call)
        table = syntax.text(args[0]) if args else "table"
        message = (
            f"ETS table `{table}` ({', '.join(shared)}) is created {owner}: it is deleted when "
            "that process exits; create it in a supervised GenServer's `init/1`"
        )
        yield ctx.finding(UNOWNED_ETS, syntax.call_target(call) or call, message)


def _shared_table_options(call: Node) -> list[str]:
    args = syntax.call_args(call)
    if len(args) < 2 or args[1].type != "list":
        return []
    return [
        syntax.text(item)
        for item in args[1].named_children
        if item.type == "atom" and syntax.text(item) in {":public", ":named_table"}
    ]


def _short_lived_owner(info: ModuleInfo | None, call: Node) -> str | None:
    """Why the creating process is short-lived, or None when it may well be supervised."""
    for parent in syntax.ancestors(call):
        if parent.type == "anonymous_function":
            outer = parent.parent.parent if parent.parent is not None else None
            if outer is not None and outer.type == "call" and _spawn_kind(info, outer):
                return f"inside `{syntax.call_name(outer)}`"
    if info is None:
        return None
    if info.is_request_scoped:
        return "in a request/LiveView/channel process"
    definition = syntax.enclosing_def(call)
    if definition is None or info.is_process:
        return None
    lazy = any(syntax.call_name(c) in {":ets.whereis", ":ets.info"} for c in calls_in(definition))
    return "lazily by whichever process calls first" if lazy else None
