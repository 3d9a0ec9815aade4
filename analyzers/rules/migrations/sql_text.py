"""The SQL text an ``execute`` argument stands for, read from the Elixir source.

A string literal, heredoc or ``~s``/``~S`` sigil is read as Elixir would
(escapes decoded, line continuations removed); ``<>`` concatenation, module
attributes, variables bound earlier in the same function and zero-arity
local functions returning such values are followed. Interpolation is
resolved only for literals and module attributes holding literals.
Anything else is SQL built at run time: :class:`Unreadable`.

Every piece of the SQL text remembers the source bytes it came from, so a
statement found in the SQL can be pointed at in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from analyzers import syntax
from analyzers.rules.migrations.model import MigrationModule

_MAX_DEPTH = 8
# In ~S sigils only an escaped closing delimiter is decoded.
_TERMINATORS = frozenset({")", "]", "}", ">", '"', "'", "|", "/"})
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "s": " ",
    "e": "\x1b",
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "d": "\x7f",
}


@dataclass(frozen=True, slots=True)
class Segment:
    """SQL bytes ``[sql_start, sql_end)`` came from source bytes ``[src_start, src_end)``.

    ``exact`` segments are copied byte for byte, so offsets inside map one to one.
    """

    sql_start: int
    sql_end: int
    src_start: int
    src_end: int
    exact: bool


@dataclass
class SqlText:
    """SQL read from the source, with the map back to source bytes."""

    text: str = ""
    segments: list[Segment] = field(default_factory=list)

    def _append(self, value: str, src_start: int, src_end: int, exact: bool) -> None:
        start = len(self.text.encode("utf-8"))
        self.text += value
        self.segments.append(
            Segment(start, start + len(value.encode("utf-8")), src_start, src_end, exact)
        )

    def _extend(self, other: SqlText) -> None:
        shift = len(self.text.encode("utf-8"))
        self.text += other.text
        self.segments.extend(
            Segment(s.sql_start + shift, s.sql_end + shift, s.src_start, s.src_end, s.exact)
            for s in other.segments
        )

    def source_range(self, start: int, end: int) -> tuple[int, int] | None:
        """Source byte range of SQL bytes ``[start, end)``; None if it spans no segment."""
        first = next((s for s in self.segments if s.sql_start <= start < s.sql_end), None)
        last = next((s for s in self.segments if s.sql_start < end <= s.sql_end), None)
        if first is None or last is None:
            return None
        src_start = first.src_start + (start - first.sql_start) if first.exact else first.src_start
        src_end = last.src_start + (end - last.sql_start) if last.exact else last.src_end
        return (src_start, src_end) if src_start < src_end else None


@dataclass(frozen=True, slots=True)
class Unreadable:
    """The SQL is built at run time; ``node`` is the part that cannot be read."""

    node: Node


@dataclass(frozen=True, slots=True)
class NotSql:
    """The argument is not SQL text (an anonymous function, a keyword list...)."""


Resolved = SqlText | Unreadable | NotSql


def read_sql(value: Node, module: MigrationModule) -> Resolved:
    """What SQL the ``execute`` argument ``value`` stands for."""
    return _read(value, module, 0)


def _read(value: Node, module: MigrationModule, depth: int) -> Resolved:
    if depth > _MAX_DEPTH:
        return Unreadable(value)
    kind = value.type
    if kind == "string":
        return _read_quoted(value, module, depth, raw=False)
    if kind == "sigil":
        name = syntax.text(value.child_by_field_name("sigil_name")) or _sigil_name(value)
        if name == "s":
            return _read_quoted(value, module, depth, raw=False)
        if name == "S":
            return _read_quoted(value, module, depth, raw=True)
        return Unreadable(value)
    if kind in {"anonymous_function", "keywords", "list", "charlist"}:
        return NotSql()
    if kind == "unary_operator" and syntax.operator(value) == "&":
        return NotSql()
    if kind == "binary_operator" and syntax.operator(value) == "<>":
        return _concat(value, module, depth)
    if kind == "unary_operator" or kind == "identifier" or kind == "call":
        target = _definition(value, module)
        if target is None:
            return Unreadable(value)
        resolved = _read(target, module, depth + 1)
        return resolved if not isinstance(resolved, Unreadable) else Unreadable(value)
    if kind == "block":
        inner = [c for c in value.named_children if c.type != "comment"]
        if len(inner) == 1:
            return _read(inner[0], module, depth + 1)
    return Unreadable(value)


def _sigil_name(sigil: Node) -> str:
    for child in sigil.named_children:
        if child.type == "sigil_name":
            return syntax.text(child)
    return ""


def _concat(value: Node, module: MigrationModule, depth: int) -> Resolved:
    out = SqlText()
    for side in ("left", "right"):
        part_node = value.child_by_field_name(side)
        if part_node is None:
            return Unreadable(value)
        part = _read(part_node, module, depth + 1)
        if not isinstance(part, SqlText):
            return part if isinstance(part, Unreadable) else Unreadable(part_node)
        out._extend(part)
    return out


def _read_quoted(value: Node, module: MigrationModule, depth: int, *, raw: bool) -> Resolved:
    out = SqlText()
    for child in value.named_children:
        if child.type == "quoted_content":
            _add_content(out, child, raw=raw)
        elif child.type == "escape_sequence":
            seq = syntax.text(child)
            decoded = seq if raw else _unescape(seq)
            if raw and seq[1:] in _TERMINATORS:
                decoded = seq[1:]
            out._append(decoded, child.start_byte, child.end_byte, decoded == seq)
        elif child.type == "interpolation":
            inner = [c for c in child.named_children if c.type != "comment"]
            literal = _literal(inner[0], module, depth) if len(inner) == 1 else None
            if literal is None:
                return Unreadable(child)
            out._append(literal, child.start_byte, child.end_byte, False)
        elif child.type not in {"sigil_name", "sigil_modifiers"}:
            return Unreadable(child)
    return out


def _add_content(out: SqlText, content: Node, *, raw: bool) -> None:
    """Copy a ``quoted_content`` node; a backslash-newline is Elixir's line continuation."""
    source = content.text or b""
    base = content.start_byte
    position = 0
    while not raw:
        found = source.find(b"\\\n", position)
        if found == -1:
            break
        out._append(
            source[position:found].decode("utf-8", "replace"), base + position, base + found, True
        )
        out._append("", base + found, base + found + 2, False)
        position = found + 2
    out._append(
        source[position:].decode("utf-8", "replace"), base + position, content.end_byte, True
    )


def _unescape(seq: str) -> str:
    body = seq[1:]
    if body in _ESCAPES:
        return _ESCAPES[body]
    if body.startswith("x") and len(body) > 1:
        try:
            return chr(int(body[1:].strip("{}"), 16))
        except ValueError:
            return seq
    if body.startswith("u") and len(body) > 1:
        try:
            return chr(int(body[1:].strip("{}"), 16))
        except ValueError:
            return seq
    return body


def _literal(node: Node, module: MigrationModule, depth: int) -> str | None:
    """The text an interpolated literal (or module attribute holding one) inserts."""
    if node.type in {"integer", "float"}:
        return syntax.text(node).replace("_", "")
    if node.type == "atom":
        return syntax.atom_value(node)
    if node.type == "string":
        resolved = _read_quoted(node, module, depth + 1, raw=False)
        return resolved.text if isinstance(resolved, SqlText) else None
    if node.type == "unary_operator" and syntax.operator(node) == "@":
        target = _definition(node, module)
        return _literal(target, module, depth + 1) if target is not None else None
    return None


def _definition(value: Node, module: MigrationModule) -> Node | None:
    """The expression a module attribute, variable or zero-arity local call stands for."""
    if value.type == "unary_operator":
        found = syntax.module_attribute(value)
        if found is None or found[1] is not None:
            return None
        statement = module.attributes.get(found[0])
        attribute = syntax.module_attribute(statement) if statement is not None else None
        return attribute[1] if attribute is not None else None
    if value.type == "identifier":
        # Not a bound variable: a parenless call of a zero-arity local function.
        return syntax.bound_value(value) or _zero_arity_body(module, syntax.text(value))
    if value.type == "call":
        name = syntax.call_name(value)
        if name is None or "." in name or syntax.call_args(value) or syntax.do_block(value):
            return None
        return _zero_arity_body(module, name)
    return None


def _zero_arity_body(module: MigrationModule, name: str) -> Node | None:
    """The single-expression body of ``def[p] name`` with no parameters, if there is one."""
    body = syntax.block_statements(syntax.do_block(module.node))
    matches = [
        s
        for s in body
        if syntax.def_name(s) is not None and syntax.def_name(s)[1] == name  # type: ignore[index]
    ]
    if len(matches) != 1 or syntax.def_arity(matches[0]) != 0:
        return None
    statements = syntax.body_nodes(matches[0])
    return statements[0] if len(statements) == 1 else None
