"""Definitions that do not parse are set aside, so one half-typed function does not garble a file.

For an unclosed bracket or a dangling operator, tree-sitter's error recovery
often folds everything after it into one ERROR node: the module's definitions
stop being definitions, rules read a garbled tree, and in an editor the hints
after the cursor come and go with each keystroke. So when a file's syntax
errors are not confined to definitions, the definitions that do not parse on
their own are found from the text (formatter-style indentation: a parse tree
cannot be trusted there) and each is replaced by an empty stand-in definition
of exactly the same length, line breaks kept: ``def x do`` on its first line,
``end`` at its end, spaces elsewhere. If the errors are then gone (or confined to
definitions), the file is analysed in that form. Offsets and lines are those
of the real text; a set-aside definition gets no hints until it parses again,
and the rest of the file keeps its hints. Otherwise the file is analysed as
parsed.

It depends on the text alone, so the CLI and the editor agree on a broken file.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tree_sitter import Tree

from analyzers.incremental import errors_only_in
from analyzers.parsing import parse_elixir
from analyzers.units import definition_layout

# A definition's first line: indented (definitions of interest live in modules).
_DEF_LINE = re.compile(rb"^([ \t]+)(?:def|defp|defmacro|defmacrop)(?=[ \t(])", re.M)
_END = re.compile(rb"end(?![\w?!:])")
_OPENING = b"def x do"
_CLOSING = b"end"
_LINE_BREAK = re.compile(rb"[\r\n]")
_NOT_LINE_BREAK = re.compile(rb"[^\r\n]")


@dataclass(frozen=True)
class SetAside:
    """The text to analyse instead of a broken file's, and the spans that were replaced."""

    source: bytes
    spans: tuple[tuple[int, int], ...]

    def covers(self, start: int, end: int) -> bool:
        """Whether the range ``[start, end)`` (or the point ``start``) touches a replaced span."""
        end = max(end, start + 1)
        return any(start < span_end and span_start < end for span_start, span_end in self.spans)


@functools.lru_cache(maxsize=64)
def _next_outer_line(indent: int) -> re.Pattern[bytes]:
    """A line that is not blank and indented no deeper than ``indent`` columns."""
    return re.compile(rb"^[ \t]{0,%d}(?=[^ \t\r\n])" % indent, re.M)


def lexical_definitions(source: bytes) -> list[tuple[int, int]]:
    """Spans of indented ``def``/``defp``/``defmacro``/``defmacrop`` definitions, read from the text.

    A definition runs from its keyword to the ``end`` on the first later line
    indented like its first line, or, when the first such line is something
    else (one-line ``do:`` definitions), to the end of its last non-blank line.
    """
    spans: list[tuple[int, int]] = []
    position = 0
    while True:
        found = _DEF_LINE.search(source, position)
        if found is None:
            return spans
        indent = len(found.group(1))
        start = found.end(1)
        line_end = source.find(b"\n", start)
        after = len(source) if line_end < 0 else line_end + 1
        outer = _next_outer_line(indent).search(source, after)
        if outer is None:
            end = _content_end(source, len(source))
        else:
            text_at = outer.end()
            closing = _END.match(source, text_at)
            if closing is not None and text_at - outer.start() == indent:
                end = closing.end()
            else:
                end = _content_end(source, outer.start())
        end = max(end, _content_end(source, after))
        spans.append((start, end))
        position = max(end, after)


def _content_end(source: bytes, position: int) -> int:
    """``position`` moved back over whitespace."""
    while position > 0 and source[position - 1] in b" \t\r\n":
        position -= 1
    return position


@functools.lru_cache(maxsize=2048)
def parses_alone(text: bytes) -> bool:
    """Whether ``text`` parses without syntax errors on its own (remembered per text)."""
    return not parse_elixir(text).root_node.has_error


def stand_in(text: bytes) -> bytes:
    """An empty ``def x do ... end`` standing in for ``text``: same length, same line breaks.

    All spaces when the first line or the length leaves no room for it.
    """
    blank = bytearray(_NOT_LINE_BREAK.sub(b" ", text))
    first_break = _LINE_BREAK.search(text)
    first_line = first_break.start() if first_break is not None else len(text)
    closing_at = len(text) - len(_CLOSING)
    if (
        first_line >= len(_OPENING)
        and closing_at > len(_OPENING)
        and _LINE_BREAK.search(text, closing_at) is None
    ):
        blank[: len(_OPENING)] = _OPENING
        blank[closing_at:] = _CLOSING
    return bytes(blank)


def needs_setting_aside(tree: Tree, source: bytes | None = None) -> bool:
    """Whether ``tree`` (of ``source``, if given: faster) has syntax errors outside its definitions."""
    root = tree.root_node
    if not root.has_error:
        return False
    return not errors_only_in(root, set(definition_layout(tree, source).spans))


def set_aside(source: bytes, tree: Tree) -> SetAside | None:
    """``source`` with its broken definitions replaced, if its errors escape its definitions.

    None when the errors are confined to definitions (or there are none), or
    when no definition read from the text fails to parse on its own.
    """
    if not needs_setting_aside(tree, source):
        return None
    broken = [(s, e) for s, e in lexical_definitions(source) if not parses_alone(source[s:e])]
    if not broken:
        return None
    pieces: list[bytes] = []
    position = 0
    for start, end in broken:
        pieces += [source[position:start], stand_in(source[start:end])]
        position = end
    pieces.append(source[position:])
    return SetAside(b"".join(pieces), tuple(broken))
