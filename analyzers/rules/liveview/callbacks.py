"""LV rules about what LiveView callbacks do: LV002, LV003, LV007.

* LV002 subscribe-without-connected: a PubSub subscription in ``mount/3``
  outside a ``connected?`` test.
* LV003 blocking-callback: HTTP, sleeps, ``Task.await``, ``System.cmd``,
  ``GenServer.call(..., :infinity)`` in ``handle_event``/``handle_info``/
  ``handle_params`` (or in a ``connected?`` branch of ``mount``).
* LV007 expensive-mount: the same blocking calls in ``mount/3`` where both
  mounts run them, or three or more unbounded collection loads there (the
  threshold: one or two list loads are what most pages need; three or more
  whole-table reads doubled by the two mounts is a slow first paint).

Work handed to ``start_async``/``assign_async``/``Task`` closures is not
reported, nor any call in a callback clause that already uses
``start_async``/``assign_async``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.liveview import async_fix
from analyzers.rules.liveview.calls import (
    blocking_call,
    collection_load,
    project_without_ecto,
    subscription,
)
from analyzers.rules.liveview.module_rules import (
    LiveModule,
    inside_async,
    live_modules,
    may_concern_liveview,
    socket_name,
    under_connected_guard,
)

MOUNT_READ_THRESHOLD = 3
EVENT_CALLBACKS = (("handle_event", 3), ("handle_info", 2), ("handle_params", 3))

SUBSCRIBE_WITHOUT_CONNECTED = RuleMeta(
    code="LV002",
    slug="subscribe-without-connected",
    title="PubSub subscription in `mount/3` outside `if connected?(socket)`",
    severity=Severity.WARNING,
    rationale=(
        "`mount/3` runs twice: once for the plain HTTP render, in a process that exits as soon "
        "as the HTML is sent, and again when the WebSocket connects. A subscription made "
        "during the first mount registers a process that never receives a message, costing a "
        "registry insert and cleanup on every page load; only the connected mount can handle "
        "the broadcasts."
    ),
    safe_pattern="""\
def mount(_params, _session, socket) do
  if connected?(socket), do: Blog.subscribe()

  {:ok, stream(socket, :posts, Blog.list_posts())}
end""",
    fix_title="Subscribe only when connected",
)

BLOCKING_CALLBACK = RuleMeta(
    code="LV003",
    slug="blocking-callback",
    title="Blocking call in a LiveView callback",
    severity=Severity.WARNING,
    rationale=(
        "A LiveView is one process per connected user: while a callback waits on an HTTP "
        "request, a sleep, `Task.await` or a shell command, it handles no other event, "
        "message or heartbeat, so the page freezes and a slow upstream can time the socket "
        "out. Hand the work to `start_async/3` and assign its result in `handle_async/3`, so "
        "the LiveView stays responsive and a failure does not crash it."
    ),
    safe_pattern="""\
def handle_event("refresh_preview", %{"url" => url}, socket) do
  {:noreply, start_async(socket, :preview, fn -> Req.get!(url).body end)}
end

def handle_async(:preview, {:ok, preview}, socket) do
  {:noreply, assign(socket, :preview, preview)}
end

def handle_async(:preview, {:exit, _reason}, socket) do
  {:noreply, put_flash(socket, :error, "Could not load the preview")}
end""",
    fix_title="Run it with start_async and assign the result in handle_async",
    related=("LV007",),
)

EXPENSIVE_MOUNT = RuleMeta(
    code="LV007",
    slug="expensive-mount",
    title="Slow I/O in `mount/3` that runs on both mounts",
    severity=Severity.WARNING,
    rationale=(
        "`mount/3` runs for the HTTP render and again when the socket connects, so blocking "
        "I/O there is paid twice and delays the first paint of every visit. `assign_async/3` "
        "renders the page at once with a loading state and loads the data only in the "
        "connected LiveView, off its process."
    ),
    safe_pattern="""\
def mount(%{"url" => url}, _session, socket) do
  {:ok, assign_async(socket, :preview, fn -> {:ok, %{preview: Req.get!(url).body}} end)}
end

# In the template:
#   <.async_result :let={preview} assign={@preview}>
#     <:loading>Loading...</:loading>
#     {preview}
#   </.async_result>""",
    fix_title="Load it with assign_async (the template then renders an AsyncResult)",
    related=("LV003",),
)


@register(SUBSCRIBE_WITHOUT_CONNECTED, applies=may_concern_liveview)
def check_subscribe(ctx: FileContext) -> Iterator[Finding]:
    """LV002: subscriptions in ``mount/3`` both mounts run."""
    if not ctx.contains(b"subscribe"):
        return
    for module in live_modules(ctx):
        for mount in module.functions("mount", 3):
            for call in module.calls(mount):
                name = subscription(call, module.aliases)
                if name is None or under_connected_guard(call, mount):
                    continue
                if inside_async(call, mount):
                    continue
                yield ctx.finding(
                    SUBSCRIBE_WITHOUT_CONNECTED,
                    call,
                    f"`{name}` in `mount/3` also runs for the disconnected render; "
                    "subscribe only when `connected?(socket)`",
                    fixes=_connected_fix(ctx, mount, call),
                )


def _connected_fix(ctx: FileContext, mount: Node, call: Node) -> list[Fix]:
    socket = socket_name(mount)
    statements = syntax.body_nodes(mount)
    statement = _statement_of(call, statements)
    if socket is None or statement is None or syntax.do_block(mount) is None:
        return []
    if statement != call and not _discarded_match(statement, call):
        return []
    existing = next((s for s in statements if _connected_block(s, socket)), None)
    if existing is not None:
        return [_move_into(ctx, statement, existing)]
    code = ctx.text(statement.start_byte, statement.end_byte)
    if "\n" in code:
        return []
    edit = Edit(statement.start_byte, statement.end_byte, f"if connected?({socket}), do: {code}")
    return [Fix(SUBSCRIBE_WITHOUT_CONNECTED.fix_title or "", (edit,))]


def _statement_of(call: Node, statements: list[Node]) -> Node | None:
    for statement in statements:
        if statement.start_byte <= call.start_byte and call.end_byte <= statement.end_byte:
            return statement
    return None


def _discarded_match(statement: Node, call: Node) -> bool:
    """``:ok = Blog.subscribe()`` / ``_ = ...``: the call's result is only checked, not used."""
    if statement.type != "binary_operator" or syntax.operator(statement) != "=":
        return False
    right = statement.child_by_field_name("right")
    left = statement.child_by_field_name("left")
    if right != call or left is None:
        return False
    return left.type == "atom" or syntax.text(left).startswith("_")


def _connected_block(statement: Node, socket: str) -> bool:
    if statement.type != "call" or syntax.call_name(statement) != "if":
        return False
    args = syntax.call_args(statement)
    block = syntax.do_block(statement)
    return (
        bool(args)
        and syntax.text(args[0]) == f"connected?({socket})"
        and block is not None
        and not any(c.type == "else_block" for c in block.named_children)
    )


def _move_into(ctx: FileContext, statement: Node, block_call: Node) -> Fix:
    """Delete ``statement``'s line and make it the first statement of the ``if`` block."""
    block = syntax.do_block(block_call)
    assert block is not None
    inner = syntax.block_statements(block)
    source = ctx.source
    line_start = syntax.line_start(source, statement.start_byte)
    line_end = statement.end_byte
    while line_end < len(source) and source[line_end : line_end + 1] in (b"\r", b"\n"):
        line_end += 1
        if source[line_end - 1 : line_end] == b"\n":
            break
    code = ctx.text(statement.start_byte, statement.end_byte)
    if inner:
        first = inner[0]
        indent = syntax.indentation_at(source, first.start_byte)
        nl = "\r\n" if b"\r\n" in source else "\n"
        insert = Edit(first.start_byte, first.start_byte, f"{code}{nl}{indent}")
    else:
        indent = syntax.indentation_at(source, block_call.start_byte) + "  "
        insert = Edit(block.start_byte + 2, block.start_byte + 2, f"\n{indent}{code}")
    delete = Edit(line_start, line_end, "")
    edits = sorted((insert, delete), key=lambda e: e.start)
    return Fix("Subscribe in the existing `if connected?` block", tuple(edits))


@register(BLOCKING_CALLBACK, applies=may_concern_liveview)
def check_blocking(ctx: FileContext) -> Iterator[Finding]:
    """LV003: blocking calls in event/message/params callbacks (and connected mount branches)."""
    for module in live_modules(ctx):
        for name, arity in EVENT_CALLBACKS:
            for definition in module.functions(name, arity):
                yield from _blocking_in(ctx, module, definition, name)
        for mount in module.functions("mount", 3):
            for call, what in _blocking_calls(module, mount):
                if under_connected_guard(call, mount):
                    yield ctx.finding(
                        BLOCKING_CALLBACK,
                        call,
                        f"{what} in the connected branch of `mount/3` blocks the LiveView "
                        "until it returns; run it with `start_async`",
                    )


def _blocking_calls(module: LiveModule, definition: Node) -> Iterator[tuple[Node, str]]:
    if module.uses_async(definition):
        return
    for call in module.calls(definition):
        what = blocking_call(call, module.aliases)
        if what is not None and not inside_async(call, definition):
            yield call, what


def _blocking_in(
    ctx: FileContext,
    module: LiveModule,
    definition: Node,
    callback: str,
) -> Iterator[Finding]:
    for call, what in _blocking_calls(module, definition):
        rewrite = async_fix.start_async_rewrite(ctx, module, definition, call)
        finding = ctx.finding(
            BLOCKING_CALLBACK,
            call,
            f"{what} in `{callback}` blocks the LiveView until it returns",
            fixes=[rewrite.fix] if rewrite is not None else [],
        )
        note = rewrite.note if rewrite is not None else async_fix.generic_note(callback)
        yield replace(finding, note=note)


@register(EXPENSIVE_MOUNT, applies=may_concern_liveview)
def check_expensive_mount(ctx: FileContext) -> Iterator[Finding]:
    """LV007: blocking calls or three or more unbounded list loads in ``mount/3``."""
    for module in live_modules(ctx):
        for mount in module.functions("mount", 3):
            blocking = [
                (call, what)
                for call, what in _blocking_calls(module, mount)
                if not under_connected_guard(call, mount)
            ]
            for call, what in blocking:
                rewrite = async_fix.assign_async_rewrite(ctx, module, mount, call)
                finding = ctx.finding(
                    EXPENSIVE_MOUNT,
                    call,
                    f"{what} in `mount/3` runs on both the HTTP render and the socket "
                    "connect; load it with `assign_async`",
                    fixes=[rewrite.fix] if rewrite is not None else [],
                )
                note = rewrite.note if rewrite is not None else async_fix.generic_note("mount")
                yield replace(finding, note=note)
            yield from _many_reads(ctx, module, mount)


def _many_reads(ctx: FileContext, module: LiveModule, mount: Node) -> Iterator[Finding]:
    if module.uses_async(mount):
        return
    context_calls = not project_without_ecto(ctx.facts)
    loads = [
        call
        for call in module.calls(mount)
        if collection_load(call, module.aliases, context_calls=context_calls) == call
        and not under_connected_guard(call, mount)
        and not inside_async(call, mount)
    ]
    if len(loads) < MOUNT_READ_THRESHOLD:
        return
    names = ", ".join(f"`{syntax.call_name(c)}`" for c in loads)
    yield ctx.finding(
        EXPENSIVE_MOUNT,
        loads[MOUNT_READ_THRESHOLD - 1],
        f"`mount/3` loads {len(loads)} whole collections ({names}), twice per visit; "
        "load them with `assign_async` or only when `connected?(socket)`",
    )
