"""The units incremental analysis re-checks: top-level modules, and the definitions inside modules.

A *module unit* is a ``defmodule`` call at the top of a file. A *definition
unit* is a ``def``/``defp``/``defmacro``/``defmacrop`` call written directly in
a module's ``do`` block (nested modules included). Everything else is the
*skeleton*: module headers, ``use``/``alias``/``import``, attributes, schema
blocks, code between definitions. A rule whose findings inside a unit depend
only on that unit and the skeleton can be re-run on the units an edit touched.

The layout is computed on every keystroke, so it reads node kinds by id and
keywords straight from the source; :func:`changed_units` finds what an edit
changed by comparing the two sources once instead of every unit's text.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter, sub

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.parsing import changed_span, elixir_language

MODULE = "module"
DEFINITION = "definition"
FILE = "file"
SCOPES = (FILE, MODULE, DEFINITION)

_start = itemgetter(0)
_end = itemgetter(1)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a file's units are: ``spans`` in source order, non-overlapping."""

    spans: tuple[tuple[int, int], ...]

    def texts(self, source: bytes) -> list[bytes]:
        """Each unit's bytes."""
        return [source[start:end] for start, end in self.spans]

    def gaps(self, source: bytes) -> list[bytes]:
        """The bytes before, between and after the units (one more than there are units)."""
        ends = chain((0,), map(_end, self.spans))
        starts = chain(map(_start, self.spans), (len(source),))
        return [source[end:start] for end, start in zip(ends, starts, strict=True)]

    def skeleton(self, source: bytes) -> bytes:
        """The source with every unit cut out (a separator marks each cut)."""
        return b"\0".join(self.gaps(source))

    def unit_at(self, offset: int) -> int | None:
        """Index of the unit whose span contains ``offset`` (end exclusive), else None."""
        index = bisect.bisect_right(self.spans, offset, key=_start) - 1
        if index >= 0 and offset < self.spans[index][1]:
            return index
        return None

    def gap_start(self, index: int) -> int:
        """Where gap ``index`` (the one before unit ``index``) starts in the source."""
        return self.spans[index - 1][1] if index > 0 else 0


_DEF_KEYWORDS = frozenset(k.encode() for k in syntax.DEF_KEYWORDS)


@functools.cache
def _kind_ids(name: str) -> frozenset[int]:
    """Every node kind id whose ``Node.type`` is ``name`` (aliases can give a name several ids)."""
    language = elixir_language()
    return frozenset(
        kind for kind in range(language.node_kind_count) if language.node_kind_for_id(kind) == name
    )


def _keyword(node: Node, source: bytes | None = None) -> bytes | None:
    """The identifier a call starts with (``def``, ``defmodule``...), read without decoding.

    Every ``call`` rule of tree-sitter-elixir begins with its ``target`` field,
    so the first child is the target; only an extra (a comment) could come
    first, and then the field is looked up. Reading the first child and
    slicing ``source`` is about twice as fast as ``child_by_field_name`` and
    ``Node.text``, and this runs for every definition on every keystroke.
    """
    if node.kind_id not in _kind_ids("call"):
        return None
    target: Node | None = node.child(0)
    if target is not None and target.is_extra:
        target = node.child_by_field_name("target")
    if target is None or target.kind_id not in _kind_ids("identifier"):
        return None
    if source is None:
        return target.text
    return source[target.start_byte : target.end_byte]


def _top_level(tree: Tree) -> Iterator[Node]:
    for child in tree.root_node.named_children:
        if child.type != "comment":
            yield child


def _modules(tree: Tree, source: bytes | None) -> list[Node]:
    return [n for n in _top_level(tree) if _keyword(n, source) == b"defmodule"]


def module_layout(tree: Tree, source: bytes | None = None) -> Layout:
    """Top-level ``defmodule`` calls (``source``, the tree's bytes, makes it faster)."""
    return Layout(tuple((n.start_byte, n.end_byte) for n in _modules(tree, source)))


def definition_layout(tree: Tree, source: bytes | None = None) -> Layout:
    """Definitions written directly in a module's ``do`` block, nested modules included.

    ``source``, the bytes ``tree`` was parsed from, makes it faster.
    """
    spans: list[tuple[int, int]] = []
    pending = _modules(tree, source)
    calls, identifiers = _kind_ids("call"), _kind_ids("identifier")
    while pending:
        module = pending.pop()
        block = syntax.do_block(module)
        if block is None:
            continue
        for child in block.named_children:
            # _keyword inlined for its common case: this loop is the layout's cost.
            if child.kind_id not in calls:
                continue
            target = child.child(0)
            if source is None or target is None or target.is_extra:
                keyword = _keyword(child, source)
            elif target.kind_id in identifiers:
                keyword = source[target.start_byte : target.end_byte]
            else:
                continue
            if keyword in _DEF_KEYWORDS:
                spans.append((child.start_byte, child.end_byte))
            elif keyword == b"defmodule":
                pending.append(child)
    spans.sort()
    return Layout(tuple(spans))


def layout(tree: Tree, scope: str, source: bytes | None = None) -> Layout:
    """The layout of ``scope`` (``module`` or ``definition``)."""
    return module_layout(tree, source) if scope == MODULE else definition_layout(tree, source)


def changed_units(
    old_source: bytes, old: Layout, new_source: bytes, new: Layout
) -> list[int] | None:
    """Indexes of the units whose text changed, or None if anything else changed.

    Anything else: the number of units, or the skeleton (the bytes before,
    between and after the units). Equivalent to comparing every unit's text
    and every gap, but only the units and gaps around the changed stretch of
    the sources are compared: the others are the same bytes at the same (or
    uniformly shifted) offsets, which comparing the spans shows.
    """
    if len(old.spans) != len(new.spans):
        return None
    count = len(old.spans)
    start, old_end, new_end = changed_span(old_source, new_source)
    shift = new_end - old_end
    # Units ending before the change are the same text if they did not move.
    low = bisect.bisect_right(old.spans, start, key=_end)
    low = _same_prefix(old.spans, new.spans, low)
    # Units starting after it are the same text if they all moved by ``shift``.
    high = max(low, bisect.bisect_left(old.spans, old_end, key=_start))
    high = _same_shifted_suffix(old.spans, new.spans, high, shift)
    # Gaps low..high touch the change (or units that moved unevenly); the others
    # lie between two unchanged units, or before the first / after the last one.
    for index in range(low, high + 1):
        old_gap = old_source[old.gap_start(index) : old.spans[index][0] if index < count else None]
        new_gap = new_source[new.gap_start(index) : new.spans[index][0] if index < count else None]
        if old_gap != new_gap:
            return None
    return [
        index
        for index in range(low, high)
        if old_source[slice(*old.spans[index])] != new_source[slice(*new.spans[index])]
    ]


def _same_prefix(
    old: tuple[tuple[int, int], ...], new: tuple[tuple[int, int], ...], length: int
) -> int:
    """``length``, or less: how many leading spans are equal (of the first ``length``)."""
    if old[:length] == new[:length]:
        return length
    return next(i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b)


def _same_shifted_suffix(
    old: tuple[tuple[int, int], ...], new: tuple[tuple[int, int], ...], index: int, shift: int
) -> int:
    """``index``, or more: from where on every new span is the old one moved by ``shift``."""
    # Differences counted in C: this is every unit after the edit, on every keystroke.
    count = len(old) - index
    before, after = old[index:], new[index:]
    starts = list(map(sub, map(_start, after), map(_start, before)))
    ends = list(map(sub, map(_end, after), map(_end, before)))
    if starts.count(shift) == count and ends.count(shift) == count:
        return index
    end = len(old)
    while end > index and new[end - 1] == (old[end - 1][0] + shift, old[end - 1][1] + shift):
        end -= 1
    return end
