"""The units incremental analysis re-checks: top-level modules, and the definitions inside modules.

A *module unit* is a ``defmodule`` call at the top of a file. A *definition
unit* is a ``def``/``defp``/``defmacro``/``defmacrop`` call written directly in
a module's ``do`` block (nested modules included). Everything else is the
*skeleton*: module headers, ``use``/``alias``/``import``, attributes, schema
blocks, code between definitions. A rule whose findings inside a unit depend
only on that unit and the skeleton can be re-run on the units an edit touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node, Tree

from analyzers import syntax

MODULE = "module"
DEFINITION = "definition"
FILE = "file"
SCOPES = (FILE, MODULE, DEFINITION)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a file's units are: ``spans`` in source order, non-overlapping."""

    spans: tuple[tuple[int, int], ...]

    def texts(self, source: bytes) -> list[bytes]:
        """Each unit's bytes."""
        return [source[start:end] for start, end in self.spans]

    def skeleton(self, source: bytes) -> bytes:
        """The source with every unit cut out (a separator marks each cut)."""
        parts: list[bytes] = []
        position = 0
        for start, end in self.spans:
            parts.append(source[position:start])
            position = end
        parts.append(source[position:])
        return b"\0".join(parts)

    def unit_at(self, offset: int) -> int | None:
        """Index of the unit whose span contains ``offset`` (end exclusive), else None."""
        low, high = 0, len(self.spans)
        while low < high:
            middle = (low + high) // 2
            start, end = self.spans[middle]
            if offset < start:
                high = middle
            elif offset >= end:
                low = middle + 1
            else:
                return middle
        return None


_DEF_KEYWORDS = frozenset(k.encode() for k in syntax.DEF_KEYWORDS)


def _keyword(node: Node) -> bytes | None:
    """The identifier a call starts with (``def``, ``defmodule``...), read without decoding."""
    if node.type != "call":
        return None
    target = node.child_by_field_name("target")
    return target.text if target is not None and target.type == "identifier" else None


def _is_module(node: Node) -> bool:
    return _keyword(node) == b"defmodule"


def _top_level(tree: Tree) -> Iterator[Node]:
    for child in tree.root_node.named_children:
        if child.type != "comment":
            yield child


def module_layout(tree: Tree) -> Layout:
    """Top-level ``defmodule`` calls."""
    return Layout(tuple((n.start_byte, n.end_byte) for n in _top_level(tree) if _is_module(n)))


def definition_layout(tree: Tree) -> Layout:
    """Definitions written directly in a module's ``do`` block, nested modules included."""
    spans: list[tuple[int, int]] = []
    pending = [n for n in _top_level(tree) if _is_module(n)]
    while pending:
        module = pending.pop()
        block = syntax.do_block(module)
        if block is None:
            continue
        for child in block.named_children:
            keyword = _keyword(child)
            if keyword in _DEF_KEYWORDS:
                spans.append((child.start_byte, child.end_byte))
            elif keyword == b"defmodule":
                pending.append(child)
    spans.sort()
    return Layout(tuple(spans))


def layout(tree: Tree, scope: str) -> Layout:
    """The layout of ``scope`` (``module`` or ``definition``)."""
    return module_layout(tree) if scope == MODULE else definition_layout(tree)
