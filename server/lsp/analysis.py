"""Analysing open documents off the event loop, and remembering the latest result per document.

A result is tied to the document version and to the settings generation it
was computed with; anything else is stale and is recomputed (or dropped, if a
newer one already exists) rather than shown.

Analyses run in one worker thread, so a slow one never holds up ``didChange``
or another request. What an analysis reads is snapshotted on the event loop
first (:class:`Snapshot`: the immutable bytes, a *copy* of the tree, which
the loop keeps editing, the settings and facts of the moment), and its result
is adopted on the loop only if the document has not moved on meanwhile. One
document is never analysed twice at once: whoever needs it while a run is in
flight waits for that run, and starts the next one if it came back stale.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tree_sitter import Tree

from analyzers.config import Config
from analyzers.engine import RuleFailure, analyze
from analyzers.incremental import IncrementalState
from analyzers.model import Finding
from analyzers.project import ProjectFacts
from server.files import is_excluded
from server.lsp.documents import Document, DocumentStore

log = logging.getLogger(__name__)

_RESULT_IDS = itertools.count(1)
T = TypeVar("T")


@dataclass(frozen=True)
class Analysis:
    """The findings of one document version under one settings generation."""

    uri: str
    version: int
    generation: int
    findings: tuple[Finding, ...]
    # The bytes analysed: a re-opened document can restart at the same version.
    source: bytes = field(default=b"", repr=False, compare=False)
    # What the next analysis of this document can reuse (see analyzers.incremental).
    state: IncrementalState | None = field(default=None, repr=False, compare=False)
    result_id: str = field(default_factory=lambda: str(next(_RESULT_IDS)))


@dataclass(frozen=True)
class Snapshot:
    """Everything one analysis reads, taken on the event loop; safe to use in another thread."""

    uri: str
    version: int
    generation: int
    source: bytes
    path: str
    language: str | None
    # A copy: trees are not thread-safe and the loop goes on editing the document's own.
    tree: Tree | None
    config: Config
    facts: ProjectFacts
    root: Path | None
    # The previous analysis of this document, for incremental re-analysis.
    previous: IncrementalState | None = None


def analyse_snapshot(snapshot: Snapshot) -> tuple[Analysis, list[RuleFailure]]:
    """Analyse a snapshot (in any thread): its findings, and the rules that failed on it.

    The only place the server calls the engine for an open document.
    """
    findings: tuple[Finding, ...] = ()
    failures: list[RuleFailure] = []
    state: IncrementalState | None = None
    if snapshot.language is not None and not _excluded(snapshot):
        result = analyze(
            snapshot.source,
            snapshot.path,
            config=snapshot.config,
            facts=snapshot.facts,
            tree=snapshot.tree,
            language=snapshot.language,
            previous=snapshot.previous,
            incremental=True,
        )
        findings = tuple(result.findings)
        failures = result.failures
        state = result.state
    analysis = Analysis(
        snapshot.uri, snapshot.version, snapshot.generation, findings, snapshot.source, state=state
    )
    return analysis, failures


def _excluded(snapshot: Snapshot) -> bool:
    if snapshot.root is None or not snapshot.path:
        return False
    try:
        return is_excluded(Path(snapshot.path), snapshot.root, snapshot.config.exclude)
    except (OSError, ValueError):
        return False


class Analyzer:
    """Analyses documents with the current config and project facts; keeps the latest results."""

    def __init__(
        self, documents: DocumentStore, on_failures: Callable[[list[RuleFailure]], None]
    ) -> None:
        self.documents = documents
        self.config = Config()
        self.facts = ProjectFacts()
        self.root: Path | None = None
        self.generation = 0
        self._results: dict[str, Analysis] = {}
        # Per document: what its last analysis leaves for the next one to reuse.
        self._states: dict[str, IncrementalState] = {}
        self._running: dict[str, asyncio.Task[Analysis]] = {}
        self._on_failures = on_failures
        self._executor: ThreadPoolExecutor | None = None

    def reconfigure(
        self,
        *,
        config: Config | None = None,
        facts: ProjectFacts | None = None,
        root: Path | None = None,
    ) -> None:
        """Adopt new settings or facts; every stored result becomes stale."""
        if config is not None:
            self.config = config
            self.documents.set_parse_limit(config.max_file_bytes)
        if facts is not None:
            self.facts = facts
        if root is not None:
            self.root = root
        self.generation += 1

    def latest(self, uri: str) -> Analysis | None:
        """The last result stored for ``uri`` (possibly stale)."""
        return self._results.get(uri)

    def is_fresh(self, doc: Document) -> bool:
        """Whether the stored result matches the document's text and version, and the settings."""
        result = self._results.get(doc.uri)
        return (
            result is not None
            and result.version == doc.version
            and result.source is doc.source
            and result.generation == self.generation
        )

    def snapshot(self, doc: Document) -> Snapshot:
        """What an analysis of ``doc`` as it is now needs (call on the event loop)."""
        return Snapshot(
            uri=doc.uri,
            version=doc.version,
            generation=self.generation,
            source=doc.source,
            path=doc.path,
            language=doc.language,
            tree=doc.tree.copy() if doc.tree is not None else None,
            config=self.config,
            facts=self.facts,
            root=self.root,
            previous=self._states.get(doc.uri),
        )

    async def current(self, doc: Document) -> Analysis | None:
        """The result for the document as it is when this returns; None once it is closed.

        If the document changes while its analysis runs, the newer version is
        analysed too: the caller answers about the text the client has now.
        """
        while True:
            analysis = await self.analysis_of(doc)
            now = self.documents.get(doc.uri)
            if now is None:
                return None
            if now is doc and self.is_fresh(doc):
                return analysis
            doc = now

    async def analysis_of(self, doc: Document) -> Analysis:
        """An analysis of ``doc`` at its version now: stored, in flight, or started now.

        It may be stale by the time it is returned (the document changed
        while it ran); the caller checks ``version`` if that matters.
        """
        while not self.is_fresh(doc):
            running = self._running.get(doc.uri)
            # A finished run stays listed until its done-callback runs; awaiting it would
            # return at once and spin here without ever yielding to the loop.
            if running is None or running.done():
                # shield: a cancelled request must not cancel a run others wait for.
                return await asyncio.shield(self._start(doc))
            try:
                await asyncio.shield(running)
            except Exception:
                # Its starter reports it; this caller runs its own (it may have been older text).
                log.debug("analysis of %s failed", doc.uri, exc_info=True)
        return self._results[doc.uri]

    def run(self, doc: Document) -> Analysis:
        """Analyse ``doc`` in the calling thread and store the result (tests and tools).

        The server itself goes through :meth:`current` / :meth:`analysis_of`,
        which keep the event loop free.
        """
        analysis, failures = analyse_snapshot(self.snapshot(doc))
        self._adopt(doc, analysis, failures)
        return analysis

    def forget(self, uri: str) -> None:
        """Drop the stored result of a closed document (a run in flight is not adopted)."""
        self._results.pop(uri, None)
        self._states.pop(uri, None)

    def _start(self, doc: Document) -> asyncio.Task[Analysis]:
        task = asyncio.ensure_future(self._run_in_worker(doc, self.snapshot(doc)))
        uri = doc.uri
        self._running[uri] = task

        def finished(done: asyncio.Task[Analysis]) -> None:
            if self._running.get(uri) is done:
                del self._running[uri]

        task.add_done_callback(finished)
        return task

    async def in_worker(self, function: Callable[[], T]) -> T:
        """Run ``function`` in the analysis thread (after what is queued there) and await it.

        Workspace diagnostics analyse closed files here too: one thread runs
        every analysis, so open documents wait for at most one closed file.
        """
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="phxguard-analysis")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def _run_in_worker(self, doc: Document, snapshot: Snapshot) -> Analysis:
        analysis, failures = await self.in_worker(lambda: analyse_snapshot(snapshot))
        self._adopt(doc, analysis, failures)
        return analysis

    def _trim_bases(self) -> None:
        """Base trees only for documents that keep a tree: the store caps those to save memory."""
        for uri, state in self._states.items():
            if state.base is None:
                continue
            doc = self.documents.get(uri)
            if doc is None or doc.tree is None:
                state.base = None

    def _adopt(self, doc: Document, analysis: Analysis, failures: list[RuleFailure]) -> None:
        """Store ``analysis`` if it is still about the open document as it is now."""
        if failures:
            self._on_failures(failures)
        if self.documents.get(doc.uri) is doc:
            # Reusable even when stale: the next run diffs against whatever this one saw.
            if analysis.state is not None:
                self._states[doc.uri] = analysis.state
            else:
                self._states.pop(doc.uri, None)
            self._trim_bases()
        current = (
            self.documents.get(doc.uri) is doc
            and doc.version == analysis.version
            and doc.source is analysis.source
            and self.generation == analysis.generation
        )
        if current:
            self._results[doc.uri] = analysis
        else:
            log.debug("dropping a stale analysis of %s v%d", doc.uri, analysis.version)
