"""Reusable edit builders for quick-fixes: small, syntax-aware byte-range edits.

Every builder returns :class:`~analyzers.model.Edit` values over the analysed
file's bytes and keeps the surrounding code's layout (inline or one option per
line, brackets or bare keywords, ``\\n`` or ``\\r\\n``). Builders are
deterministic: two findings asking for the same change produce identical
edits, so :func:`analyzers.edits.compatible_fixes` applies it once.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from analyzers import syntax
from analyzers.model import Edit


def add_keyword_option(source: bytes, call: Node, key: str, value_text: str) -> Edit:
    """Set option ``key: value_text`` on ``call``'s trailing keyword options.

    An existing ``key:`` has its value replaced (never a duplicate key).
    Otherwise the pair is appended to the keywords (bare or inside ``[...]``),
    or added as a new last argument: ``f(a)`` -> ``f(a, key: v)``, ``f()`` ->
    ``f(key: v)``, ``f a`` -> ``f a, key: v``. When the last option or
    argument starts its own line, the new pair goes on a line of its own with
    the same indentation.
    """
    if call.type != "call":
        raise ValueError(f"expected a call node, got {call.type}")
    pairs = syntax.keyword_pairs(syntax.options_node(call))
    for name, _pair, value in pairs:
        if name == key:
            return Edit(value.start_byte, value.end_byte, value_text)
    new_pair = f"{key}: {value_text}"
    if pairs:
        return _append_after(source, pairs[-1][1], new_pair)
    written = syntax.call_args(call)
    if written:
        return _append_after(source, written[-1], new_pair)
    args = syntax.arguments_node(call)
    if args is not None and args.child_count and args.children[0].type == "(":
        opening = args.children[0]
        return Edit(opening.end_byte, opening.end_byte, new_pair)
    target = syntax.call_target(call)
    if target is None:
        raise ValueError("call has no target to attach options to")
    # A call written with neither arguments nor parentheses (``Repo.all``, ``foo do``).
    return Edit(target.end_byte, target.end_byte, f"({new_pair})")


def _append_after(source: bytes, last: Node, new_text: str) -> Edit:
    if _starts_line(source, last.start_byte):
        separator = f",{line_ending(source)}{syntax.indentation_at(source, last.start_byte)}"
    else:
        separator = ", "
    return Edit(last.end_byte, last.end_byte, separator + new_text)


def _starts_line(source: bytes, offset: int) -> bool:
    """Only whitespace precedes ``offset`` on its line."""
    start = syntax.line_start(source, offset)
    return source[start:offset].strip(b" \t") == b""


def line_ending(source: bytes) -> str:
    """The file's line ending style: the first one found, ``\\n`` if none."""
    newline = source.find(b"\n")
    carriage = source.find(b"\r")
    if carriage != -1 and (newline == -1 or carriage < newline):
        return "\r\n" if source[carriage + 1 : carriage + 2] == b"\n" else "\r"
    return "\n"


def insert_module_attributes(
    source: bytes, at: int, indent: str, attributes: Sequence[tuple[str, str]]
) -> Edit:
    """Insert ``@name value`` lines (in the given order), each on its own line.

    ``at`` is either the end of a line (the attributes go on the lines after
    it) or the start of a line (they go before it); ``indent`` is written
    before each attribute. Line endings follow the file's style.
    """
    if not attributes:
        raise ValueError("no attributes to insert")
    lines = [f"{indent}@{name} {value}" for name, value in attributes]
    nl = line_ending(source)
    at_line_end = at >= len(source) or source[at : at + 1] in (b"\n", b"\r")
    if at_line_end:
        # Insert before the whole line break so a ``\r\n`` pair is never split.
        if at > 0 and source[at : at + 1] == b"\n" and source[at - 1 : at] == b"\r":
            at -= 1
        return Edit(at, at, "".join(nl + line for line in lines))
    return Edit(at, at, "".join(line + nl for line in lines))


def replace_node(node: Node, new_text: str) -> Edit:
    """Replace a node's whole text."""
    return Edit(node.start_byte, node.end_byte, new_text)
