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
