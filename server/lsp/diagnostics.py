"""Diagnostics: findings as LSP diagnostics, debounced analysis, push or pull (never both).

A burst of changes costs one analysis: each change re-arms a per-document
timer and only the last one runs (in the analysis worker thread, see
:mod:`server.lsp.analysis`). A result is published only if the document is
still at the version, and the settings at the generation, it was computed for. Clients that declare
``textDocument.diagnostic`` pull; everyone else gets ``publishDiagnostics``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from analyzers.explain import docs_uri
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import get_rule
from server.lsp.analysis import Analysis
from server.lsp.documents import Document
from server.lsp.positions import PositionCodec

if TYPE_CHECKING:
    from server.lsp.server import PhxguardServer

log = logging.getLogger(__name__)

SOURCE = "phxguard"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


@functools.cache
def _docs_href(meta: RuleMeta) -> str:
    """The docs URI of a rule, computed once per rule.

    ``docs_uri`` resolves the docs file's path on disk (several ``lstat``
    calls): per finding, that cost more than the rest of the diagnostic.
    """
    return docs_uri(meta)


def to_diagnostic(finding: Finding, codec: PositionCodec) -> types.Diagnostic:
    """The LSP diagnostic of a finding (range in the codec's encoding)."""
    rule = get_rule(finding.code)
    description = types.CodeDescription(href=_docs_href(rule.meta)) if rule is not None else None
    return types.Diagnostic(
        range=codec.range(finding.start, finding.end),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=description,
        source=SOURCE,
    )


def diagnostics_of(
    server: PhxguardServer, doc: Document, analysis: Analysis
) -> list[types.Diagnostic]:
    """All diagnostics of an analysis of ``doc`` (which must be at the analysed version)."""
    codec = server.codec(doc)
    return [to_diagnostic(f, codec) for f in analysis.findings]


class DiagnosticsScheduler:
    """Debounces analyses per document and pushes results to clients that do not pull."""

    def __init__(self, server: PhxguardServer) -> None:
        self.server = server
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # Publishing tasks in flight (the loop keeps only weak references to tasks).
        self._tasks: set[asyncio.Task[None]] = set()
        # What was last pushed per document, so a reload that changes nothing sends nothing.
        self._pushed: dict[str, tuple[int, list[types.Diagnostic]]] = {}

    def schedule(self, uri: str) -> None:
        """Analyse ``uri`` once the user pauses (``debounceMs`` after the last call)."""
        self.cancel(uri)
        delay = self.server.settings.debounce_ms / 1000
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(delay, self._fire, uri)

    def now(self, uri: str) -> None:
        """Analyse ``uri`` as soon as the worker is free (open, save, settings change)."""
        self.cancel(uri)
        self._fire(uri)

    def cancel(self, uri: str) -> None:
        """Forget a pending analysis of ``uri``."""
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    async def current(self, uri: str) -> tuple[Document, Analysis] | None:
        """The open document ``uri`` and its analysis as it is now (waited for); None if closed.

        The analysis runs in the worker thread while the event loop goes on
        serving; a pending debounced run is left alone: for push clients it
        still has to publish (a hover or code action arriving mid-debounce
        must not swallow the diagnostics of the change before it), and it
        reuses this result.
        """
        doc = self.server.documents.get(uri)
        if doc is None:
            return None
        analysis = await self.server.analyzer.current(doc)
        doc = self.server.documents.get(uri)
        if analysis is None or doc is None:
            return None
        return doc, analysis

    def refresh_all(self) -> None:
        """Settings or project facts changed: re-analyse open documents (or ask pullers to pull)."""
        if self.server.pull_diagnostics:
            for doc in self.server.documents:
                self.cancel(doc.uri)
            if self.server.capability("workspace.diagnostics.refresh_support", False):
                self.server.workspace_diagnostic_refresh(None)
            return
        for doc in self.server.documents:
            self.now(doc.uri)

    def closed(self, uri: str) -> None:
        """A document closed: stop its timer, drop its results, clear what was pushed."""
        self.cancel(uri)
        self.server.analyzer.forget(uri)
        self._pushed.pop(uri, None)
        if not self.server.pull_diagnostics:
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def _fire(self, uri: str) -> None:
        self._timers.pop(uri, None)
        task = asyncio.ensure_future(self._analyse_and_push(uri))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _analyse_and_push(self, uri: str) -> None:
        try:
            await self._publish_fresh(uri)
        except Exception as exc:
            log.exception("analysis of %s failed", uri)
            self.server.log_to_client(
                f"phxguard: analysis of {uri} failed: {exc!r}", types.MessageType.Error
            )

    async def _publish_fresh(self, uri: str) -> None:
        doc = self.server.documents.get(uri)
        if doc is None:
            return
        # Pull clients ask when they want results; computing now keeps the answer fast.
        analysis = await self.server.analyzer.analysis_of(doc)
        if self.server.pull_diagnostics:
            return
        if self.server.documents.get(uri) is not doc or not self.server.analyzer.is_fresh(doc):
            # The document or the settings moved on while it ran; their own run publishes.
            log.debug("dropping stale diagnostics of %s v%s", uri, analysis.version)
            return
        diagnostics = diagnostics_of(self.server, doc, analysis)
        if self._pushed.get(uri) == (doc.version, diagnostics):
            return
        self._pushed[uri] = (doc.version, diagnostics)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=diagnostics)
        )


async def pull(
    server: PhxguardServer, params: types.DocumentDiagnosticParams
) -> types.RelatedFullDocumentDiagnosticReport | types.RelatedUnchangedDocumentDiagnosticReport:
    """``textDocument/diagnostic``: the current results, waiting for a fresh analysis if needed."""
    found = await server.diagnostics.current(params.text_document.uri)
    if found is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    doc, analysis = found
    if params.previous_result_id is not None and params.previous_result_id == analysis.result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=analysis.result_id)
    return types.RelatedFullDocumentDiagnosticReport(
        items=diagnostics_of(server, doc, analysis), result_id=analysis.result_id
    )
