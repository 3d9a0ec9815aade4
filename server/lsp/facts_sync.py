"""Workspace facts kept current: disk at start, then open documents and watched files.

The index is built once off the event loop (:meth:`FactsSync.load`). After
that each file is re-read on its own: an open document's unsaved text wins
over the file on disk (updated on open, after each debounced change, on
save); on close the disk copy is read again; ``didChangeWatchedFiles`` updates
files that are not open. When any fact changes, the analyzer adopts the new
facts and the other open documents are analysed again (a template's hints
depend on its LiveView, and the other way round).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from analyzers.facts import MAX_FACT_FILE_BYTES, SOURCE_SUFFIXES, FactIndex
from analyzers.project import find_project_root

if TYPE_CHECKING:
    from server.lsp.documents import Document
    from server.lsp.server import PhxguardServer

log = logging.getLogger(__name__)


class FactsSync:
    """The server's :class:`~analyzers.facts.FactIndex` and the events that update it."""

    def __init__(self, server: PhxguardServer) -> None:
        self.server = server
        self.index: FactIndex | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}

    async def load(self) -> None:
        """Index the workspace off the event loop, overlay open documents, re-analyse all."""
        root = self.server.settings.root
        index = FactIndex(None)
        if root is not None:
            project = find_project_root(root) or root
            loop = asyncio.get_running_loop()
            try:
                index = await loop.run_in_executor(None, FactIndex.scan, project)
            except Exception as exc:
                log.warning("could not read project facts under %s: %s", project, exc)
        self.index = index
        for doc in self.server.documents:
            if _indexable(doc.path):
                self._read_document(doc)
        self.server.analyzer.reconfigure(facts=index.facts())
        self.server.diagnostics.refresh_all()

    def document_changed(self, doc: Document) -> None:
        """An open document's text is what counts now (open, save)."""
        self.cancel(doc.uri)
        if self.index is not None and _indexable(doc.path):
            self._adopt(self._read_document(doc))

    def schedule(self, doc: Document) -> None:
        """Re-read an edited document's facts once the user pauses (before its analysis runs)."""
        if self.index is None or not _indexable(doc.path):
            return
        self.cancel(doc.uri)
        delay = self.server.settings.debounce_ms / 1000
        loop = asyncio.get_running_loop()
        self._timers[doc.uri] = loop.call_later(delay, self._fire, doc.uri)

    def cancel(self, uri: str) -> None:
        """Forget a pending update of ``uri``."""
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def document_closed(self, uri: str, path: str) -> None:
        """A closed document's facts come from the disk again (or go, if the file is gone)."""
        self.cancel(uri)
        if self.index is not None and _indexable(path):
            self._adopt(self._read_disk(path))

    def files_changed(self, paths: list[str]) -> bool:
        """Watched files changed on disk; open documents keep their editor text. True if facts moved."""
        if self.index is None:
            return False
        open_paths = {doc.path for doc in self.server.documents}
        changed = False
        for path in paths:
            if _indexable(path) and path not in open_paths:
                changed = self._read_disk(path) or changed
        if changed:
            self.server.analyzer.reconfigure(facts=self.index.facts())
        return changed

    def _fire(self, uri: str) -> None:
        self._timers.pop(uri, None)
        doc = self.server.documents.get(uri)
        if doc is not None and self.index is not None:
            try:
                self._adopt(self._read_document(doc))
            except Exception:
                log.exception("facts of %s could not be read", uri)

    def _read_document(self, doc: Document) -> bool:
        assert self.index is not None
        if len(doc.source) > MAX_FACT_FILE_BYTES:
            # As on disk: a generated giant says nothing, and parsing it would hold the loop.
            return self.index.remove(doc.path)
        return self.index.update(doc.path, doc.source)

    def _read_disk(self, path: str) -> bool:
        assert self.index is not None
        file = Path(path)
        try:
            if file.stat().st_size > MAX_FACT_FILE_BYTES:
                return self.index.remove(path)
            data = file.read_bytes()
        except OSError:
            return self.index.remove(path)
        return self.index.update(path, data)

    def _adopt(self, changed: bool) -> None:
        """New facts: the analyzer takes them and the open documents are analysed again."""
        if not changed or self.index is None:
            return
        self.server.analyzer.reconfigure(facts=self.index.facts())
        self.server.diagnostics.refresh_all()


def _indexable(path: str) -> bool:
    return bool(path) and path.endswith(SOURCE_SUFFIXES)
