"""Per-element code: the bodies of ``Enum``/``Stream`` iterations and ``for`` comprehensions.

Used by EC001: a query inside one of these runs once per element. An
iteration over a literal (``[:draft, :published]``, ``1..3``, a module
attribute) has a small constant size and is left alone.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.rules.ecto.calls import resolve

ITERATORS = frozenset(
    {
        "map", "each", "flat_map", "reduce", "reduce_while", "filter", "reject", "map_reduce",
        "find", "find_value", "any?", "all?", "count", "sort_by", "group_by", "into",
        "with_index", "each_with_index", "map_join", "flat_map_reduce", "scan", "frequencies_by",
        "uniq_by", "min_by", "max_by", "split_with", "zip_with", "transform", "take_while",
        "drop_while", "chunk_by", "dedup_by", "sum_by", "filter_map",
    }
)  # fmt: skip
ITERATION_MODULES = frozenset({"Enum", "Stream"})
LITERAL_TYPES = frozenset({"list", "map", "tuple", "keywords", "string", "charlist", "sigil"})


@dataclass(frozen=True)
class Iteration:
    """One iteration: its call, what it is called (``Enum.map``/``for``), collection, body."""

    call: Node
    label: str
    collection: Node | None
    bodies: tuple[Node, ...]


def iterations(ctx: FileContext) -> list[Iteration]:
    """Every iteration over a non-literal collection in the file (computed once)."""

    def build() -> list[Iteration]:
        found: list[Iteration] = []
        # Only calls named `for` or like an Enum/Stream iterator: most calls are neither,
        # and this runs per keystroke.
        for call in _iteration_named(ctx):
            function = function_text(call)
            if function == "for":
                item = _comprehension(call) if syntax.call_name(call) == "for" else None
            elif function in ITERATORS:
                item = _enum_call(ctx, call)
            else:
                item = None
            if item is not None and not is_constant_collection(item.collection):
                found.append(item)
        return found

    return ctx.memo("ecto.iterations", build)


_ITERATION_NAMES = frozenset({"for", *ITERATORS})
_COMPREHENSION_NAMES = frozenset({"for"})


def _mentions_iteration_module(ctx: FileContext) -> bool:
    return any(ctx.contains(module.encode()) for module in ITERATION_MODULES)


def _iteration_named(ctx: FileContext) -> list[Node]:
    """The calls that may be iterations: named ``for`` or like an Enum/Stream iterator.

    A call resolves to Enum/Stream only through a name written in the file
    (``Enum.map``, ``alias Enum, as: E``): without the words only ``for`` can iterate.
    """
    names = _ITERATION_NAMES if _mentions_iteration_module(ctx) else _COMPREHENSION_NAMES
    return ctx.calls_named(names)


def may_be_in_iteration(ctx: FileContext, calls: list[Node]) -> bool:
    """Whether any of ``calls`` (or their function identifiers) lies within a possible iteration.

    Every iteration body is inside its iteration's call, so a False answer
    means :func:`innermost_iteration` is None for each of ``calls``, without
    resolving any call or building the iterations. A call's identifier will
    do (see :meth:`FileContext.call_targets`).
    """
    if not calls:
        return False
    # Calls nest or are disjoint: the union of their ranges, as sorted disjoint stretches.
    starts: list[int] = []
    ends: list[int] = []
    for loop in _iteration_named(ctx):
        if ends and loop.start_byte < ends[-1]:
            ends[-1] = max(ends[-1], loop.end_byte)
        else:
            starts.append(loop.start_byte)
            ends.append(loop.end_byte)
    for call in calls:
        index = bisect.bisect_right(starts, call.start_byte) - 1
        if index >= 0 and call.end_byte <= ends[index]:
            return True
    return False


def function_text(call: Node) -> str:
    """The function identifier of a call (``map`` for ``Enum.map``), without resolving it."""
    target = call.child_by_field_name("target")
    if target is not None and target.type == "dot":
        target = target.child_by_field_name("right")
    return syntax.text(target) if target is not None and target.type == "identifier" else ""


def _enum_call(ctx: FileContext, call: Node) -> Iteration | None:
    resolved = resolve(ctx, call)
    if resolved is None or resolved[0] not in ITERATION_MODULES or resolved[1] not in ITERATORS:
        return None
    args = syntax.effective_args(call)
    if not args:
        return None
    bodies = tuple(a for a in args[1:] if a.type in {"anonymous_function", "unary_operator"})
    if not bodies:
        return None
    return Iteration(call, f"{resolved[0]}.{resolved[1]}", args[0], bodies)


def _comprehension(call: Node) -> Iteration | None:
    generators = [
        a
        for a in syntax.call_args(call)
        if a.type == "binary_operator" and syntax.operator(a) == "<-"
    ]
    if not generators:
        return None
    bodies = tuple(syntax.body_nodes(call))
    if not bodies:
        return None
    # Several generators multiply; the comprehension is constant only if all are.
    sources = [g.child_by_field_name("right") for g in generators]
    varying = [s for s in sources if not is_constant_collection(s)]
    return Iteration(call, "for", varying[0] if varying else sources[0], bodies)


def is_constant_collection(node: Node | None) -> bool:
    """A literal list/range/map, or a module attribute: a small, fixed number of elements."""
    if node is None:
        return False
    if node.type in LITERAL_TYPES:
        return True
    if node.type == "unary_operator" and syntax.operator(node) == "@":
        return True
    if node.type == "binary_operator" and syntax.operator(node) in {"..", "..//"}:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        return all(n is not None and n.type == "integer" for n in (left, right))
    return False


def innermost_iteration(ctx: FileContext, node: Node) -> Iteration | None:
    """The innermost iteration whose per-element body contains ``node``."""
    starts, ends, items, enclosing = ctx.memo("ecto.iteration_bodies", lambda: _bodies(ctx))
    # The last body starting at or before the node, then the bodies around it, innermost
    # first: byte ranges instead of climbing the node's parents (each a walk from the root).
    index = bisect.bisect_right(starts, node.start_byte) - 1
    while index >= 0:
        if node.end_byte <= ends[index]:
            return items[index]
        index = enclosing[index]
    return None


def _bodies(ctx: FileContext) -> tuple[list[int], list[int], list[Iteration], list[int]]:
    """Every iteration body as (starts, ends, iterations, index of the enclosing body or -1).

    Sorted by start, outer first: tree nodes nest or are disjoint, so a body
    contains the node exactly when it is, or encloses, the last body starting
    at or before the node and ending at or after it.
    """
    # One iteration per call start, as a call's parents would find them.
    by_call = {item.call.start_byte: item for item in iterations(ctx)}
    bodies = sorted(
        (
            (body.start_byte, body.end_byte, item)
            for item in by_call.values()
            for body in item.bodies
        ),
        key=lambda entry: (entry[0], -entry[1]),
    )
    starts = [start for start, _, _ in bodies]
    ends = [end for _, end, _ in bodies]
    enclosing: list[int] = []
    open_bodies: list[int] = []
    for index, (_, end, _) in enumerate(bodies):
        while open_bodies and ends[open_bodies[-1]] < end:
            open_bodies.pop()
        enclosing.append(open_bodies[-1] if open_bodies else -1)
        open_bodies.append(index)
    return starts, ends, [item for _, _, item in bodies], enclosing
