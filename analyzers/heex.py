"""HEEx templates: ``~H`` sigils and ``.heex`` files as elements, attributes and Elixir expressions.

Every position is an absolute UTF-8 byte offset into the analysed file: a
``~H`` sigil is parsed on its own with the HEEx grammar through
``Parser.included_ranges`` (so one unclosed tag in one sigil never swallows
the next sigil), and each expression value (``{...}``, ``<%= ... %>``,
attribute values, ``:for``/``:if``) is parsed again with the Elixir grammar
the same way, so Elixir nodes of an expression carry offsets into the file.

Entry points:

* :func:`templates` -- the templates of a :class:`~analyzers.context.FileContext`
  (a ``.heex`` file: one; an Elixir file: one per ``~H`` sigil), memoised.
* :func:`templates_in_elixir` / :func:`template_of_heex` -- the same without a context.

A :class:`Template` has :attr:`~Template.elements` (tags, ``<.components>``,
``<:slots>``) in document order, each with its :attr:`~Element.attributes`
(name, literal value or :class:`Expression`, byte ranges), its
:attr:`~Element.parent` and :attr:`~Element.children`; and all
:attr:`~Template.expressions`. An :class:`Expression` parses lazily into an
Elixir tree (:attr:`~Expression.tree`, :attr:`~Expression.nodes`).

Loops (for the convert-to-stream fix): :meth:`Template.loops` lists the
``:for`` comprehensions; :meth:`Template.loops_over` those over ``@assign``
(``:for={item <- @items}``); each :class:`Loop` gives the looped
:attr:`~Loop.element`, its parent (``loop.element.parent``), the pattern and
collection Elixir nodes, and :attr:`~Loop.assign` / :attr:`~Loop.stream`
(``@streams.items`` -> ``stream == "items"``). Edits: :func:`set_attribute`
(add an attribute, or replace the value of an existing one) and
:func:`replace_attribute_value`, e.g. rewriting a loop::

    loop = template.loops_over("items")[0]
    edits = [
        heex.replace_attribute_value(loop.attribute, "{dom_id, item} <- @streams.items",
                                     expression=True),
        heex.set_attribute(template.source, loop.element, "id", "dom_id", expression=True),
        heex.set_attribute(template.source, loop.element.parent, "phx-update", "stream"),
    ]

Edits are over the file the template lives in (the ``.ex`` file for a sigil).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from tree_sitter import Node, Parser, Point, Range, Tree

from analyzers import syntax
from analyzers.model import Edit
from analyzers.parsing import elixir_language, heex_language

if TYPE_CHECKING:
    from analyzers.context import FileContext

ExpressionKind = Literal["attribute", "body", "directive", "partial", "dynamic"]
ElementKind = Literal["tag", "component", "slot"]

_ELEMENT_TYPES: dict[str, ElementKind] = {"tag": "tag", "component": "component", "slot": "slot"}
_START_TYPES = frozenset(
    {
        "start_tag",
        "self_closing_tag",
        "start_component",
        "self_closing_component",
        "start_slot",
        "self_closing_slot",
    }
)
_VALUE_TYPES: dict[str, ExpressionKind] = {
    "expression_value": "body",
    "partial_expression_value": "partial",
    "ending_expression_value": "partial",
}

_local = threading.local()
_MEMO_KEY = "heex.templates"


def _parser(kind: Literal["heex", "elixir"]) -> Parser:
    """A parser per thread and grammar (parsers hold state; facts load in a worker thread)."""
    parser: Parser | None = getattr(_local, kind, None)
    if parser is None:
        parser = Parser(heex_language() if kind == "heex" else elixir_language())
        setattr(_local, kind, parser)
    return parser


def _parse_range(
    kind: Literal["heex", "elixir"], source: bytes, start: int, end: int, start_point: Point
) -> Tree:
    """Parse ``source[start:end]`` with absolute positions (a whole-file parse if it is all)."""
    parser = _parser(kind)
    if start == 0 and end == len(source):
        parser.included_ranges = []
        return parser.parse(source)
    end_point = _point_after(source, start, start_point, end)
    parser.included_ranges = [Range(start_point, end_point, start, end)]
    try:
        return parser.parse(source)
    finally:
        parser.included_ranges = []


def _point_after(source: bytes, start: int, start_point: Point, end: int) -> Point:
    chunk = source[start:end]
    newlines = chunk.count(b"\n")
    if not newlines:
        return Point(start_point.row, start_point.column + len(chunk))
    return Point(start_point.row + newlines, len(chunk) - chunk.rfind(b"\n") - 1)


class Expression:
    """An Elixir expression inside a template, parsed on first use.

    ``start``/``end`` delimit the Elixir code itself (inside ``{ }`` or
    ``<%= %>``); ``kind`` says where it sits: ``attribute`` value, ``body``
    (``{...}`` or ``<%= %>`` among content), ``partial`` (``<%= if x do %>``,
    ``<% end %>``: not a complete expression), or ``dynamic`` (``<div {@rest}>``).
    """

    def __init__(
        self,
        source: bytes,
        node: Node,
        kind: ExpressionKind,
        element: Element | None,
        attribute: Attribute | None = None,
    ) -> None:
        self.source = source
        self.node = node
        self.start = node.start_byte
        self.end = node.end_byte
        self.kind: ExpressionKind = kind
        self.element = element
        self.attribute = attribute
        self._tree: Tree | None = None

    @property
    def text(self) -> str:
        """The expression's source text."""
        return self.source[self.start : self.end].decode("utf-8", "replace")

    @property
    def tree(self) -> Tree:
        """The expression parsed as Elixir, positions absolute in the file."""
        if self._tree is None:
            self._tree = _parse_range(
                "elixir", self.source, self.start, self.end, self.node.start_point
            )
        return self._tree

    @property
    def nodes(self) -> list[Node]:
        """The top-level Elixir nodes of the expression (usually one)."""
        if self.start == self.end:
            return []
        return [c for c in self.tree.root_node.named_children if c.type != "comment"]

    def calls(self) -> Iterator[Node]:
        """Every Elixir ``call`` node in the expression, outermost first."""
        for top in self.nodes:
            for node in syntax.walk(top):
                if node.type == "call":
                    yield node


@dataclass(eq=False)
class Attribute:
    """One attribute of an element's start tag.

    ``name`` includes a leading ``:`` for special attributes (``:for``,
    ``:if``, ``:let``). ``value`` is the literal text of a quoted value (None
    for an expression value or a bare attribute); ``expression`` the Elixir
    value of ``name={...}``. ``value_start``/``value_end`` cover the written
    value including its quotes or braces (equal to ``end`` for a bare one).
    """

    name: str
    start: int
    end: int
    value: str | None
    value_start: int
    value_end: int
    node: Node
    expression: Expression | None = None
    quote: str = '"'

    @property
    def is_special(self) -> bool:
        """``:for``, ``:if``, ``:let`` and friends."""
        return self.name.startswith(":")


@dataclass(eq=False)
class Element:
    """A tag, ``<.component>``/``<Module.component>`` or ``<:slot>``.

    ``start``/``end`` cover the whole element; ``open_start``/``open_end``
    its start tag (or the whole of a self-closing one). ``name`` is written
    as in the source (``div``, ``.button``, ``Foo.bar``, ``:col``).
    """

    kind: ElementKind
    name: str
    start: int
    end: int
    open_start: int
    open_end: int
    node: Node
    open_node: Node
    self_closing: bool
    parent: Element | None = None
    quote: str = '"'
    attributes: list[Attribute] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)
    dynamic: list[Expression] = field(default_factory=list)

    def attribute(self, name: str) -> Attribute | None:
        """The first attribute called ``name`` (``:for`` with its colon)."""
        for attr in self.attributes:
            if attr.name == name:
                return attr
        return None

    def has_attribute(self, name: str) -> bool:
        """Whether ``name`` is written on the element."""
        return self.attribute(name) is not None

    def ancestors(self) -> Iterator[Element]:
        """Parent, grandparent, ... up to the template's top level."""
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


@dataclass(eq=False)
class Loop:
    """A ``:for={pattern <- collection}`` comprehension on an element.

    ``assign`` is ``items`` for ``@items`` (or ``assigns.items``); ``stream``
    is ``items`` for ``@streams.items``. Either is None for other collections.
    """

    element: Element
    attribute: Attribute
    expression: Expression
    pattern: Node
    collection: Node
    assign: str | None
    stream: str | None


@dataclass(eq=False)
class Template:
    """One HEEx template: a ``.heex`` file or one ``~H`` sigil of an Elixir file.

    ``source`` is the whole file; ``start``/``end`` the template's part of it.
    ``sigil`` is the Elixir ``sigil`` node (None for a ``.heex`` file).
    """

    source: bytes
    start: int
    end: int
    tree: Tree
    sigil: Node | None
    elements: list[Element]
    expressions: list[Expression]
    comments: list[tuple[int, int]]

    @property
    def has_error(self) -> bool:
        """Whether the HEEx parse needed error recovery."""
        return self.tree.root_node.has_error

    def element_at(self, offset: int) -> Element | None:
        """The innermost element whose range contains ``offset``."""
        found: Element | None = None
        for element in self.elements:
            if element.start <= offset < element.end:
                found = element
        return found

    def loops(self) -> list[Loop]:
        """Every ``:for`` comprehension, in document order."""
        found: list[Loop] = []
        for element in self.elements:
            attr = element.attribute(":for")
            if attr is None or attr.expression is None:
                continue
            loop = _read_loop(element, attr, attr.expression)
            if loop is not None:
                found.append(loop)
        return found

    def loops_over(self, assign: str) -> list[Loop]:
        """The ``:for`` loops over ``@assign`` (or ``@streams.assign``)."""
        return [loop for loop in self.loops() if assign in (loop.assign, loop.stream)]


def _read_loop(element: Element, attr: Attribute, expression: Expression) -> Loop | None:
    nodes = expression.nodes
    if not nodes:
        return None
    generator = nodes[0]
    # ``x <- @items, x.ok`` does not parse as one Elixir expression: the
    # generator is then the left operand of the recovered tree.
    while generator.type != "binary_operator" or syntax.operator(generator) != "<-":
        left = generator.child_by_field_name("left") or generator.child_by_field_name("target")
        if left is None:
            return None
        generator = left
    pattern = generator.child_by_field_name("left")
    collection = generator.child_by_field_name("right")
    if pattern is None or collection is None:
        return None
    assign, stream = _assign_of(collection)
    return Loop(element, attr, expression, pattern, collection, assign, stream)


def assign_name(node: Node) -> str | None:
    """``items`` for ``@items`` or ``assigns.items``; None for anything else."""
    if node.type == "unary_operator" and syntax.operator(node) == "@":
        operand = node.child_by_field_name("operand")
        if operand is not None and operand.type == "identifier":
            return syntax.text(operand)
    if node.type == "call" and not syntax.call_args(node):
        target = node.child_by_field_name("target")
        if target is not None and target.type == "dot":
            left, right = target.child_by_field_name("left"), target.child_by_field_name("right")
            if left is not None and right is not None and syntax.text(left) == "assigns":
                return syntax.text(right)
    return None


def _assign_of(collection: Node) -> tuple[str | None, str | None]:
    direct = assign_name(collection)
    if direct is not None:
        return direct, None
    target = collection.child_by_field_name("target") if collection.type == "call" else None
    if target is not None and target.type == "dot" and not syntax.call_args(collection):
        left, right = target.child_by_field_name("left"), target.child_by_field_name("right")
        if left is not None and right is not None and assign_name(left) == "streams":
            return None, syntax.text(right)
    return None, None


def template_of_heex(source: bytes) -> Template:
    """The template of a whole ``.heex`` file."""
    tree = _parse_range("heex", source, 0, len(source), Point(0, 0))
    return _build(source, 0, len(source), tree, None)


def templates_in_elixir(source: bytes, root: Node) -> list[Template]:
    """One template per ``~H`` sigil of an Elixir file, each parsed on its own."""
    if b"~H" not in source:
        return []
    sigils = (node for node in syntax.walk(root) if node.type == "sigil")
    return [t for t in (_template_of_sigil(source, s) for s in sigils) if t is not None]


def _template_of_sigil(source: bytes, sigil: Node) -> Template | None:
    name = next((c for c in sigil.children if c.type == "sigil_name"), None)
    if name is None or syntax.text(name) != "H":
        return None
    content = next((c for c in sigil.children if c.type == "quoted_content"), None)
    if content is None or content.start_byte == content.end_byte:
        return None
    tree = _parse_range("heex", source, content.start_byte, content.end_byte, content.start_point)
    return _build(source, content.start_byte, content.end_byte, tree, sigil)


def templates(ctx: FileContext) -> list[Template]:
    """The templates of the file under analysis (memoised on the context)."""
    if ctx.language == "heex":
        return ctx.memo(_MEMO_KEY, lambda: [template_of_heex(ctx.source)])
    if b"~H" not in ctx.source:
        return []
    return ctx.memo(_MEMO_KEY, lambda: _sigil_templates(ctx))


def adopt(ctx: FileContext, template: Template) -> None:
    """Make ``template`` (already parsed from ``ctx.source``) the context's ``.heex`` template."""
    ctx.memo(_MEMO_KEY, lambda: [template])


def _sigil_templates(ctx: FileContext) -> list[Template]:
    found = (_template_of_sigil(ctx.source, sigil) for sigil in ctx.nodes("sigil"))
    return [t for t in found if t is not None]


def _build(source: bytes, start: int, end: int, tree: Tree, sigil: Node | None) -> Template:
    builder = _Builder(source, _quote_for(sigil))
    builder.visit(tree.root_node, None)
    return Template(
        source=source,
        start=start,
        end=end,
        tree=tree,
        sigil=sigil,
        elements=builder.elements,
        expressions=builder.expressions,
        comments=builder.comments,
    )


def _quote_for(sigil: Node | None) -> str:
    """The quote new attribute values use: never the delimiter of a one-line sigil."""
    if sigil is None:
        return '"'
    opening = sigil.children[2] if sigil.child_count > 2 else None
    return "'" if opening is not None and opening.type == '"' else '"'


class _Builder:
    def __init__(self, source: bytes, quote: str) -> None:
        self.source = source
        self.quote = quote
        self.elements: list[Element] = []
        self.expressions: list[Expression] = []
        self.comments: list[tuple[int, int]] = []

    def visit(self, node: Node, owner: Element | None) -> None:
        # Iterative over siblings, recursive only into elements: templates nest shallowly.
        for child in node.children:
            kind = child.type
            if kind in _ELEMENT_TYPES:
                element = self._element(child, owner)
                if element is None:
                    self.visit(child, owner)
                    continue
                self.visit(child, element)
            elif kind in _START_TYPES:
                continue  # read by _element
            elif kind in _VALUE_TYPES:
                curly = node.type == "expression"
                if child.start_byte < child.end_byte and not (curly and _no_curly(owner)):
                    self.expressions.append(
                        Expression(self.source, child, _VALUE_TYPES[kind], owner)
                    )
            elif kind == "comment":
                self.comments.append((child.start_byte, child.end_byte))
            elif child.child_count:
                self.visit(child, owner)

    def _element(self, node: Node, parent: Element | None) -> Element | None:
        opening = next((c for c in node.children if c.type in _START_TYPES), None)
        if opening is None:
            return None
        name_node = next(
            (c for c in opening.children if c.type in ("tag_name", "component_name", "slot_name")),
            None,
        )
        name = syntax.text(name_node)
        if opening.type.endswith("slot"):
            name = ":" + name
        element = Element(
            kind=_ELEMENT_TYPES[node.type],
            name=name,
            start=node.start_byte,
            end=node.end_byte,
            open_start=opening.start_byte,
            open_end=opening.end_byte,
            node=node,
            open_node=opening,
            self_closing=opening.type.startswith("self_closing"),
            parent=parent,
            quote=self.quote,
        )
        if parent is not None:
            parent.children.append(element)
        self.elements.append(element)
        for child in opening.children:
            if child.type in ("attribute", "special_attribute"):
                element.attributes.append(self._attribute(child, element))
            elif child.type == "expression":
                value = _value_node(child)
                if value is not None:
                    expression = Expression(self.source, value, "dynamic", element)
                    element.dynamic.append(expression)
                    self.expressions.append(expression)
        return element

    def _attribute(self, node: Node, element: Element) -> Attribute:
        name_node = node.children[0]
        value_node = next(
            (c for c in node.children if c.type in ("quoted_attribute_value", "expression")),
            None,
        )
        literal: str | None = None
        if value_node is not None and value_node.type == "quoted_attribute_value":
            inner = next((c for c in value_node.children if c.type == "attribute_value"), None)
            literal = syntax.text(inner) if inner is not None else ""
        attr = Attribute(
            name=syntax.text(name_node),
            start=node.start_byte,
            end=node.end_byte,
            value=literal,
            value_start=value_node.start_byte if value_node is not None else node.end_byte,
            value_end=value_node.end_byte if value_node is not None else node.end_byte,
            node=node,
            quote=self.quote,
        )
        if value_node is not None and value_node.type == "expression":
            value = _value_node(value_node)
            if value is not None:
                attr.expression = Expression(self.source, value, "attribute", element, attr)
                self.expressions.append(attr.expression)
        return attr


def _no_curly(owner: Element | None) -> bool:
    """``{...}`` is text, not code, in ``<script>``/``<style>`` and under phx-no-curly-interpolation."""
    element = owner
    while element is not None:
        if element.name in ("script", "style") or element.has_attribute(
            "phx-no-curly-interpolation"
        ):
            return True
        element = element.parent
    return False


def _value_node(expression: Node) -> Node | None:
    value = next((c for c in expression.children if c.type == "expression_value"), None)
    if value is None or value.start_byte == value.end_byte:
        return None
    return value


def _render_value(value: str, expression: bool, quote: str) -> str:
    if expression:
        return "{" + value + "}"
    if quote in value:
        quote = "'" if quote == '"' else '"'
    return quote + value + quote


def replace_attribute_value(attribute: Attribute, value: str, *, expression: bool = False) -> Edit:
    """Replace ``attribute``'s value with the literal ``value`` (or ``{value}`` if ``expression``).

    A bare attribute (``disabled``) gains ``=value``. Literal values are
    quoted with ``"`` -- or ``'`` inside a one-line ``~H"..."`` sigil, whose
    delimiter a ``"`` would end.
    """
    rendered = _render_value(value, expression, attribute.quote)
    if attribute.value_start == attribute.value_end:
        return Edit(attribute.end, attribute.end, "=" + rendered)
    return Edit(attribute.value_start, attribute.value_end, rendered)


def set_attribute(
    source: bytes, element: Element, name: str, value: str, *, expression: bool = False
) -> Edit:
    """Give ``element`` the attribute ``name`` with ``value``: replace it if written, else add it.

    A new attribute goes after the last attribute of the start tag; when that
    attribute starts its own line (one attribute per line), on a new line
    with the same indentation. Quoting as in :func:`replace_attribute_value`.
    """
    existing = element.attribute(name)
    if existing is not None:
        return replace_attribute_value(existing, value, expression=expression)
    pair = f"{name}={_render_value(value, expression, element.quote)}"
    opening = element.open_node
    written = [
        c for c in opening.children if c.type in ("attribute", "special_attribute", "expression")
    ]
    if written:
        last = written[-1]
        if _starts_line(source, last.start_byte):
            newline = "\r\n" if b"\r\n" in source[element.open_start : last.start_byte] else "\n"
            indent = syntax.indentation_at(source, last.start_byte)
            return Edit(last.end_byte, last.end_byte, f"{newline}{indent}{pair}")
        return Edit(last.end_byte, last.end_byte, " " + pair)
    name_node = next(
        (c for c in opening.children if c.type in ("tag_name", "component_name", "slot_name")),
        None,
    )
    at = name_node.end_byte if name_node is not None else opening.start_byte + 1
    return Edit(at, at, " " + pair)


def _starts_line(source: bytes, offset: int) -> bool:
    start = syntax.line_start(source, offset)
    return source[start:offset].strip(b" \t") == b""
