"""Hints for files that are not open: a workspace index kept current from disk.

After ``initialized`` (and once the project facts are in), every source file
of the workspace is analysed from disk, one file at a time in the analysis
worker thread (see :mod:`server.lsp.analysis`), so the event loop is never
held up and an open document's analysis waits for at most one closed file.
Single files (saved, changed on disk, closed) are re-read the same way, in
the background. Progress goes to the client as ``$/progress``
(cancellable: indexing stops and what was done is kept).

Only the diagnostics of each closed file are kept (no tree, no source).
Pulling clients get them through ``workspace/diagnostic``; the others get one
``publishDiagnostics`` per file with findings, and an empty one when a file's
findings go away. Open documents always win: their own analysis is reported
instead, and on close the file goes back to its disk analysis.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from analyzers.config import Config
from analyzers.engine import RuleFailure, analyze, language_for
from analyzers.project import ProjectFacts
from analyzers.text import Encoding, LineIndex, read_source_file
from server.files import discover, is_excluded, is_source_file
from server.lsp.diagnostics import to_diagnostic
from server.lsp.positions import PositionCodec

if TYPE_CHECKING:
    from server.lsp.server import PhxguardServer

log = logging.getLogger(__name__)

# Files bigger than this are generated or vendored; the CLI still checks them.
MAX_FILE_BYTES = 2_000_000
_RESULT_IDS = itertools.count(1)


@dataclass(frozen=True)
class FileReport:
    """The diagnostics of one closed file as read from disk."""

    uri: str
    diagnostics: tuple[types.Diagnostic, ...]
    result_id: str


class WorkspaceDiagnostics:
    """Per-file diagnostics of the workspace's closed files, and the events that update them."""

    def __init__(self, server: PhxguardServer) -> None:
        self.server = server
        self.reports: dict[str, FileReport] = {}
        self.indexing: asyncio.Task[None] | None = None
        # Single-file updates in flight (the loop keeps only weak references to tasks).
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        """Whether workspace diagnostics are on (setting ``workspaceDiagnostics``)."""
        return self.server.settings.workspace_diagnostics

    # -- indexing -----------------------------------------------------------

    def start(self) -> None:
        """(Re)index the workspace in the background; a running indexing is abandoned."""
        if self.indexing is not None and not self.indexing.done():
            self.indexing.cancel()
        if not self.enabled:
            self.clear()
            return
        self.indexing = asyncio.ensure_future(self.index())

    async def index(self) -> None:
        """Analyse every source file of the workspace, reporting ``$/progress``."""
        root = self.server.settings.root
        if root is None:
            return
        exclude = tuple(self.server.analyzer.config.exclude)
        base = self.server.analyzer.root or root
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(
            None, lambda: discover([root], root=base, exclude=exclude)
        )
        files = found.files
        progress = await _Progress.start(self.server, len(files))
        seen: set[str] = set()
        done = 0
        try:
            for file in files:
                if progress.cancelled:
                    break
                seen.add(file.as_uri())
                await self._refresh(str(file))
                done += 1
                progress.report(done)
            if done == len(files):
                # Files that vanished since the last indexing.
                for uri in [u for u in self.reports if u not in seen]:
                    self._drop(uri, notify=True)
        finally:
            progress.end(done, len(files))
        self._ask_pullers()

    # -- events ---------------------------------------------------------------

    def refresh(self, path: str) -> None:
        """Re-read ``path`` from disk in the background (saved): see :meth:`_refresh`."""
        self._spawn(self._refresh(path))

    async def _refresh(self, path: str, *, notify: bool = True) -> None:
        """Re-read ``path`` from disk (created, changed, saved) or forget it (gone, excluded).

        Push clients get the new diagnostics when ``notify``; pulling clients
        are asked to pull by the caller, once per batch.
        """
        if not self.enabled or not is_source_file(path):
            return
        file = Path(path)
        uri = file.as_uri()
        diagnostics = await self._analyse(file)
        if diagnostics is None:
            self._drop(uri, notify=notify)
            return
        previous = self.reports.get(uri)
        if previous is not None and previous.diagnostics == diagnostics:
            return
        self.reports[uri] = FileReport(uri, diagnostics, str(next(_RESULT_IDS)))
        if notify:
            # An empty publish only replaces hints the client was shown before.
            self._publish(uri, cleared=previous is not None and bool(previous.diagnostics))

    def files_changed(self, changes: Sequence[types.FileEvent]) -> None:
        """``didChangeWatchedFiles``: created/changed files re-read, deleted ones cleared."""
        self._spawn(self._files_changed(list(changes)))

    async def _files_changed(self, changes: list[types.FileEvent]) -> None:
        touched = False
        for change in changes:
            path = to_fs_path(change.uri)
            if not path or not is_source_file(path):
                continue
            uri = Path(path).as_uri()
            if change.type == types.FileChangeType.Deleted:
                touched = self._drop(uri, notify=True) or touched
            else:
                await self._refresh(path)
                touched = True
        if touched:
            self._ask_pullers()

    def document_closed(self, path: str) -> None:
        """A document closed: its hints come from the disk copy again."""
        if not path:
            return
        self.reports.pop(Path(path).as_uri(), None)
        self._spawn(self._reread_closed(path))

    async def _reread_closed(self, path: str) -> None:
        await self._refresh(path)
        self._ask_pullers()

    def clear(self) -> None:
        """Forget everything (setting turned off), clearing what push clients were shown."""
        for uri in list(self.reports):
            self._drop(uri, notify=True)
        self._ask_pullers()

    # -- reporting ------------------------------------------------------------

    def pull(self, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        """``workspace/diagnostic``: closed files' reports; unchanged ones by result id."""
        previous = {p.uri: p.value for p in params.previous_result_ids}
        open_uris = {doc.uri for doc in self.server.documents}
        items: list[
            types.WorkspaceFullDocumentDiagnosticReport
            | types.WorkspaceUnchangedDocumentDiagnosticReport
        ] = []
        for uri, report in sorted(self.reports.items()):
            if uri in open_uris:
                continue
            if previous.get(uri) == report.result_id:
                items.append(
                    types.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=uri, version=None, result_id=report.result_id
                    )
                )
            else:
                items.append(
                    types.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri,
                        version=None,
                        items=list(report.diagnostics),
                        result_id=report.result_id,
                    )
                )
        # Files the client still remembers but that are gone (deleted, excluded): clear them.
        for uri in sorted(previous):
            if uri not in self.reports and uri not in open_uris:
                items.append(
                    types.WorkspaceFullDocumentDiagnosticReport(uri=uri, version=None, items=[])
                )
        return types.WorkspaceDiagnosticReport(items=items)

    def _publish(self, uri: str, *, cleared: bool = False) -> None:
        """Push a closed file's diagnostics (none sent for a file that never had any)."""
        if self.server.pull_diagnostics or self.server.documents.get(uri) is not None:
            return
        report = self.reports.get(uri)
        diagnostics = list(report.diagnostics) if report is not None else []
        if not diagnostics and not cleared:
            return
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
        )

    def _drop(self, uri: str, *, notify: bool = False) -> bool:
        report = self.reports.pop(uri, None)
        if report is None:
            return False
        if notify and report.diagnostics:
            self._publish(uri, cleared=True)
        return True

    def _ask_pullers(self) -> None:
        if self.server.pull_diagnostics and self.server.capability(
            "workspace.diagnostics.refresh_support", False
        ):
            self.server.workspace_diagnostic_refresh(None)

    def _spawn(self, work: Coroutine[None, None, None]) -> None:
        task = asyncio.ensure_future(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[None, None, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("workspace diagnostics update failed")

    async def _analyse(self, file: Path) -> tuple[types.Diagnostic, ...] | None:
        """The diagnostics of ``file`` on disk, read in the analysis worker thread."""
        analyzer = self.server.analyzer
        config, facts, root, encoding = (
            analyzer.config,
            analyzer.facts,
            analyzer.root,
            self.server.encoding,
        )
        try:
            diagnostics, failures = await analyzer.in_worker(
                lambda: analyse_file(file, config, facts, root, encoding)
            )
        except Exception:
            log.exception("analysis of %s failed", file)
            return None
        if failures:
            self.server.report_rule_failures(failures)
        return diagnostics


def analyse_file(
    file: Path, config: Config, facts: ProjectFacts, root: Path | None, encoding: Encoding
) -> tuple[tuple[types.Diagnostic, ...] | None, list[RuleFailure]]:
    """``file``'s diagnostics as read from disk (in any thread), and the rules that failed.

    None instead of diagnostics when the file is gone, unreadable, excluded or too large.
    """
    language = language_for(str(file))
    if language is None:
        return None, []
    if root is not None and is_excluded(file, root, tuple(config.exclude)):
        return None, []
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            return None, []
        source = read_source_file(file)
    except OSError:
        return None, []
    result = analyze(source, str(file), config=config, facts=facts, language=language)
    if not result.findings:
        return (), result.failures
    codec = PositionCodec(LineIndex(source), encoding)
    return tuple(to_diagnostic(f, codec) for f in result.findings), result.failures


class _Progress:
    """A ``$/progress`` bar when the client shows them; does nothing otherwise."""

    def __init__(self, server: PhxguardServer, token: str | None, total: int) -> None:
        self.server = server
        self.token = token
        self.total = total
        self._last_percent = -1

    @classmethod
    async def start(cls, server: PhxguardServer, total: int) -> _Progress:
        """Create the token (``window/workDoneProgress/create``) and send ``begin``."""
        if not server.capability("window.work_done_progress", False):
            return cls(server, None, total)
        token = f"phxguard-index-{uuid.uuid4()}"
        try:
            await server.work_done_progress.create_async(token)
        except Exception as exc:
            log.info("client refused a progress token: %s", exc)
            return cls(server, None, total)
        server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="phxguard: indexing workspace",
                cancellable=True,
                message=f"0/{total} files",
                percentage=0,
            ),
        )
        return cls(server, token, total)

    @property
    def cancelled(self) -> bool:
        """Whether the user cancelled the progress in the client."""
        if self.token is None:
            return False
        future = self.server.work_done_progress.tokens.get(self.token)
        return future is not None and future.cancelled()

    def report(self, done: int) -> None:
        """Send ``report`` when the percentage moves."""
        if self.token is None or self.total == 0:
            return
        percent = done * 100 // self.total
        if percent == self._last_percent:
            return
        self._last_percent = percent
        self.server.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(message=f"{done}/{self.total} files", percentage=percent),
        )

    def end(self, done: int, total: int) -> None:
        """Send ``end``, saying whether the indexing was cancelled."""
        if self.token is None:
            return
        message = (
            f"cancelled after {done}/{total} files" if done < total else f"{total} files indexed"
        )
        self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(self.token, None)
