"""Analyse many files across processes, with a progress bar when a person is watching.

Results come back keyed by path and are sorted by the caller, so the output
is the same whatever the number of workers. Project facts are computed once
in the parent and handed to each worker when it starts (cheaper than every
worker re-scanning the project). Small runs stay in-process: starting a pool
costs more than it saves below a few dozen files.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from analyzers.facts import FactIndex, read_fact_source, workspace_files
from analyzers.project import ProjectFacts, load_project_facts
from server.cli.check import FileResult, Workspace, analyze_file

if TYPE_CHECKING:
    from concurrent.futures import Future

# Below this many files a pool's start-up outweighs the work it shares.
MIN_FILES_FOR_POOL = 50
CHUNK_SIZE = 16

_worker_ws: Workspace | None = None


def default_jobs() -> int:
    """The number of CPUs this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _init_worker(ws: Workspace) -> None:
    global _worker_ws
    _worker_ws = ws


def _analyze_chunk(paths: Sequence[Path]) -> tuple[list[FileResult], str]:
    """One chunk in a worker: its results and what it would have written to stderr."""
    assert _worker_ws is not None, "worker started without its workspace"
    err = io.StringIO()
    results = [r for p in paths if (r := analyze_file(_worker_ws, p, err)) is not None]
    return results, err.getvalue()


def _collect_chunk(paths: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """One chunk's per-file facts, computed in a worker."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        source = read_fact_source(Path(path))
        if source is not None:
            found.append((path, FactIndex.collect(path, source)))
    return found


def load_facts(root: Path, jobs: int) -> ProjectFacts:
    """The project's facts, as :func:`~analyzers.project.load_project_facts` reads them.

    Fact collection parses much of the project, which on a large tree takes
    as long as the analysis itself, so it is shared across ``jobs`` processes
    too; files are stored in the serial scan's order, so the result is the same.
    """
    files = [str(path) for path in workspace_files(root)]
    if jobs <= 1 or len(files) < MIN_FILES_FOR_POOL:
        return load_project_facts(root)
    from concurrent.futures import ProcessPoolExecutor

    chunks = [files[i : i + CHUNK_SIZE] for i in range(0, len(files), CHUNK_SIZE)]
    index = FactIndex(str(root))
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
        for collected in pool.map(_collect_chunk, chunks):
            for path, facts in collected:
                index.store(path, facts)
    return index.facts()


class Progress:
    """``checked N/M files`` redrawn on one line of a terminal; silent elsewhere."""

    def __init__(self, total: int, err: TextIO, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.err = err
        self.enabled = enabled and total > 0

    def advance(self, count: int) -> None:
        """Record ``count`` more files done and redraw."""
        self.done += count
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            self.err.write(f"\rphxguard [{bar}] {self.done}/{self.total} files")
            self.err.flush()

    def close(self) -> None:
        """Erase the bar so the report starts on a clean line."""
        if self.enabled:
            self.err.write("\r\x1b[2K")
            self.err.flush()


def wants_progress(err: TextIO, quiet: bool) -> bool:
    """A progress bar only for a person at a terminal."""
    isatty: Callable[[], bool] | None = getattr(err, "isatty", None)
    return not quiet and isatty is not None and isatty()


def analyze_parallel(
    ws: Workspace, err: TextIO, *, jobs: int, progress: bool
) -> dict[Path, FileResult]:
    """Every discovered file's result (unreadable files left out), in ``ws.files`` order."""
    bar = Progress(len(ws.files), err, progress)
    messages: dict[int, str] = {}
    by_chunk: dict[int, list[FileResult]] = {}
    try:
        if jobs <= 1 or len(ws.files) < MIN_FILES_FOR_POOL:
            for i, path in enumerate(ws.files):
                buffer = io.StringIO()
                result = analyze_file(ws, path, buffer)
                by_chunk[i] = [result] if result is not None else []
                messages[i] = buffer.getvalue()
                bar.advance(1)
        else:
            # Imported here: multiprocessing costs start-up time a small run never needs back.
            from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

            chunks = [ws.files[i : i + CHUNK_SIZE] for i in range(0, len(ws.files), CHUNK_SIZE)]
            with ProcessPoolExecutor(
                max_workers=min(jobs, len(chunks)), initializer=_init_worker, initargs=(ws,)
            ) as pool:
                pending: dict[Future[tuple[list[FileResult], str]], int] = {
                    pool.submit(_analyze_chunk, chunk): n for n, chunk in enumerate(chunks)
                }
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        n = pending.pop(future)
                        by_chunk[n], messages[n] = future.result()
                        bar.advance(len(chunks[n]))
    finally:
        bar.close()
    for n in sorted(messages):
        err.write(messages[n])
    return {r.path: r for n in sorted(by_chunk) for r in by_chunk[n]}
