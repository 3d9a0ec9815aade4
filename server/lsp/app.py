"""Wiring: build the server with every feature registered, and run it over stdio or TCP."""

from __future__ import annotations

import logging
import os
import sys
from typing import ClassVar

from lsprotocol import types

from server.lsp import code_actions, diagnostics, hover, inspect_document, sync, workspace
from server.lsp.server import UNREADABLE, PhxguardServer

log = logging.getLogger(__name__)


class ClientLogHandler(logging.Handler):
    """Forwards the server's own warnings to ``window/logMessage`` (the editor's log, no pop-up)."""

    _KINDS: ClassVar[dict[int, types.MessageType]] = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
    }

    def __init__(self, server: PhxguardServer, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        """Send one record; failures to send are dropped (stderr has it anyway)."""
        kind = self._KINDS.get(record.levelno, types.MessageType.Log)
        try:
            self.server.log_to_client(f"phxguard: {record.getMessage()}", kind)
        except Exception:
            return


def create_server() -> PhxguardServer:
    """A server with all phxguard features registered."""
    server = PhxguardServer()
    server.handler(types.INITIALIZE, workspace.initialize)
    server.handler(types.INITIALIZED, workspace.initialized)
    server.handler(types.WORKSPACE_DID_CHANGE_CONFIGURATION, workspace.did_change_configuration)
    server.handler(types.WORKSPACE_DID_CHANGE_WATCHED_FILES, workspace.did_change_watched_files)
    server.handler(types.TEXT_DOCUMENT_DID_OPEN, sync.did_open)
    server.handler(types.TEXT_DOCUMENT_DID_CHANGE, sync.did_change)
    server.handler(
        types.TEXT_DOCUMENT_DID_SAVE, sync.did_save, options=types.SaveOptions(include_text=True)
    )
    server.handler(types.TEXT_DOCUMENT_DID_CLOSE, sync.did_close)
    server.handler(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        diagnostics.pull,
        default=types.RelatedFullDocumentDiagnosticReport(items=[]),
        options=types.DiagnosticOptions(
            identifier="phxguard", inter_file_dependencies=False, workspace_diagnostics=True
        ),
    )
    server.handler(
        types.WORKSPACE_DIAGNOSTIC,
        _workspace_pull,
        default=types.WorkspaceDiagnosticReport(items=[]),
    )
    server.handler(types.TEXT_DOCUMENT_HOVER, hover.hover)
    server.handler(
        types.TEXT_DOCUMENT_CODE_ACTION,
        code_actions.code_actions,
        default=[],
        options=types.CodeActionOptions(
            code_action_kinds=list(code_actions.KINDS), resolve_provider=True
        ),
    )
    server.handler(types.CODE_ACTION_RESOLVE, _resolve_action)
    server.handler(inspect_document.METHOD, inspect_document.document_state)
    return server


def _workspace_pull(
    server: PhxguardServer, params: types.WorkspaceDiagnosticParams
) -> types.WorkspaceDiagnosticReport:
    return server.workspace_diagnostics.pull(params)


def _resolve_action(server: PhxguardServer, action: types.CodeAction) -> types.CodeAction:
    try:
        return code_actions.resolve(server, action)
    except Exception:
        log.exception("codeAction/resolve failed")
        return action


def configure_logging(server: PhxguardServer) -> None:
    """Log to stderr (stdout carries the protocol) and forward warnings to the client."""
    level = os.environ.get("PHXGUARD_LOG_LEVEL", "INFO").upper()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [stderr]
    root.setLevel(getattr(logging, level, logging.INFO))
    # pygls logs every message at INFO, including whole documents.
    logging.getLogger("pygls").setLevel(logging.WARNING)
    # An undecodable body is reported once by report_server_error, without a traceback.
    logging.getLogger("pygls.server").addFilter(_not_unreadable)
    # Rule failures reach the client through Analyzer's own report, not twice.
    logging.getLogger("server").addHandler(ClientLogHandler(server))


def _not_unreadable(record: logging.LogRecord) -> bool:
    """Drop pygls' traceback for a message body that is not JSON (reported once elsewhere)."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, UNREADABLE)


def start(tcp: tuple[str, int] | None = None) -> None:
    """Run the language server: over stdio, or on ``tcp=(host, port)``."""
    server = create_server()
    configure_logging(server)
    if tcp is None:
        log.info("phxguard language server on stdio")
        server.start_io()
    else:
        host, port = tcp
        log.info("phxguard language server on %s:%d", host, port)
        server.start_tcp(host, port)
