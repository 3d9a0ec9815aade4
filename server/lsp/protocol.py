"""pygls protocol tweaks: capabilities that depend on the client, and nothing fatal from input.

- ``initialize``: ``diagnosticProvider`` is advertised only to clients that pull
  (push and pull together duplicate every diagnostic), and ``resolveProvider``
  only to clients that can resolve a code action's edit.
- ``didChange``: pygls' own copy of the document is best effort; a change it
  cannot apply (unknown document, odd range) must not stop ours.
- A request whose params do not validate is answered with InvalidParams
  instead of being dropped (the client would otherwise wait forever).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger(__name__)


def client_pulls_diagnostics(capabilities: types.ClientCapabilities) -> bool:
    """Whether the client declared ``textDocument.diagnostic``."""
    text_document = capabilities.text_document
    return text_document is not None and text_document.diagnostic is not None


def client_resolves_edits(capabilities: types.ClientCapabilities) -> bool:
    """Whether the client can fill in a code action's ``edit`` through ``codeAction/resolve``."""
    text_document = capabilities.text_document
    code_action = text_document.code_action if text_document is not None else None
    resolve = code_action.resolve_support if code_action is not None else None
    return resolve is not None and "edit" in resolve.properties


class PhxguardProtocol(LanguageServerProtocol):
    """LanguageServerProtocol with client-dependent capabilities and input hardening."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Standard initialize, then tailor the capabilities to this client."""
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        capabilities = result.capabilities
        if not client_pulls_diagnostics(params.capabilities):
            capabilities.diagnostic_provider = None
        provider = capabilities.code_action_provider
        if isinstance(provider, types.CodeActionOptions):
            provider.resolve_provider = client_resolves_edits(params.capabilities)
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Update pygls' copy if it can be; always hand the change to the server's handler."""
        try:
            for change in params.content_changes:
                self.workspace.update_text_document(params.text_document, change)
        except Exception:
            log.debug(
                "pygls could not apply a change to %s", params.text_document.uri, exc_info=True
            )
        if (user_handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield user_handler, (params,), None

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Deserialize; a request with invalid params still gets an (error) answer."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], None, exc.to_response_error())
            raise
