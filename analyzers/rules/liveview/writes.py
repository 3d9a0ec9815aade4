"""Every write of an assign in a LiveView module: ``assign``/``assign_new``/``update``, any form.

Shared by LV001 (what is assigned), LV006 (what grows) and the stream
conversion (how to rewrite each write). Function components' own
``assign(assigns, ...)`` calls are not socket writes and are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from analyzers import syntax
from analyzers.rules.liveview.module_rules import LiveModule

# Recognises the list being grown: the function's parameter, ``&1`` or ``socket.assigns.key``.
Matcher = Callable[[Node], bool]
WriteKind = Literal["assign", "assign_new", "update"]
# Calls that keep a list at a fixed size when applied with it.
BOUNDING_CALLS = ("Enum.take", "Enum.slice", "Enum.drop", "List.delete_at", ":lists.sublist")


@dataclass(frozen=True)
class Growth:
    """A write that adds one ``item`` to the list: prepended (``[x | xs]``) or appended."""

    item: str
    prepend: bool


@dataclass(frozen=True)
class AssignWrite:
    """One key written by one call.

    ``value`` is the assigned expression (the function body for ``assign_new``,
    the updating function for ``update``; None when it cannot be read); ``rest`` is the text of the call's other
    keyword pairs (keyword form with several keys), else None.
    """

    call: Node
    key: str
    kind: WriteKind
    style: Literal["positional", "keyword"]
    value: Node | None
    function: str
    definition: Node
    rest: str | None = None
    growth: Growth | None = None


def assign_writes(module: LiveModule) -> list[AssignWrite]:
    """The module's assign writes, in source order (cached on the module)."""
    cached = module.cache.get("writes")
    if cached is None:
        cached = [w for d in module.defs for w in _writes_in(module, d)]
        module.cache["writes"] = cached
    result: list[AssignWrite] = cached
    return result


def _writes_in(module: LiveModule, definition: Node) -> list[AssignWrite]:
    name = (syntax.def_name(definition) or ("", ""))[1]
    if name == "render":
        return []
    found: list[AssignWrite] = []
    for call in module.calls(definition):
        kind = syntax.call_name(call)
        if kind not in ("assign", "assign_new", "update"):
            continue
        args = syntax.effective_args(call)
        if not args or syntax.text(args[0]) == "assigns":
            continue
        found.extend(_read_write(call, kind, args, name, definition))
    return found


def _read_write(
    call: Node, kind: str, args: list[Node], function: str, definition: Node
) -> list[AssignWrite]:
    if len(args) == 3:
        key = syntax.atom_value(args[1])
        if key is None:
            return []
        value: Node | None = args[2]
        growth: Growth | None = None
        if kind == "assign_new":
            value = _thunk_body(args[2])
            return [AssignWrite(call, key, "assign_new", "positional", value, function, definition)]
        if kind == "update":
            growth = growth_of_function(args[2])
            return [
                AssignWrite(
                    call, key, "update", "positional", args[2], function, definition, growth=growth
                )
            ]
        growth = growth_of_value(args[2], key)
        return [
            AssignWrite(
                call, key, "assign", "positional", value, function, definition, growth=growth
            )
        ]
    if len(args) == 2 and kind == "assign":
        pairs = syntax.keyword_pairs(args[1])
        writes = []
        for name, pair, pair_value in pairs:
            others = [syntax.text(p) for _n, p, _v in pairs if p != pair]
            writes.append(
                AssignWrite(
                    call,
                    name,
                    "assign",
                    "keyword",
                    pair_value,
                    function,
                    definition,
                    rest=", ".join(others) if others else None,
                    growth=growth_of_value(pair_value, name),
                )
            )
        return writes
    return []


def _thunk_body(function: Node) -> Node | None:
    """``x`` for ``fn -> x end`` (no parameters, one expression); None otherwise."""
    if function.type != "anonymous_function":
        return None
    clauses = [c for c in function.named_children if c.type == "stab_clause"]
    if len(clauses) != 1 or clauses[0].child_by_field_name("left") is not None:
        return None
    body = clauses[0].child_by_field_name("right")
    statements = [c for c in body.named_children if c.type != "comment"] if body else []
    return statements[0] if len(statements) == 1 else None


def growth_of_function(function: Node) -> Growth | None:
    """``fn xs -> [x | xs] end``, ``&[x | &1]``, ``&(&1 ++ [x])``: the item added, if that is all."""
    if function.type == "unary_operator" and syntax.operator(function) == "&":
        # ``&(&1 ++ [x])``: the operand field points at the parenthesis, not the expression.
        operand = next((c for c in function.named_children if c.type != "comment"), None)
        if operand is None:
            return None
        return _growth(operand, lambda n: syntax.text(n) == "&1")
    if function.type != "anonymous_function":
        return None
    clauses = [c for c in function.named_children if c.type == "stab_clause"]
    if len(clauses) != 1:
        return None
    params = clauses[0].child_by_field_name("left")
    body = clauses[0].child_by_field_name("right")
    names = [c for c in params.named_children] if params is not None else []
    if len(names) != 1 or names[0].type != "identifier" or body is None:
        return None
    statements = [c for c in body.named_children if c.type != "comment"]
    if len(statements) != 1:
        return None
    param = syntax.text(names[0])
    return _growth(statements[0], lambda n: n.type == "identifier" and syntax.text(n) == param)


def growth_of_value(value: Node, key: str) -> Growth | None:
    """``[x | socket.assigns.key]`` / ``socket.assigns.key ++ [x]``: the item added."""
    return _growth(value, lambda n: assigns_read(n) == key)


def assigns_read(node: Node) -> str | None:
    """``key`` for ``socket.assigns.key`` / ``assigns.key`` (a read of the assign in code)."""
    if node.type != "call" or syntax.call_args(node):
        return None
    target = node.child_by_field_name("target")
    if target is None or target.type != "dot":
        return None
    left, right = target.child_by_field_name("left"), target.child_by_field_name("right")
    if left is None or right is None:
        return None
    written = syntax.text(left)
    if written == "assigns" or written.endswith(".assigns"):
        return syntax.text(right)
    return None


def _growth(expression: Node, matches: Matcher) -> Growth | None:
    if expression.type == "list":
        inner = [c for c in expression.named_children if c.type != "comment"]
        if (
            len(inner) == 1
            and inner[0].type == "binary_operator"
            and syntax.operator(inner[0]) == "|"
        ):
            head = inner[0].child_by_field_name("left")
            tail = inner[0].child_by_field_name("right")
            if head is not None and tail is not None and matches(tail):
                return _item(head, matches, prepend=True)
        return None
    if expression.type == "binary_operator" and syntax.operator(expression) == "++":
        left = expression.child_by_field_name("left")
        right = expression.child_by_field_name("right")
        if left is None or right is None:
            return None
        if matches(left) and right.type == "list":
            return _single(right, matches, prepend=False)
        if matches(right) and left.type == "list":
            return _single(left, matches, prepend=True)
    return None


def _single(listing: Node, matches: Matcher, *, prepend: bool) -> Growth | None:
    inner = [c for c in listing.named_children if c.type != "comment"]
    if len(inner) != 1 or inner[0].type == "keywords":
        return None
    if inner[0].type == "binary_operator" and syntax.operator(inner[0]) == "|":
        return None
    return _item(inner[0], matches, prepend=prepend)


def _item(item: Node, matches: Matcher, *, prepend: bool) -> Growth | None:
    if any(matches(n) for n in syntax.walk(item)):
        return None
    return Growth(syntax.text(item), prepend)


def bounded_elsewhere(write: AssignWrite) -> bool:
    """Whether the same function also trims the list (``Enum.take``...), keeping it bounded."""
    for call in syntax.walk(write.definition):
        if call.type != "call" or call == write.definition:
            continue
        name = syntax.call_name(call) or ""
        if name in BOUNDING_CALLS:
            return True
    return False


SHRINKING = (
    b"Enum.filter",
    b"Enum.reject",
    b"List.delete",
    b" -- ",
    b"tl(",
    *map(str.encode, BOUNDING_CALLS),
)


def shrunk_elsewhere(module: LiveModule, key: str) -> bool:
    """Whether the module also removes items from ``@key`` or tests membership: a toggled set.

    A list of selected options that grows on "select" and shrinks on "deselect"
    is bounded by the options, not by time.
    """
    for write in assign_writes(module):
        if write.key != key or write.value is None:
            continue
        if any(word in (write.value.text or b"") for word in SHRINKING):
            return True
        for call in syntax.walk(write.definition):
            if call.type == "call" and syntax.call_name(call) == "Enum.member?":
                args = syntax.effective_args(call)
                if args and assigns_read(args[0]) == key:
                    return True
    return False
