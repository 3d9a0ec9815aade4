"""Workspace facts: the text of every ``.heex`` template, as the editor has it.

The convert-to-stream fix edits a LiveView's colocated template by byte
offsets, so it must read the same text the editor will apply the edits to:
an open, unsaved template's buffer, not the file on disk. The server feeds
open documents into the fact index, so this collector always holds the text
the user sees; the CLI's index holds the files as saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tree_sitter import Tree

from analyzers.facts import FactCollector, register_collector
from analyzers.rules.liveview.facts import normalise
from analyzers.text import read_source_file

TEMPLATE_SOURCES = "liveview_template_sources"
MAX_TEMPLATE_BYTES = 1_000_000


def wants(path: str, source: bytes) -> bool:
    """Only ``.heex`` files of a reasonable size."""
    return path.endswith(".heex") and len(source) <= MAX_TEMPLATE_BYTES


def collect(path: str, source: bytes, tree: Tree | None) -> bytes:
    """The template's bytes."""
    return source


def combine(per_file: Mapping[str, bytes]) -> dict[str, bytes]:
    """Template bytes by normalised absolute path."""
    return {normalise(path): source for path, source in per_file.items()}


def template_source(sources: object, path: str) -> bytes | None:
    """The text of template ``path``: the indexed (possibly unsaved) text, else the saved file."""
    if isinstance(sources, dict):
        found = sources.get(normalise(path))
        if isinstance(found, bytes):
            return found
    try:
        file = Path(path)
        if file.stat().st_size > MAX_TEMPLATE_BYTES:
            return None
        return read_source_file(file)
    except OSError:
        return None


register_collector(FactCollector(TEMPLATE_SOURCES, wants, collect, combine))
