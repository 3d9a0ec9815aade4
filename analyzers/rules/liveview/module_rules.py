"""What the LiveView module rules share: which modules are LiveViews, their callbacks and guards.

A module is a LiveView (or live component) when it says ``use ...Web, :live_view``
/ ``:live_component`` or ``use Phoenix.LiveView`` / ``Phoenix.LiveComponent``.
Everything here reads the tree once per file (memoised on the context).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.context import FileContext
from analyzers.rules.liveview.facts import LIVE_KINDS, use_kind

MARKERS = (b"live_view", b"LiveView", b"live_component", b"LiveComponent")

# Functions whose anonymous-function argument runs in another process.
ASYNC_RUNNERS = frozenset(
    {
        "start_async",
        "assign_async",
        "async",
        "async_nolink",
        "async_stream",
        "async_stream_nolink",
        "start",
        "start_child",
        "start_link",
        "spawn",
        "spawn_link",
        "spawn_monitor",
    }
)
CONDITIONALS = frozenset({"if", "unless", "case", "with", "cond"})
BOOLEAN_OPERATORS = frozenset({"&&", "and", "||", "or"})


@dataclass
class LiveModule:
    """One LiveView or live component module: its node, aliases and function definitions."""

    node: Node
    aliases: ModuleAliases
    defs: list[Node]
    # Every call node inside the module, in source order (from the file's shared node index).
    all_calls: list[Node] = field(default_factory=list)
    # Per-module derived models (e.g. its assign writes), computed once.
    cache: dict[str, Any] = field(default_factory=dict)

    def functions(self, name: str, arity: int | None = None) -> list[Node]:
        """The clauses of ``name`` (of ``arity`` if given), in source order."""
        heads = self.cache.get("heads")
        if heads is None:
            heads = self.cache["heads"] = [
                ((syntax.def_name(d) or ("", ""))[1], syntax.def_arity(d), d) for d in self.defs
            ]
        return [d for n, a, d in heads if n == name and (arity is None or a == arity)]

    def local_body(self, name: str, arity: int) -> Node | None:
        """The one expression a single-clause local function returns (``defp list_posts``)."""
        clauses = self.functions(name, arity)
        if len(clauses) != 1:
            return None
        body = syntax.body_nodes(clauses[0])
        return body[0] if len(body) == 1 else None

    def calls(self, function: Node) -> list[Node]:
        """Every call inside one function definition (its head too), in source order."""
        key = f"calls.{function.start_byte}"
        if key not in self.cache:
            starts = self.cache.get("call_starts")
            if starts is None:
                starts = self.cache["call_starts"] = [c.start_byte for c in self.all_calls]
            first = bisect.bisect_left(starts, function.start_byte)
            last = bisect.bisect_left(starts, function.end_byte)
            self.cache[key] = [c for c in self.all_calls[first:last] if c != function]
        found: list[Node] = self.cache[key]
        return found

    def uses_async(self, function: Node) -> bool:
        """Whether a function already hands work to ``start_async``/``assign_async``."""
        return any(
            syntax.call_function(c) in {"start_async", "assign_async"} for c in self.calls(function)
        )


def might_be_liveview(ctx: FileContext) -> bool:
    """Cheap byte test: can this file contain a LiveView module at all?"""
    return ctx.language == "elixir" and any(ctx.contains(m) for m in MARKERS)


# What an Elixir file must spell for any LV rule to find something in it: every LV rule
# reads LiveView or live component modules (the template rules, their `~H` sigils), so one
# of :data:`MARKERS`. `live_` stands for both lowercase markers in one search; `LiveView`
# first (its `V` is absent from most files, and `Presence` tries a needle's rarest byte first).
LIVEVIEW_WORDS = (b"LiveView", b"live_", b"LiveComponent")


def may_concern_liveview(ctx: FileContext) -> bool:
    """Every LV rule's ``applies`` test (asked once per file for the family).

    A HEEx template may concern the template rules; an Elixir file concerns
    the family only if it spells one of :data:`LIVEVIEW_WORDS`, which every
    LiveView module (:func:`might_be_liveview`) does.
    """
    return ctx.language != "elixir" or any(ctx.contains(word) for word in LIVEVIEW_WORDS)


def live_modules(ctx: FileContext) -> list[LiveModule]:
    """Every LiveView / live component module of the file (memoised)."""
    return ctx.memo("liveview.modules", lambda: _live_modules(ctx))


def _live_modules(ctx: FileContext) -> list[LiveModule]:
    if not might_be_liveview(ctx):
        return []
    found: list[LiveModule] = []
    for module, aliases in aliases_by_module(ctx.root):
        statements = syntax.block_statements(syntax.do_block(module))
        if not any(use_kind(s, aliases) in LIVE_KINDS for s in statements):
            continue
        defs = [s for s in statements if syntax.def_name(s) is not None]
        calls = [
            c
            for c in ctx.nodes("call")
            if module.start_byte <= c.start_byte and c.end_byte <= module.end_byte
        ]
        found.append(LiveModule(module, aliases, defs, calls))
    return found


def bound_name(pattern: Node) -> str | None:
    """The variable a parameter binds as a whole: ``socket`` or ``%{} = socket``."""
    if pattern.type == "identifier":
        name = syntax.text(pattern)
        return None if name.startswith("_") else name
    if pattern.type == "binary_operator" and syntax.operator(pattern) == "=":
        for side in ("right", "left"):
            child = pattern.child_by_field_name(side)
            if child is not None and child.type == "identifier":
                return bound_name(child)
    return None


def socket_name(definition: Node) -> str | None:
    """The socket variable of a LiveView callback (its last parameter)."""
    params = syntax.def_params(definition)
    return bound_name(params[-1]) if params else None


def mentions_connected(node: Node | None) -> bool:
    """Whether an expression calls ``connected?`` (``Phoenix.LiveView.connected?`` too).

    A variable bound to such a test counts: ``live = connected?(socket)`` then ``if live``.
    """
    if node is None:
        return False
    if b"connected?" in (node.text or b""):
        return True
    for inner in syntax.walk(node):
        if inner.type == "identifier":
            bound = syntax.bound_value(inner)
            if bound is not None and b"connected?" in (bound.text or b""):
                return True
    return False


def under_connected_guard(node: Node, stop: Node) -> bool:
    """Whether ``node`` only runs on one side of a ``connected?`` test inside ``stop``.

    Covers ``if``/``unless``/``case``/``with``/``cond`` on ``connected?``,
    ``connected?(socket) && ...`` and their negations (either branch counts:
    the point is that the code knows about the two mounts).
    """
    child = node
    for parent in syntax.ancestors(node):
        if parent == stop:
            return False
        if parent.type == "call" and syntax.call_name(parent) in CONDITIONALS:
            args = syntax.call_args(parent)
            if args and args[0] != child and mentions_connected(args[0]):
                return True
        elif parent.type == "stab_clause" or (
            parent.type == "binary_operator" and syntax.operator(parent) in BOOLEAN_OPERATORS
        ):
            left = parent.child_by_field_name("left")
            if left is not None and left != child and mentions_connected(left):
                return True
        child = parent
    return False


def inside_async(node: Node, stop: Node) -> bool:
    """Whether ``node`` sits in a function handed to ``start_async``/``Task.async``/``spawn``..."""
    for parent in syntax.ancestors(node):
        if parent == stop:
            return False
        if parent.type in {"anonymous_function", "unary_operator"}:
            if parent.type == "unary_operator" and syntax.operator(parent) != "&":
                continue
            holder = parent.parent
            if holder is not None and holder.type == "arguments":
                call = holder.parent
                if call is not None and syntax.call_function(call) in ASYNC_RUNNERS:
                    return True
    return False
