"""tree-sitter languages (once per process) and parsers (once per thread).

A parser holds state while it parses and must not be used by two threads at
once; the language server parses on its event loop, analyses in a worker
thread and reads project facts in another.
"""

from __future__ import annotations

import functools
import threading

import tree_sitter
import tree_sitter_elixir


@functools.cache
def elixir_language() -> tree_sitter.Language:
    """The tree-sitter-elixir grammar."""
    return tree_sitter.Language(tree_sitter_elixir.language())


@functools.cache
def heex_language() -> tree_sitter.Language:
    """The HEEx grammar bundled by tree-sitter-language-pack 0.13.0."""
    from tree_sitter_language_pack import get_language

    return get_language("heex")


def elixir_parser() -> tree_sitter.Parser:
    """A new parser for Elixir (parsers hold state: one per document or thread)."""
    return tree_sitter.Parser(elixir_language())


def parse_elixir(source: bytes, old_tree: tree_sitter.Tree | None = None) -> tree_sitter.Tree:
    """Parse Elixir source, incrementally when ``old_tree`` was edited to match ``source``."""
    parser = _shared_elixir_parser()
    if old_tree is None:
        return parser.parse(source)
    return parser.parse(source, old_tree)


_local = threading.local()


def _shared_elixir_parser() -> tree_sitter.Parser:
    parser: tree_sitter.Parser | None = getattr(_local, "elixir", None)
    if parser is None:
        parser = _local.elixir = elixir_parser()
    return parser


def has_syntax_errors(tree: tree_sitter.Tree) -> bool:
    """True when the tree contains ERROR or MISSING nodes."""
    return tree.root_node.has_error


def point_at(source: bytes, offset: int) -> tree_sitter.Point:
    """tree-sitter's point of ``offset``: rows end at ``\\n`` only, columns are bytes."""
    row = source.count(b"\n", 0, offset)
    return tree_sitter.Point(row, offset - (source.rfind(b"\n", 0, offset) + 1))


def edit_tree(tree: tree_sitter.Tree, old: bytes, new: bytes, start: int, old_end: int) -> None:
    """Tell ``tree`` (of ``old``) that ``old[start:old_end]`` became what ``new`` has there.

    The replaced stretch ends in ``new`` at ``old_end + len(new) - len(old)``.
    """
    new_end = old_end + len(new) - len(old)
    tree.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=point_at(old, start),
        old_end_point=point_at(old, old_end),
        new_end_point=point_at(new, new_end),
    )


def reparse(
    base_source: bytes,
    base_tree: tree_sitter.Tree,
    source: bytes,
    parser: tree_sitter.Parser | None = None,
) -> tree_sitter.Tree | None:
    """``source`` parsed incrementally from ``base_tree``, a tree of ``base_source``.

    None when the base or the result has syntax errors: error recovery after an
    incremental parse can differ from a fresh one, so such text is parsed from
    scratch by the caller. ``base_tree`` itself is left as it was.
    """
    if base_tree.root_node.has_error:
        return None
    tree = base_tree.copy()
    start, old_end, _ = changed_span(base_source, source)
    edit_tree(tree, base_source, source, start, old_end)
    parsed = (parser or _shared_elixir_parser()).parse(source, tree)
    return None if parsed.root_node.has_error else parsed


def changed_span(old: bytes, new: bytes) -> tuple[int, int, int]:
    """``(start, old_end, new_end)``: the one stretch where ``old`` and ``new`` differ.

    The common prefix is as long as possible, then the common suffix (within
    what is left).
    """
    shortest = min(len(old), len(new))
    prefix = _common_length(old, new, 0, 0, shortest, 1)
    suffix = _common_length(old, new, len(old) - 1, len(new) - 1, shortest - prefix, -1)
    return prefix, len(old) - suffix, len(new) - suffix


def _common_length(old: bytes, new: bytes, at_old: int, at_new: int, limit: int, way: int) -> int:
    """How many bytes ``old`` and ``new`` share from ``at_old``/``at_new`` on (backwards: -1).

    Slices of growing size, then halving: a few ``memcmp`` over the common
    part rather than one Python step per byte (``memoryview`` compares byte
    by byte, too slow for a whole file).
    """

    def same(low: int, high: int) -> bool:
        # Whether the bytes low..high (counted from the start point) are equal.
        if way > 0:
            return old[at_old + low : at_old + high] == new[at_new + low : at_new + high]
        return (
            old[at_old - high + 1 : at_old - low + 1] == new[at_new - high + 1 : at_new - low + 1]
        )

    low, step = 0, 256
    while low < limit:
        high = min(limit, low + step)
        if not same(low, high):
            break
        low, step = high, step * 2
    else:
        return limit
    # low bytes are equal, the first high are not: halve the stretch in between.
    while high - low > 1:
        middle = (low + high) // 2
        if same(low, middle):
            low = middle
        else:
            high = middle
    return low
