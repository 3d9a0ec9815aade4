"""Open documents: a bytes mirror and an incrementally updated parse tree per document.

pygls applies ``didChange`` to its own copy before our handler runs, and its
line splitting disagrees with LSP about U+2028 and form feed, so the server
keeps its own copy. Each content change is applied to the mirror in order,
the tree is told about it with ``Tree.edit``, and one incremental parse
follows. Nodes are never kept across edits (their text goes stale).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Tree

from analyzers.budget import DEFAULT_MAX_FILE_BYTES
from analyzers.engine import ELIXIR, language_for
from analyzers.parsing import edit_tree, elixir_parser, reparse
from analyzers.text import Encoding, LineIndex
from server.lsp.positions import PositionCodec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextChange:
    """One content change: replace ``range`` (LSP line/character pairs) with ``text``.

    ``range`` is None for a full-text replacement.
    """

    text: str
    range: tuple[int, int, int, int] | None = None


@dataclass
class Document:
    """One open document: what the client has, as bytes, and its tree (Elixir only)."""

    uri: str
    path: str
    language_id: str
    version: int
    source: bytes
    language: str | None = None
    tree: Tree | None = None
    _index: LineIndex | None = field(default=None, repr=False)
    # While the tree has syntax errors: the last text that parsed without, and its tree.
    clean_base: tuple[bytes, Tree] | None = field(default=None, repr=False)

    @property
    def index(self) -> LineIndex:
        """Line starts of the current source.

        A ranged change updates it from the edit; any other new source (a full
        replacement, a resynchronising save) rebuilds it here on first use.
        """
        if self._index is None or self._index.source is not self.source:
            self._index = LineIndex(self.source)
        return self._index

    def codec(self, encoding: Encoding) -> PositionCodec:
        """A position codec for the current source in ``encoding``."""
        return PositionCodec(self.index, encoding)

    @property
    def text(self) -> str:
        """The source as text (invalid UTF-8 replaced)."""
        return self.source.decode("utf-8", "replace")

    @property
    def has_syntax_errors(self) -> bool:
        """Whether the current tree has ERROR or MISSING nodes."""
        return self.tree is not None and self.tree.root_node.has_error


def _encode(text: str) -> bytes:
    # A lone surrogate (legal in JSON) becomes "?": one unit in every encoding, like the original.
    return text.encode("utf-8", "replace")


MAX_TREES = 32


class DocumentStore:
    """The open documents, by URI."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}
        # Our own parser: the analyzers' shared one may be busy in a worker thread
        # (project facts are read off the event loop), and parsers are not thread-safe.
        self._parser = elixir_parser()
        # Bigger documents are kept as bytes but not parsed: their analysis is skipped
        # anyway, and a full parse of 10 MB would hold the event loop for a second.
        self.parse_limit = DEFAULT_MAX_FILE_BYTES
        # Trees cost ~40x their source in memory: only the documents edited most recently
        # keep one (for incremental reparsing); the others are parsed again when edited.
        self.max_trees = MAX_TREES
        self._with_trees: OrderedDict[str, None] = OrderedDict()

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._docs.values()))

    def __len__(self) -> int:
        return len(self._docs)

    def get(self, uri: str) -> Document | None:
        """The open document at ``uri``, or None."""
        return self._docs.get(uri)

    def open(self, uri: str, path: str, language_id: str, version: int, text: str) -> Document:
        """Start tracking a document (re-opening replaces it)."""
        doc = Document(
            uri=uri,
            path=path,
            language_id=language_id,
            version=version,
            source=_encode(text),
            language=language_for(path, language_id),
        )
        self._full_parse(doc)
        self._docs[uri] = doc
        self._keep_tree(doc)
        return doc

    def close(self, uri: str) -> Document | None:
        """Stop tracking a document; returns it if it was open."""
        self._with_trees.pop(uri, None)
        return self._docs.pop(uri, None)

    def ensure_tree(self, doc: Document) -> Tree | None:
        """``doc``'s tree, parsed again if it was dropped to save memory (None if not Elixir)."""
        if doc.tree is None and doc.language == ELIXIR and len(doc.source) <= self.parse_limit:
            self._full_parse(doc)
        self._keep_tree(doc)
        return doc.tree

    def _keep_tree(self, doc: Document) -> None:
        """``doc`` was just used: it keeps its tree; the least recently used beyond the cap drop theirs."""
        if doc.tree is None:
            self._with_trees.pop(doc.uri, None)
            return
        self._with_trees[doc.uri] = None
        self._with_trees.move_to_end(doc.uri)
        while len(self._with_trees) > self.max_trees:
            uri, _ = self._with_trees.popitem(last=False)
            other = self._docs.get(uri)
            if other is not None:
                other.tree = None
                other.clean_base = None

    def change(
        self, uri: str, version: int, changes: Iterable[TextChange], encoding: Encoding
    ) -> Document | None:
        """Apply content changes in order; None (and a log line) if ``uri`` is not open."""
        doc = self._docs.get(uri)
        if doc is None:
            log.warning("didChange for %s, which is not open: ignored", uri)
            return None
        if version <= doc.version:
            # The order the changes arrive in is the order the client made them (LSP keeps
            # notifications in order): applying them keeps the text right; skipping one would not.
            log.warning(
                "didChange for %s has version %d, not above the current %d: applied anyway",
                uri,
                version,
                doc.version,
            )
        had_errors = doc.has_syntax_errors
        # A copy (cheap: subtrees are shared), as the tree itself is edited below.
        before = (doc.source, doc.tree.copy()) if doc.tree is not None and not had_errors else None
        edited = False
        for change in changes:
            if change.range is None:
                doc.source = _encode(change.text)
                doc.tree = None
                edited = False
                continue
            edited = self._apply_range(doc, change, encoding) or edited
        doc.version = version
        if doc.tree is None or not edited or len(doc.source) > self.parse_limit:
            self._full_parse(doc)
        else:
            doc.tree = self._parser.parse(doc.source, doc.tree)
            if had_errors and not doc.tree.root_node.has_error:
                # Error recovery can leave an incremental tree shaped unlike a fresh one:
                # parse again from the last error-free tree instead (or from scratch).
                self._parse_from_clean_base(doc)
            elif before is not None and doc.tree.root_node.has_error:
                doc.clean_base = before
        if not doc.has_syntax_errors:
            doc.clean_base = None
        self._keep_tree(doc)
        return doc

    def _parse_from_clean_base(self, doc: Document) -> None:
        """Reparse ``doc`` incrementally from its last error-free tree, else from scratch."""
        base = doc.clean_base
        tree = reparse(*base, doc.source, self._parser) if base is not None else None
        if tree is None:
            self._full_parse(doc)
        else:
            doc.tree = tree

    def save(self, uri: str, text: str | None = None) -> Document | None:
        """On save: adopt the saved text if the client sent it, and reparse from scratch."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        if text is not None:
            data = _encode(text)
            if data != doc.source:
                log.warning("saved text of %s differs from the synced copy: resynchronised", uri)
                doc.source = data
        self._full_parse(doc)
        self._keep_tree(doc)
        return doc

    def _apply_range(self, doc: Document, change: TextChange, encoding: Encoding) -> bool:
        assert change.range is not None
        start_line, start_char, end_line, end_char = change.range
        codec = doc.codec(encoding)
        start = codec.resolve(start_line, start_char)
        end = codec.resolve(end_line, end_char)
        if start.clamped or end.clamped:
            log.warning(
                "change range %s of %s lies outside the document (%d lines): clamped",
                change.range,
                doc.uri,
                doc.index.line_count,
            )
        start_byte, end_byte = start.offset, end.offset
        if end_byte < start_byte:
            log.warning(
                "change range %s of %s ends before it starts: swapped", change.range, doc.uri
            )
            start_byte, end_byte = end_byte, start_byte
        inserted = _encode(change.text)
        old = doc.source
        doc.source = old[:start_byte] + inserted + old[end_byte:]
        # The next change and the diagnostics need the new index anyway: updating the one
        # ``codec`` just used costs a fraction of splitting the whole source again.
        doc._index = codec.index.edited(start_byte, end_byte, inserted, doc.source)
        if doc.tree is None:
            return False
        edit_tree(doc.tree, old, doc.source, start_byte, end_byte)
        return True

    def set_parse_limit(self, limit: int) -> None:
        """Adopt the configured ``max_file_bytes``: documents now within it get their tree."""
        if limit == self.parse_limit:
            return
        self.parse_limit = limit
        for doc in self._docs.values():
            if doc.tree is None or len(doc.source) > limit:
                self._full_parse(doc)

    def _full_parse(self, doc: Document) -> None:
        """Parse from scratch; no tree for other languages or over the size limit."""
        parse = doc.language == ELIXIR and len(doc.source) <= self.parse_limit
        doc.clean_base = None
        doc.tree = self._parser.parse(doc.source) if parse else None
