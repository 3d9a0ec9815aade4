"""Analyse many files across processes, with a progress bar when a person is watching.

Results come back keyed by path and are sorted by the caller, so the output
is the same whatever the number of workers. Project facts are read by the
same worker processes first, one single-process pool per job: each worker
keeps the parse trees of the files it read (within
:data:`~analyzers.facts.KEEP_TREES_SOURCE_BYTES`) and later analyses those
same files, so a file is parsed once rather than once for the facts and again
for the analysis. Small runs stay in-process: starting a pool costs more than
it saves below a few dozen files.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from analyzers.facts import (
    FactIndex,
    KeptTrees,
    collect_keeping,
    read_fact_source,
    tree_key,
    workspace_files,
)
from analyzers.project import ProjectFacts
from server.cli.check import FileResult, Workspace, analyze_file

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

# Below this many files a pool's start-up outweighs the work it shares.
MIN_FILES_FOR_POOL = 50
CHUNK_SIZE = 16

# One file's outcome in a worker: its position in the run, its result, its stderr text.
Outcome = tuple[int, FileResult | None, str]

_worker_ws: Workspace | None = None
# In a worker: trees parsed while reading facts, for the files this worker will analyse.
_worker_kept = KeptTrees()


def default_jobs() -> int:
    """The number of CPUs this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _init_worker(ws: Workspace) -> None:
    global _worker_ws
    ws.kept = _worker_kept
    _worker_ws = ws


def _analyze_chunk(chunk: Sequence[tuple[int, Path]]) -> list[Outcome]:
    """One chunk in a worker: each file's result and what it would have written to stderr."""
    assert _worker_ws is not None, "worker started without its workspace"
    outcomes: list[Outcome] = []
    for index, path in chunk:
        err = io.StringIO()
        outcomes.append((index, analyze_file(_worker_ws, path, err), err.getvalue()))
    return outcomes


def _collect_chunk(
    paths: Sequence[str], analysed: Sequence[str], budget: int
) -> list[tuple[str, dict[str, Any]]]:
    """One chunk's per-file facts, computed in a worker that keeps the trees of ``analysed``."""
    _worker_kept.budget = budget
    _worker_kept.expect(analysed)
    found: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        source = read_fact_source(Path(path))
        if source is not None:
            found.append((path, collect_keeping(path, source, _worker_kept)))
    return found


class _Workers:
    """One single-process pool per job, so work can be sent to the process holding a file's tree."""

    def __init__(self, jobs: int) -> None:
        # Imported here: multiprocessing costs start-up time a small run never needs back.
        from concurrent.futures import ProcessPoolExecutor

        self.pools = [ProcessPoolExecutor(max_workers=1) for _ in range(jobs)]
        # File (as KeptTrees names it) -> the worker that read its facts and keeps its tree.
        self.owner: dict[str, int] = {}

    def close(self) -> None:
        """Stop every worker."""
        for pool in self.pools:
            pool.shutdown(cancel_futures=True)


# Workers that read the current run's facts, waiting for its analysis.
_workers: _Workers | None = None


def _close_workers() -> None:
    global _workers
    if _workers is not None:
        _workers.close()
        _workers = None


def load_facts(root: Path, jobs: int, keep: KeptTrees | None = None) -> ProjectFacts:
    """The project's facts, as :func:`~analyzers.project.load_project_facts` reads them.

    Fact collection parses much of the project, which on a large tree takes
    as long as the analysis itself, so it is shared across ``jobs`` processes
    too; files are stored in the serial scan's order, so the result is the
    same. With ``keep`` (the files to analyse next), the trees parsed here are
    kept for :func:`analyze_parallel`: in ``keep`` itself when the scan runs in
    this process, else in the workers, which then stay up for the analysis.
    """
    global _workers
    _close_workers()
    files = [str(path) for path in workspace_files(root)]
    if jobs <= 1 or len(files) < MIN_FILES_FOR_POOL:
        return FactIndex.scan(root, keep=keep).facts()
    chunks = [files[i : i + CHUNK_SIZE] for i in range(0, len(files), CHUNK_SIZE)]
    # Before any result arrives: unpickling one imports rule families on the pool's own
    # thread, which must not race this thread's first import of them.
    index = FactIndex(str(root))
    workers = _Workers(min(jobs, len(chunks)))
    # The workers share one budget for the trees they keep: memory does not grow with --jobs.
    budget = (keep.budget if keep is not None else 0) // len(workers.pools)
    futures: list[Future[list[tuple[str, dict[str, Any]]]]] = []
    for n, chunk in enumerate(chunks):
        worker = n % len(workers.pools)
        analysed = [path for path in chunk if keep is not None and keep.expects(path)]
        for path in analysed:
            workers.owner[tree_key(path)] = worker
        futures.append(workers.pools[worker].submit(_collect_chunk, chunk, analysed, budget))
    try:
        for future in futures:
            for path, facts in future.result():
                index.store(path, facts)
    except BaseException:
        workers.close()
        raise
    if keep is None:
        workers.close()
    else:
        _workers = workers
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


def _chunks(items: Sequence[tuple[int, Path]]) -> list[Sequence[tuple[int, Path]]]:
    return [items[i : i + CHUNK_SIZE] for i in range(0, len(items), CHUNK_SIZE)]


def _by_owner(ws: Workspace, workers: _Workers) -> list[list[tuple[int, Path]]]:
    """Each worker's share of the files: those whose trees it keeps, the rest evened out."""
    shares: list[list[tuple[int, Path]]] = [[] for _ in workers.pools]
    unowned: list[tuple[int, Path]] = []
    for item in enumerate(ws.files):
        owner = workers.owner.get(tree_key(item[1]))
        (shares[owner] if owner is not None else unowned).append(item)
    for item in unowned:
        min(shares, key=len).append(item)
    return shares


def analyze_parallel(
    ws: Workspace, err: TextIO, *, jobs: int, progress: bool
) -> dict[Path, FileResult]:
    """Every discovered file's result (unreadable files left out), in ``ws.files`` order."""
    bar = Progress(len(ws.files), err, progress)
    outcomes: list[Outcome] = []
    try:
        if jobs <= 1 or len(ws.files) < MIN_FILES_FOR_POOL:
            for i, path in enumerate(ws.files):
                buffer = io.StringIO()
                outcomes.append((i, analyze_file(ws, path, buffer), buffer.getvalue()))
                bar.advance(1)
        else:
            from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

            pending: dict[Future[list[Outcome]], int] = {}
            workers = _workers
            pool: ProcessPoolExecutor | None = None
            if workers is not None:
                # The workers that read the facts analyse the files whose trees they kept.
                for worker, share in zip(workers.pools, _by_owner(ws, workers), strict=True):
                    worker.submit(_init_worker, ws)  # runs first: one process, tasks in order
                    for chunk in _chunks(share):
                        pending[worker.submit(_analyze_chunk, chunk)] = len(chunk)
            else:
                chunks = _chunks(list(enumerate(ws.files)))
                pool = ProcessPoolExecutor(
                    max_workers=min(jobs, len(chunks)), initializer=_init_worker, initargs=(ws,)
                )
                pending = {pool.submit(_analyze_chunk, chunk): len(chunk) for chunk in chunks}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        count = pending.pop(future)
                        outcomes.extend(future.result())
                        bar.advance(count)
            finally:
                if pool is not None:
                    pool.shutdown(cancel_futures=True)
    finally:
        bar.close()
        _close_workers()
    outcomes.sort(key=lambda outcome: outcome[0])
    for _, _, message in outcomes:
        err.write(message)
    return {result.path: result for _, result, _ in outcomes if result is not None}
