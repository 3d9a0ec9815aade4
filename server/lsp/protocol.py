"""pygls protocol tweaks: capabilities that depend on the client, and nothing fatal from input.

- ``initialize``: ``diagnosticProvider`` is advertised only to clients that pull
  (push and pull together duplicate every diagnostic), and ``resolveProvider``
  only to clients that can resolve a code action's edit.
- ``didChange``: goes straight to the server's handler; pygls' own copy of
  the document (never read) is not updated, so its line rules (U+2028 ends a
  line there) and its cost per change cannot touch ours.
- A request whose params do not validate is answered with InvalidParams
  instead of being dropped (the client would otherwise wait forever); a
  notification whose params do not validate is ignored. Both get one warning.
- Unknown methods are normal traffic, not server errors: a request gets
  MethodNotFound, a notification is dropped (logged at debug; ``$/`` ones,
  optional by spec, not at all).
- A message that is not a JSON-RPC object (a JSON array, a string) is logged
  and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from cattrs import transform_error
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    LanguageServerProtocol,
    lsp_method,
)

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
        """Hand the change to the server's handler only.

        pygls' own copy of the document is never read (the server keeps its own
        bytes mirror), and updating it cost as much as ours: on a 10 MB file,
        ~100 ms per keystroke. It stays as it was opened.
        """
        if (user_handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield user_handler, (params,), None

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Deserialize; a request or notification that does not validate is handled here.

        A request gets an error answer (InvalidParams; the client would
        otherwise wait for ever), a notification is dropped; either way one
        warning line names the method and what was wrong, instead of pygls'
        traceback and an "internal error" report. Responses are pygls' business.
        """
        if "jsonrpc" not in data:
            return data  # an object nested in the message: pygls structures the whole message
        method = data.get("method")
        if "id" in data and "method" not in data:
            return super().structure_message(data)
        if not isinstance(method, str):
            log.warning("ignored a message without a method name: %.200r", data)
            return _REJECTED
        message_type = self.get_message_type(method) if self._has_handler(method) else None
        if message_type is None:
            # Nobody handles it, so its params do not matter (and JSON-RPC lets them be left
            # out): MethodNotFound for a request, nothing for a notification.
            message_type = JsonRPCRequestMessage if "id" in data else JsonRPCNotification
            data = {"params": None, **data}
        try:
            return self._converter.structure(data, message_type)
        except Exception as exc:
            problems = _problems(exc)
            if "id" in data:
                log.warning("%.100r request with invalid params: %s", method, problems)
                self._send_response(data["id"], None, JsonRpcInvalidParams().to_response_error())
            else:
                log.warning("%.100r notification with invalid params ignored: %s", method, problems)
            return _REJECTED

    def handle_message(self, message: Any) -> None:
        """Dispatch a message; one that is not a JSON-RPC object is logged and dropped."""
        if message is _REJECTED:
            return
        if not hasattr(message, "jsonrpc"):
            log.warning("ignored a message that is not a JSON-RPC object: %.200r", message)
            return
        super().handle_message(message)

    def _handle_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        """An answer to a request we stopped waiting for (its task was cancelled) is dropped.

        pygls would set a result on the cancelled future, log "Unable to handle
        message" and report an internal error to the client.
        """
        future = self._request_futures.get(msg_id)
        if future is not None and future.cancelled():
            del self._request_futures[msg_id]
            log.debug("answer to cancelled request %s dropped", msg_id)
            return
        super()._handle_response(msg_id, result, error)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        """Notifications nobody handles are dropped quietly (``$/...`` ones silently, by spec)."""
        if not self._has_handler(method_name):
            if not method_name.startswith("$/"):
                log.debug("notification %r has no handler: ignored", method_name)
            return
        super()._handle_notification(method_name, params)

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        """An unknown request is answered MethodNotFound: a normal answer, not a server error."""
        if not self._has_handler(method_name):
            log.debug("request %r has no handler: MethodNotFound", method_name)
            error = JsonRpcMethodNotFound.of(method_name).to_response_error()
            self._send_response(msg_id, None, error)
            return
        super()._handle_request(msg_id, method_name, params)

    def _has_handler(self, method_name: str) -> bool:
        if method_name == types.CANCEL_REQUEST:
            return True  # pygls handles it without a registered handler
        try:
            self._get_handler(method_name)
        except JsonRpcMethodNotFound:
            return False
        return True


def _problems(exc: Exception) -> str:
    """What did not validate, briefly (cattrs names each field: ``... @ message.params.x``)."""
    try:
        return "; ".join(transform_error(exc, path="message")[:3])
    except Exception:
        return f"{type(exc).__name__}: {exc}"


class _Rejected:
    """What ``structure_message`` returns for a message it answered or dropped itself."""


_REJECTED = _Rejected()
