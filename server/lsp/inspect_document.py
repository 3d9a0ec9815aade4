"""``phxguard/documentState``: the server's own view of an open document, for bug reports.

Editors' "phxguard: show document state" commands and the end-to-end tests ask
it to prove that the server's mirror still equals the buffer (a digest is
enough for a bug report; the text itself only when asked for).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.lsp.server import PhxguardServer

METHOD = "phxguard/documentState"


def _param(params: Any, name: str, default: Any = None) -> Any:
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)


def document_state(server: PhxguardServer, params: Any) -> dict[str, Any] | None:
    """``{uri, version, bytes, sha256, syntaxErrors, text?}`` of an open document, else null.

    Params: ``{"uri": ..., "includeText": bool}``.
    """
    uri = _param(params, "uri")
    if not isinstance(uri, str):
        return None
    doc = server.documents.get(uri)
    if doc is None:
        return None
    state: dict[str, Any] = {
        "uri": doc.uri,
        "version": doc.version,
        "bytes": len(doc.source),
        "sha256": hashlib.sha256(doc.source).hexdigest(),
        "syntaxErrors": doc.has_syntax_errors,
    }
    if _param(params, "includeText", False) is True:
        state["text"] = doc.text
    return state
