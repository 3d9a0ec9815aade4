"""Rewriting a blocking callback's own code with ``start_async`` / ``assign_async`` (LV003, LV007).

The rewrite is offered where its meaning is clear: the callback ends in
``{:noreply, assign(socket, :key, value)}`` (or ``{:ok, ...}`` in ``mount``)
and the blocking call is inside ``value``, or inside ``var = expr`` whose
variable is used only as that assigned value. The work moves into a closure
(which must not capture the socket), and the assign moves to
``handle_async/3``; in ``mount`` it becomes ``assign_async``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.edits import apply_edits
from analyzers.fixes import line_ending
from analyzers.model import Edit, Fix
from analyzers.rules.liveview.module_rules import LiveModule, socket_name

START_ASYNC_TITLE = "Run it with start_async and assign the result in handle_async"


@dataclass(frozen=True)
class Rewrite:
    """A fix and the hover note showing the rewritten code."""

    fix: Fix
    note: str


@dataclass(frozen=True)
class _Shape:
    key: str
    variable: str
    work: Node
    assigned: Node
    binding: Node | None
    piped: bool


def start_async_rewrite(
    ctx: FileContext, module: LiveModule, definition: Node, call: Node
) -> Rewrite | None:
    """``{:noreply, start_async(...)}`` plus ``handle_async`` clauses, when the shape allows."""
    shape = _shape(ctx, definition, call, "noreply")
    socket = socket_name(definition)
    if shape is None or socket is None:
        return None
    name = (syntax.def_name(definition) or ("", ""))[1]
    existing = module.functions("handle_async", 3)
    if any(_first_param_atom(d) == shape.key for d in existing):
        return None
    anchor = existing[-1] if existing else module.functions(name)[-1]
    nl = line_ending(ctx.source)
    indent = syntax.indentation_at(ctx.source, anchor.start_byte)
    impl = f"{indent}@impl true{nl}" if not existing and _uses_impl(module) else ""
    work = ctx.text(shape.work.start_byte, shape.work.end_byte)
    clauses = (
        f"{nl}{nl}{impl}"
        f"{indent}def handle_async(:{shape.key}, {{:ok, {shape.variable}}}, socket) do{nl}"
        f"{indent}  {{:noreply, assign(socket, :{shape.key}, {shape.variable})}}{nl}"
        f"{indent}end{nl}{nl}"
        f"{indent}def handle_async(:{shape.key}, {{:exit, _reason}}, socket) do{nl}"
        f'{indent}  {{:noreply, put_flash(socket, :error, "Could not load {shape.key}")}}{nl}'
        f"{indent}end"
    )
    receiver = "" if shape.piped else f"{socket}, "
    replacement = f"start_async({receiver}:{shape.key}, fn -> {work} end)"
    edits = [Edit(shape.assigned.start_byte, shape.assigned.end_byte, replacement)]
    if shape.binding is not None:
        edits.append(_delete_line(ctx.source, shape.binding))
    edits.append(Edit(anchor.end_byte, anchor.end_byte, clauses))
    edits.sort(key=lambda e: e.start)
    fix = Fix(START_ASYNC_TITLE, tuple(edits))
    note = _note(ctx, definition, edits, clauses.strip("\r\n"), "start_async")
    return Rewrite(fix, note)


def assign_async_rewrite(
    ctx: FileContext, module: LiveModule, mount: Node, call: Node
) -> Rewrite | None:
    """``{:ok, assign_async(socket, :key, fn -> {:ok, %{key: ...}} end)}`` for a blocking mount."""
    shape = _shape(ctx, mount, call, "ok")
    socket = socket_name(mount)
    if shape is None or socket is None:
        return None
    work = ctx.text(shape.work.start_byte, shape.work.end_byte)
    receiver = "" if shape.piped else f"{socket}, "
    replacement = (
        f"assign_async({receiver}:{shape.key}, fn -> {{:ok, %{{{shape.key}: {work}}}}} end)"
    )
    edits = [Edit(shape.assigned.start_byte, shape.assigned.end_byte, replacement)]
    if shape.binding is not None:
        edits.append(_delete_line(ctx.source, shape.binding))
    edits.sort(key=lambda e: e.start)
    # Not preferred: the template must change to render the AsyncResult, so fix-all and
    # `--fix` leave it to the user to pick (and to adapt the template) deliberately.
    fix = Fix(
        f"Load :{shape.key} with assign_async (the template then renders an AsyncResult)",
        tuple(edits),
        preferred=False,
    )
    template = (
        f"<.async_result :let={{{shape.key}}} assign={{@{shape.key}}}>\n"
        "  <:loading>Loading...</:loading>\n"
        f"  ...{{{shape.key}}}...\n"
        "</.async_result>"
    )
    note = _note(ctx, mount, edits, "", "assign_async") + (
        f"\n\n`@{shape.key}` becomes a `Phoenix.LiveView.AsyncResult`; render it with:"
        f"\n\n```heex\n{template}\n```"
    )
    return Rewrite(fix, note)


def _shape(ctx: FileContext, definition: Node, call: Node, status: str) -> _Shape | None:
    if syntax.do_block(definition) is None:
        return None
    statements = syntax.body_nodes(definition)
    if not statements:
        return None
    result = statements[-1]
    items = [c for c in result.named_children if c.type != "comment"]
    if result.type != "tuple" or len(items) != 2 or syntax.atom_value(items[0]) != status:
        return None
    socket = socket_name(definition)
    for assign in syntax.walk(items[1]):
        parts = _assign_parts(assign, socket)
        if parts is None:
            continue
        key, value = parts
        if not key.isidentifier():
            return None
        binding: Node | None = None
        if _contains(value, call):
            work: Node | None = value
            variable = key
        elif value.type == "identifier":
            variable = syntax.text(value)
            binding = _binding_of(statements[:-1], variable, call)
            if binding is None or _uses(definition, variable) != 2:
                continue
            work = binding.child_by_field_name("right")
        else:
            continue
        if work is None:
            return None
        text = ctx.text(work.start_byte, work.end_byte)
        if "\n" in text or (socket is not None and _uses(work, socket)):
            return None
        piped = syntax.pipe_source(assign) is not None
        return _Shape(key, variable, work, assign, binding, piped)
    return None


def _assign_parts(node: Node, socket: str | None) -> tuple[str, Node] | None:
    """``(key, value)`` of ``assign(socket, :key, value)``/``assign(socket, key: value)``.

    Piped (``socket |> f() |> assign(:key, value)``), any socket expression may come in.
    """
    if node.type != "call" or syntax.call_name(node) != "assign":
        return None
    args = syntax.effective_args(node)
    if not args or (syntax.pipe_source(node) is None and syntax.text(args[0]) != socket):
        return None
    if len(args) == 3:
        key = syntax.atom_value(args[1])
        return (key, args[2]) if key is not None else None
    if len(args) == 2:
        pairs = syntax.keyword_pairs(args[1])
        if len(pairs) == 1:
            return pairs[0][0], pairs[0][2]
    return None


def _contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _binding_of(statements: list[Node], variable: str, call: Node) -> Node | None:
    for statement in statements:
        if statement.type == "binary_operator" and syntax.operator(statement) == "=":
            left = statement.child_by_field_name("left")
            right = statement.child_by_field_name("right")
            if (
                left is not None
                and right is not None
                and syntax.text(left) == variable
                and _contains(right, call)
            ):
                return statement
    return None


def _uses(node: Node, variable: str) -> int:
    return sum(
        1 for n in syntax.walk(node) if n.type == "identifier" and syntax.text(n) == variable
    )


def _first_param_atom(definition: Node) -> str | None:
    params = syntax.def_params(definition)
    return syntax.atom_value(params[0]) if params else None


def _uses_impl(module: LiveModule) -> bool:
    return b"@impl" in (module.node.text or b"")


def _delete_line(source: bytes, statement: Node) -> Edit:
    start = syntax.line_start(source, statement.start_byte)
    end = statement.end_byte
    if source[end : end + 2] == b"\r\n":
        end += 2
    elif source[end : end + 1] in (b"\n", b"\r"):
        end += 1
    return Edit(start, end, "")


def _note(ctx: FileContext, definition: Node, edits: list[Edit], extra: str, how: str) -> str:
    """Markdown showing the callback as the fix leaves it (plus any new clauses)."""
    start = syntax.line_start(ctx.source, definition.start_byte)
    inside = [
        Edit(e.start - start, e.end - start, e.new_text)
        for e in edits
        if start <= e.start and e.end <= definition.end_byte
    ]
    rewritten = apply_edits(ctx.source[start : definition.end_byte], inside).decode(
        "utf-8", "replace"
    )
    code = _dedent(rewritten + ("\n\n" + extra if extra else ""))
    return f"**With `{how}`:**\n\n```elixir\n{code}\n```"


def _dedent(code: str) -> str:
    lines = code.splitlines()
    widths = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(widths, default=0)
    return "\n".join(line[cut:] for line in lines)


def generic_note(callback: str) -> str:
    """The hover note when the code's shape does not allow an automatic rewrite."""
    if callback == "mount":
        return (
            "Move the slow work into `assign_async(socket, :key, fn -> {:ok, %{key: ...}} end)` "
            "and render `@key` with `<.async_result>`."
        )
    return (
        "Move the slow work into `start_async(socket, :name, fn -> ... end)` and assign its "
        "result in `handle_async(:name, {:ok, result}, socket)`."
    )
