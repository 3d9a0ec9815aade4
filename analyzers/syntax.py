"""Reading tree-sitter-elixir nodes as Elixir: call names, arguments, keywords, literals.

tree-sitter-elixir gives a concrete syntax tree; these helpers answer the
questions rules ask ("is this ``Repo.insert``?", "what is the ``concurrently:``
option?") without each rule re-deriving the grammar's shapes.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter

from tree_sitter import Language, Node, Query, QueryCursor, QueryError

from analyzers import budget

DEF_KEYWORDS = frozenset({"def", "defp", "defmacro", "defmacrop"})
_DEF_KEYWORD_BYTES = frozenset(k.encode() for k in DEF_KEYWORDS)
_START = attrgetter("start_byte")
_END = attrgetter("end_byte")


def text(node: Node | None) -> str:
    """The node's source text ('' for None); invalid UTF-8 is replaced."""
    if node is None:
        return ""
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def call_target(node: Node) -> Node | None:
    """The ``target`` of a ``call`` node (identifier, dot, ...)."""
    return node.child_by_field_name("target")


def call_name(node: Node) -> str | None:
    """Dotted name of a call: ``create``, ``Repo.insert``, ``repo().all``, ``:ets.new``.

    Returns None for anonymous calls (``fun.(x)``) and non-call nodes.
    """
    # Called for most calls of a file by several rules: kept to the fewest node accesses.
    if node.type != "call":
        return None
    target = node.child_by_field_name("target")
    if target is None:
        return None
    kind = target.type
    if kind == "identifier":
        raw = target.text
        return raw.decode("utf-8", "replace") if raw is not None else ""
    if kind == "dot":
        left = target.child_by_field_name("left")
        right = target.child_by_field_name("right")
        if right is None or left is None:
            return None
        if left.type == "call":
            left_name = call_name(left)
            left_text = f"{left_name}()" if left_name else text(left)
        else:
            left_text = text(left)
        return f"{left_text}.{text(right)}"
    return None


def identifier_target(node: Node) -> bytes | None:
    """The target's bytes when ``node`` is a call of a bare identifier (``def``, ``alias``).

    Cheaper than :func:`call_name` for "is this a ``defmodule``?" tests: no
    string is built for the (many) calls that are something else.
    """
    if node.type != "call":
        return None
    target = node.child_by_field_name("target")
    if target is None or target.type != "identifier":
        return None
    return target.text


def call_function(node: Node) -> str | None:
    """The function part of a call's name: ``insert`` for ``Repo.insert``."""
    name = call_name(node)
    if name is None:
        return None
    return name.rsplit(".", 1)[-1]


def call_receiver(node: Node) -> str | None:
    """The module part of a dotted call: ``Repo`` for ``Repo.insert``, None for local calls."""
    name = call_name(node)
    if name is None or "." not in name:
        return None
    return name.rsplit(".", 1)[0]


def arguments_node(node: Node) -> Node | None:
    """The ``arguments`` child of a call, if any."""
    for child in node.named_children:
        if child.type == "arguments":
            return child
    return None


def call_args(node: Node) -> list[Node]:
    """The written arguments of a call, a trailing keyword list included as one node."""
    args = arguments_node(node)
    if args is None:
        return []
    return [c for c in args.named_children if c.type != "comment"]


def pipe_source(node: Node) -> Node | None:
    """For a call on the right of ``|>``, the value piped into it."""
    parent = node.parent
    if (
        parent is not None
        and parent.type == "binary_operator"
        and operator(parent) == "|>"
        and parent.child_by_field_name("right") == node
    ):
        return parent.child_by_field_name("left")
    return None


def pipeline_top(node: Node) -> Node:
    """The whole pipeline ``node`` ends (``:t |> index(c) |> create()`` for ``create()``), else ``node``."""
    while (
        node.parent is not None
        and node.parent.type == "binary_operator"
        and operator(node.parent) == "|>"
        and node.parent.child_by_field_name("right") == node
    ):
        node = node.parent
    return node


def effective_args(node: Node) -> list[Node]:
    """A call's arguments as Elixir sees them: the piped value (if any) first."""
    piped = pipe_source(node)
    args = call_args(node)
    return [piped, *args] if piped is not None else args


def operator(node: Node) -> str:
    """The operator token of a binary/unary operator node."""
    op = node.child_by_field_name("operator")
    return text(op) if op is not None else ""


def keyword_pairs(node: Node | None) -> list[tuple[str, Node, Node]]:
    """``(key, pair_node, value_node)`` for a ``keywords`` node or a keyword ``list`` literal."""
    if node is None:
        return []
    container = node
    if node.type == "list":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1 or inner[0].type != "keywords":
            return []
        container = inner[0]
    if container.type != "keywords":
        return []
    pairs: list[tuple[str, Node, Node]] = []
    for pair in container.named_children:
        if pair.type != "pair":
            continue
        key = pair.child_by_field_name("key")
        value = pair.child_by_field_name("value")
        if key is None or value is None:
            continue
        pairs.append((keyword_name(key), pair, value))
    return pairs


def keyword_name(key: Node) -> str:
    """``concurrently`` for the keyword ``concurrently: `` (quoted keywords unquoted)."""
    raw = text(key).strip()
    if raw.endswith(":"):
        raw = raw[:-1]
    return raw.strip("\"'")


def options_node(node: Node) -> Node | None:
    """The trailing keyword options of a call (``keywords`` or a keyword ``list``), if any."""
    args = call_args(node)
    if not args:
        return None
    last = args[-1]
    if last.type == "keywords" or (last.type == "list" and keyword_pairs(last)):
        return last
    return None


def option(node: Node, key: str) -> Node | None:
    """The value node of option ``key`` in a call's trailing keyword list."""
    for name, _pair, value in keyword_pairs(options_node(node)):
        if name == key:
            return value
    return None


def positional_args(node: Node) -> list[Node]:
    """Effective arguments without the trailing keyword options."""
    args = effective_args(node)
    opts = options_node(node)
    return [a for a in args if a != opts]


def atom_value(node: Node | None) -> str | None:
    """``posts`` for ``:posts`` or ``:"posts"``; None for anything else."""
    if node is None:
        return None
    if node.type == "atom":
        return text(node)[1:]
    if node.type == "quoted_atom":
        inner = [c for c in node.named_children if c.type == "quoted_content"]
        if len(inner) == len(node.named_children):
            return "".join(text(c) for c in inner)
    return None


def string_value(node: Node | None) -> str | None:
    """Contents of a string literal without interpolation; None otherwise.

    Escape sequences are kept as written (SQL and table names rarely use them).
    """
    if node is None or node.type != "string":
        return None
    parts: list[str] = []
    for child in node.named_children:
        if child.type == "quoted_content":
            parts.append(text(child))
        elif child.type == "escape_sequence":
            parts.append(_unescape(text(child)))
        else:
            return None
    return "".join(parts)


_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r", '\\"': '"', "\\\\": "\\", "\\'": "'"}


def _unescape(seq: str) -> str:
    return _ESCAPES.get(seq, seq[1:] if seq.startswith("\\") else seq)


def literal_name(node: Node | None) -> str | None:
    """An atom's or a plain string's value: how migrations name tables and columns."""
    return atom_value(node) if node is not None and node.type != "string" else string_value(node)


def is_literal_true(node: Node | None) -> bool:
    """True for the literal ``true``."""
    return node is not None and node.type == "boolean" and text(node) == "true"


def do_block(node: Node) -> Node | None:
    """The ``do ... end`` block of a call, if it has one."""
    for child in node.named_children:
        if child.type == "do_block":
            return child
    return None


def block_statements(block: Node | None) -> list[Node]:
    """Expressions directly inside a do-block (not its ``else``/``rescue`` parts)."""
    if block is None:
        return []
    return [
        c
        for c in block.named_children
        if c.type not in {"comment", "else_block", "rescue_block", "catch_block", "after_block"}
    ]


def body_nodes(call: Node) -> list[Node]:
    """Statements of a call's body: a ``do`` block or a ``do:`` keyword."""
    block = do_block(call)
    if block is not None:
        return block_statements(block)
    value = option(call, "do")
    return [value] if value is not None else []


def def_head(definition: Node) -> Node | None:
    """The head of a ``def``-like call with any ``when`` guard removed.

    ``mount(params, session, socket)`` for ``def mount(params, session, socket) when ...``;
    an ``identifier`` for a zero-arity ``def change do``.
    """
    args = call_args(definition)
    if not args:
        return None
    head = args[0]
    if head.type == "binary_operator" and operator(head) == "when":
        return head.child_by_field_name("left")
    return head


def def_params(definition: Node) -> list[Node]:
    """The parameter patterns of a ``def``-like call (guards removed)."""
    head = def_head(definition)
    return call_args(head) if head is not None and head.type == "call" else []


def def_name(node: Node) -> tuple[str, str] | None:
    """``("def", "change")`` for a function definition call; None otherwise."""
    # Asked of every definition (and many other calls) by several rules: def_head and
    # call_name inlined, with no lists built (same answers as composing them).
    if node.type != "call":
        return None
    target = node.child_by_field_name("target")
    if target is None or target.type != "identifier":
        return None
    keyword = target.text
    if keyword is None or keyword not in _DEF_KEYWORD_BYTES:
        return None
    head: Node | None = None
    for child in node.named_children:
        if child.type == "arguments":
            for argument in child.named_children:
                if argument.type != "comment":
                    head = argument
                    break
            break
    if head is None:
        return None
    if head.type == "binary_operator" and operator(head) == "when":
        head = head.child_by_field_name("left")
        if head is None:
            return None
    kind = head.type
    if kind == "identifier":
        return keyword.decode(), text(head)
    if kind == "call":
        # call_name of a dotted target always has a dot: only a bare identifier names one.
        target = head.child_by_field_name("target")
        if target is not None and target.type == "identifier":
            name = text(target)
            if "." not in name:
                return keyword.decode(), name
    return None


def def_arity(node: Node) -> int:
    """Number of parameters of a ``def``/``defp`` head."""
    return len(def_params(node))


def module_name(node: Node) -> str | None:
    """The alias of a ``defmodule`` call."""
    if identifier_target(node) != b"defmodule":
        return None
    args = call_args(node)
    return text(args[0]) if args and args[0].type == "alias" else None


def module_attribute(node: Node) -> tuple[str, Node | None] | None:
    """``("disable_ddl_transaction", value)`` for ``@disable_ddl_transaction true``."""
    if node.type != "unary_operator" or operator(node) != "@":
        return None
    operand = node.child_by_field_name("operand")
    if operand is None:
        return None
    if operand.type == "identifier":
        return text(operand), None
    if operand.type == "call":
        name = call_name(operand)
        if name is None or "." in name:
            return None
        args = call_args(operand)
        return name, args[0] if args else None
    return None


def walk(node: Node) -> Iterator[Node]:
    """Pre-order walk of named descendants (including ``node``), via a cursor."""
    cursor = node.walk()
    reached_root = False
    while not reached_root:
        current = cursor.node
        if current is not None and current.is_named:
            yield current
        if cursor.goto_first_child():
            continue
        if cursor.goto_next_sibling():
            continue
        while True:
            if not cursor.goto_parent() or cursor.node == node:
                reached_root = True
                break
            if cursor.goto_next_sibling():
                break


def descendants_of_type(node: Node, node_type: str, language: Language) -> list[Node]:
    """Named descendants of ``node`` (itself included) of one type, in document order.

    One C-side query instead of a Python walk over every node: this is what
    workspace fact collectors run over every function of a project.
    ``language`` is the grammar of the node's tree (``tree.language``).
    """
    global _last_descendants
    query = _type_query(node_type, language)
    if query is None:
        return [n for n in walk(node) if n.type == node_type]
    captures = QueryCursor(query).captures(node)
    # Two stable sorts on C-level keys: by start, enclosing nodes first (as FileContext.nodes).
    found = sorted(captures.get("node", []), key=_END, reverse=True)
    found.sort(key=_START)
    _last_descendants = (node, node_type, tuple(found))
    return found


# The last answer of descendants_of_type, for recent_descendants (replaced whole, so threads
# only ever see a complete one).
_last_descendants: tuple[Node, str, tuple[Node, ...]] | None = None


def recent_descendants(node: Node, node_type: str) -> list[Node] | None:
    """What :func:`descendants_of_type` last answered, if it was asked about ``node`` and type.

    Lets the CLI keep the calls the fact collectors found in a file for its analysis.
    """
    last = _last_descendants
    if last is None or last[1] != node_type or last[0] != node:
        return None
    return list(last[2])


@functools.cache
def _type_query(node_type: str, language: Language) -> Query | None:
    try:
        return Query(language, f"({node_type}) @node")
    except QueryError:
        return None


def ancestors(node: Node) -> Iterator[Node]:
    """Parents of ``node``, innermost first.

    Each ``parent`` step descends from the root, so climbing is quadratic in
    depth: on pathological nesting the analysis deadline is checked as we go.
    """
    current = node.parent
    steps = 0
    while current is not None:
        yield current
        current = current.parent
        steps += 1
        if steps & 63 == 0:
            budget.check()


class Enclosing:
    """The innermost of a fixed set of nodes around a node, found from byte ranges.

    Climbing ``parent`` costs a walk from the root per step; this bisects the
    candidates' sorted spans instead. Tree nodes nest or are disjoint, so a
    candidate whose span holds a node's span (and is not the node's own span)
    is one of its ancestors. When spans alone cannot tell (a zero-width node,
    a candidate with the node's very span that is another node, two
    candidates with one span), :meth:`around` says so and the caller climbs.
    """

    def __init__(self, nodes: Iterable[Node], accept: Callable[[Node], bool] | None = None) -> None:
        """Index ``nodes``; with ``accept``, only the nodes it accepts are answers.

        ``accept`` is asked lazily (once per candidate, when a lookup reaches it):
        cheaper than filtering every candidate when few are looked up.
        """
        self._accept = accept
        self._accepted: dict[int, bool] = {}
        by_span: dict[tuple[int, int], Node] = {}
        self._shared_spans: set[tuple[int, int]] = set()
        for node in nodes:
            span = (node.start_byte, node.end_byte)
            seen = by_span.get(span)
            if seen is None:
                by_span[span] = node
            elif seen != node:
                self._shared_spans.add(span)
        # Sorted by start, outer first; then each candidate's nearest enclosing one (or -1).
        spans = sorted(by_span, key=lambda span: (span[0], -span[1]))
        self._starts = [start for start, _ in spans]
        self._ends = [end for _, end in spans]
        self._nodes = [by_span[span] for span in spans]
        self._enclosing: list[int] = []
        open_spans: list[int] = []
        for index, end in enumerate(self._ends):
            while open_spans and self._ends[open_spans[-1]] < end:
                open_spans.pop()
            self._enclosing.append(open_spans[-1] if open_spans else -1)
            open_spans.append(index)

    def around(self, node: Node) -> tuple[bool, Node | None]:
        """``(True, innermost candidate that is an ancestor of node, or None)``.

        ``(False, None)`` when byte ranges cannot decide: climb the parents then.
        """
        start, end = node.start_byte, node.end_byte
        if start == end:
            return False, None  # a zero-width node may sit on a candidate's edge, outside it
        index = bisect.bisect_right(self._starts, start) - 1
        while index >= 0:
            candidate_end = self._ends[index]
            if end <= candidate_end:
                if self._starts[index] != start or candidate_end != end:
                    if (self._starts[index], candidate_end) in self._shared_spans:
                        return False, None
                    if self._accepts(index):
                        return True, self._nodes[index]
                elif self._nodes[index] != node or (start, end) in self._shared_spans:
                    return False, None  # the node's own span: parent or child of it?
            index = self._enclosing[index]
        return True, None

    def _accepts(self, index: int) -> bool:
        if self._accept is None:
            return True
        accepted = self._accepted.get(index)
        if accepted is None:
            accepted = self._accepted[index] = self._accept(self._nodes[index])
        return accepted


def enclosing_def(node: Node) -> Node | None:
    """The ``def``/``defp`` call whose body contains ``node``."""
    for parent in ancestors(node):
        if def_name(parent) is not None:
            return parent
    return None


def enclosing_module(node: Node) -> Node | None:
    """The innermost ``defmodule`` call around ``node``."""
    for parent in ancestors(node):
        if module_name(parent) is not None:
            return parent
    return None


def bound_value(variable: Node) -> Node | None:
    """The value last bound to ``variable`` (``name = value``) before its use, in the same function."""
    name = text(variable)
    definition = enclosing_def(variable)
    if definition is None:
        return None
    found: Node | None = None
    for node in walk(definition):
        if node.start_byte >= variable.start_byte:
            break
        if node.type == "binary_operator" and operator(node) == "=":
            left = node.child_by_field_name("left")
            if left is not None and left.type == "identifier" and text(left) == name:
                found = node.child_by_field_name("right")
    return found


def line_start(source: bytes, offset: int) -> int:
    """Byte offset of the start of the line containing ``offset``."""
    nl = max(source.rfind(b"\n", 0, offset), source.rfind(b"\r", 0, offset))
    return nl + 1


def indentation_at(source: bytes, offset: int) -> str:
    """The leading whitespace of the line containing ``offset``."""
    start = line_start(source, offset)
    end = start
    while end < len(source) and source[end : end + 1] in (b" ", b"\t"):
        end += 1
    return source[start:end].decode("utf-8", "replace")
