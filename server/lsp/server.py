"""The language server object: shared state, client-capability queries, isolated handlers."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

from analyzers import __version__
from analyzers.engine import RuleFailure
from analyzers.text import Encoding
from server.lsp.analysis import Analyzer
from server.lsp.code_actions import FixStore
from server.lsp.diagnostics import DiagnosticsScheduler
from server.lsp.documents import Document, DocumentStore
from server.lsp.facts_sync import FactsSync
from server.lsp.positions import PositionCodec, encoding_from_lsp
from server.lsp.protocol import PhxguardProtocol, client_resolves_edits
from server.lsp.settings import SettingsState
from server.lsp.stdio import BufferedStdinReader
from server.lsp.workspace_diagnostics import WorkspaceDiagnostics

log = logging.getLogger(__name__)
# Outside the "server" loggers, whose records are also forwarded to the client:
# report_server_error sends its own single logMessage.
_stderr = logging.getLogger("phxguard.errors")
# pygls' own logger: its message loop reports through it, as when pygls starts it.
_pygls_log = logging.getLogger("pygls.server")
# Bodies pygls cannot even decode.
UNREADABLE = (json.JSONDecodeError, UnicodeDecodeError)


class PhxguardServer(LanguageServer):
    """pygls server holding phxguard's documents, settings and analysis results."""

    def __init__(self) -> None:
        super().__init__(
            name="phxguard",
            version=__version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=PhxguardProtocol,
        )
        self.documents = DocumentStore()
        self.settings = SettingsState()
        self.analyzer = Analyzer(self.documents, self.report_rule_failures)
        self.diagnostics = DiagnosticsScheduler(self)
        self.fixes = FixStore()
        self.fact_sync = FactsSync(self)
        self.workspace_diagnostics = WorkspaceDiagnostics(self)
        self.initialized_client = False
        self._reporting_error = False

    def _start_io_async(
        self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
    ) -> None:
        """pygls' stdio loop, reading through :class:`BufferedStdinReader` (fewer thread hops)."""
        self._stop_event = threading.Event()
        reader = BufferedStdinReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(
                run_async(
                    stop_event=self._stop_event,
                    reader=reader,
                    protocol=self.protocol,
                    logger=_pygls_log,
                    error_handler=self.report_server_error,
                )
            )
        except BrokenPipeError:
            _pygls_log.error("Connection to the client is lost! Shutting down the server.")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]  # pygls leaves it unannotated

    # -- client capabilities -------------------------------------------------

    def capability(self, path: str, default: Any = None) -> Any:
        """A client capability by dotted snake_case path (``text_document.diagnostic``)."""
        try:
            return get_capability(self.client_capabilities, path, default)
        except Exception:
            return default

    @property
    def encoding(self) -> Encoding:
        """The negotiated position encoding."""
        try:
            return encoding_from_lsp(self.workspace.position_encoding)
        except RuntimeError:
            return "utf-16"

    @property
    def pull_diagnostics(self) -> bool:
        """Whether the client pulls diagnostics (then the server never pushes them)."""
        return self.capability("text_document.diagnostic") is not None

    @property
    def resolves_code_action_edits(self) -> bool:
        """Whether code actions go out without edits, filled in by ``codeAction/resolve``."""
        return client_resolves_edits(self.client_capabilities)

    def codec(self, doc: Document) -> PositionCodec:
        """A position codec for ``doc`` in the negotiated encoding."""
        return doc.codec(self.encoding)

    # -- messages to the user ------------------------------------------------

    def log_to_client(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """``window/logMessage`` (never a pop-up); silently skipped before ``initialize``."""
        if not self.initialized_client:
            return
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:
            log.debug("could not send logMessage", exc_info=True)

    def warn_user(self, message: str) -> None:
        """``window/showMessage`` with a warning: for problems the user must fix (bad config)."""
        try:
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )
        except Exception:
            log.debug("could not send showMessage", exc_info=True)

    def report_rule_failures(self, failures: list[RuleFailure]) -> None:
        """A rule that raised goes to the log, not to the user's face."""
        for failure in failures:
            log.debug("rule %s failed on %s:\n%s", failure.code, failure.path, failure.traceback)
            self.log_to_client(
                f"phxguard: rule {failure.code} failed on {failure.path}: {failure.error}",
                types.MessageType.Warning,
            )

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' hook for unexpected errors: log them; never an "Error in server" pop-up.

        When the client is gone, sending the report fails and pygls calls this
        hook again from inside that send: the nested call returns at once (the
        failed send is on stderr already), else each failure reports the last
        and the server never gets to exit.
        """
        if self._reporting_error:
            return
        self._reporting_error = True
        try:
            if isinstance(error, UNREADABLE):
                # A client (or a proxy) sent a body that is not JSON: its problem, not ours.
                message = f"received a message that is not valid JSON ({error}): dropped"
                _stderr.warning("%s", message)
                self.log_to_client(f"phxguard: {message}", types.MessageType.Warning)
                return
            _stderr.error("%s: %s", getattr(source, "__name__", source), error)
            self.log_to_client(f"phxguard internal error: {error}", types.MessageType.Error)
        finally:
            self._reporting_error = False

    # -- handler registration ------------------------------------------------

    def handler(
        self,
        method: str,
        function: Callable[[PhxguardServer, Any], Any],
        *,
        default: Any = None,
        options: Any = None,
    ) -> None:
        """Register ``function(server, params)`` for ``method``, isolated from the others.

        An exception is logged (stderr and ``window/logMessage``) and the
        request is answered with ``default`` instead of an error pop-up.
        """
        server = self

        def report(exc: BaseException) -> Any:
            log.exception("%s handler failed", method)
            server.log_to_client(f"phxguard: {method} failed: {exc!r}", types.MessageType.Error)
            return default

        if inspect.iscoroutinefunction(function):
            coroutine = function

            async def isolated_async(params: Any) -> Any:
                try:
                    return await coroutine(server, params)
                except Exception as exc:
                    return report(exc)

            self.feature(method, options)(isolated_async)
            return

        def isolated(params: Any) -> Any:
            try:
                return function(server, params)
            except Exception as exc:
                return report(exc)

        self.feature(method, options)(isolated)
