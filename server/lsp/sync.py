"""Document synchronisation: open, incremental change, save, close."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from server.lsp.documents import TextChange

if TYPE_CHECKING:
    from server.lsp.server import PhxguardServer

log = logging.getLogger(__name__)


def _text_change(change: types.TextDocumentContentChangeEvent) -> TextChange:
    if isinstance(change, types.TextDocumentContentChangePartial):
        r = change.range
        return TextChange(
            change.text, (r.start.line, r.start.character, r.end.line, r.end.character)
        )
    return TextChange(change.text)


def did_open(server: PhxguardServer, params: types.DidOpenTextDocumentParams) -> None:
    """Track the document and analyse it at once (the user is looking at it)."""
    item = params.text_document
    path = to_fs_path(item.uri) or ""
    doc = server.documents.open(item.uri, path, item.language_id, item.version, item.text)
    # Its unsaved text is what the workspace facts say about this file from now on.
    server.fact_sync.document_changed(doc)
    server.diagnostics.now(item.uri)


def did_change(server: PhxguardServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply the changes to the mirror and tree; analyse after the user pauses."""
    uri = params.text_document.uri
    changes = [_text_change(c) for c in params.content_changes]
    doc = server.documents.change(uri, params.text_document.version, changes, server.encoding)
    if doc is not None:
        # Facts first: both timers share the delay, so the analysis sees the new facts.
        server.fact_sync.schedule(doc)
        server.diagnostics.schedule(uri)


def did_save(server: PhxguardServer, params: types.DidSaveTextDocumentParams) -> None:
    """Reparse from scratch (incremental trees may drift in error regions) and analyse now."""
    uri = params.text_document.uri
    doc = server.documents.save(uri, params.text)
    if doc is not None:
        server.fact_sync.document_changed(doc)
        server.diagnostics.now(uri)
        # The disk copy changed too: it is what the file reports once closed.
        server.workspace_diagnostics.refresh(doc.path)


def did_close(server: PhxguardServer, params: types.DidCloseTextDocumentParams) -> None:
    """Stop tracking the document and clear its diagnostics; its facts come from disk again."""
    uri = params.text_document.uri
    doc = server.documents.close(uri)
    if doc is not None:
        server.fact_sync.document_closed(uri, doc.path)
    server.fixes.forget(uri)
    server.diagnostics.closed(uri)
    if doc is not None:
        server.workspace_diagnostics.document_closed(doc.path)
