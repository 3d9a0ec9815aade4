"""In-process checks of the analysis worker: snapshots, coalescing, stale results, size limit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import server.lsp.analysis
from analyzers.config import Config
from analyzers.engine import AnalysisResult
from server.lsp.analysis import Analyzer
from server.lsp.documents import DocumentStore, TextChange

URI = "file:///ws/lib/a.ex"
TEXT = "defmodule A do\n  def a, do: :ok\nend\n"


class Gate:
    """Replaces the engine: each call waits for ``release`` and records what it saw."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []
        self.running = 0
        self.most_running = 0
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, source: bytes, path: str, **_kwargs: Any) -> AnalysisResult:
        with self._lock:
            self.calls.append(source)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.threads.add(threading.current_thread().name)
        self.started.release()
        self.release.wait(30)
        with self._lock:
            self.running -= 1
        return AnalysisResult()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    found = Gate()
    monkeypatch.setattr(server.lsp.analysis, "analyze", found)
    yield found
    found.release.set()


def _store() -> tuple[DocumentStore, Analyzer]:
    store = DocumentStore()
    return store, Analyzer(store, lambda failures: None)


async def _started(gate: Gate) -> None:
    assert await asyncio.to_thread(gate.started.acquire, True, 30)


async def test_one_run_at_a_time_and_a_stale_result_is_not_adopted(gate: Gate) -> None:
    store, analyzer = _store()
    doc = store.open(URI, "/ws/lib/a.ex", "elixir", 1, TEXT)
    first = asyncio.ensure_future(analyzer.current(doc))
    await _started(gate)
    # The document changes while version 1 is analysed; two more callers want it now.
    store.change(URI, 2, [TextChange("# x\n", (0, 0, 0, 0))], "utf-16")
    second = asyncio.ensure_future(analyzer.current(doc))
    third = asyncio.ensure_future(analyzer.analysis_of(doc))
    await asyncio.sleep(0.05)
    assert len(gate.calls) == 1  # nobody starts a second run while one is in flight
    gate.release.set()
    results = await asyncio.wait_for(asyncio.gather(first, second, third), 30)
    assert [r.version if r else None for r in results] == [2, 2, 2]
    # Version 1 ran, came back stale, and version 2 ran once after it.
    assert gate.calls == [TEXT.encode(), b"# x\n" + TEXT.encode()]
    assert gate.most_running == 1
    assert gate.threads == {"phxguard-analysis_0"}
    latest = analyzer.latest(URI)
    assert latest is not None and latest.version == 2
    assert analyzer.is_fresh(doc)


async def test_a_settings_change_during_a_run_makes_its_result_stale(gate: Gate) -> None:
    store, analyzer = _store()
    doc = store.open(URI, "/ws/lib/a.ex", "elixir", 1, TEXT)
    pending = asyncio.ensure_future(analyzer.analysis_of(doc))
    await _started(gate)
    analyzer.reconfigure(config=Config(select=("MG",)))
    gate.release.set()
    stale = await asyncio.wait_for(pending, 30)
    assert stale.generation == analyzer.generation - 1
    assert analyzer.latest(URI) is None
    fresh = await asyncio.wait_for(analyzer.current(doc), 30)
    assert fresh is not None and fresh.generation == analyzer.generation
    assert len(gate.calls) == 2


async def test_a_result_for_a_closed_or_reopened_document_is_dropped(gate: Gate) -> None:
    store, analyzer = _store()
    doc = store.open(URI, "/ws/lib/a.ex", "elixir", 1, TEXT)
    pending = asyncio.ensure_future(analyzer.current(doc))
    await _started(gate)
    store.close(URI)
    analyzer.forget(URI)
    reopened = store.open(URI, "/ws/lib/a.ex", "elixir", 1, "defmodule B do\nend\n")
    gate.release.set()
    assert await asyncio.wait_for(pending, 30) is not None  # answers for the reopened text
    assert gate.calls[-1] == b"defmodule B do\nend\n"
    assert analyzer.is_fresh(reopened)


def test_a_snapshot_holds_a_copy_of_the_tree() -> None:
    store, analyzer = _store()
    doc = store.open(URI, "/ws/lib/a.ex", "elixir", 1, TEXT)
    snapshot = analyzer.snapshot(doc)
    assert snapshot.tree is not None and snapshot.tree is not doc.tree
    store.change(URI, 2, [TextChange("# x\n", (0, 0, 0, 0))], "utf-16")
    # The copy still describes the bytes it was taken with.
    assert snapshot.tree.root_node.end_byte == len(snapshot.source) == len(TEXT)
    assert doc.tree is not None and doc.tree.root_node.end_byte == len(TEXT) + 4


def test_documents_over_the_size_limit_are_not_parsed() -> None:
    store, analyzer = _store()
    analyzer.reconfigure(config=Config(max_file_bytes=100))
    big = "defmodule A do\n" + "  def a, do: :ok\n" * 10 + "end\n"
    doc = store.open(URI, "/ws/lib/a.ex", "elixir", 1, big)
    assert doc.tree is None
    store.change(URI, 2, [TextChange("# x\n", (0, 0, 0, 0))], "utf-16")
    assert doc.tree is None
    (finding,) = analyzer.run(doc).findings
    assert finding.code == "PX000"
    # Raising the limit parses it; an edit that crosses the limit drops the tree again.
    analyzer.reconfigure(config=Config(max_file_bytes=1000))
    assert doc.tree is not None and not doc.tree.root_node.has_error
    store.change(URI, 3, [TextChange("#" * 1000 + "\n", (0, 0, 0, 0))], "utf-16")
    assert doc.tree is None
    assert [f.code for f in analyzer.run(doc).findings] == ["PX000"]


async def test_a_finished_run_not_yet_cleared_is_not_waited_for(gate: Gate) -> None:
    """A run that is done but whose done-callback has not run yet must not be awaited in a loop.

    (Awaiting a finished future never yields: the caller spun for ever, freezing the loop.)
    """
    gate.release.set()
    store, analyzer = _store()
    doc = store.open(URI, "/ws/lib/a.ex", "elixir", 1, TEXT)
    finished: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    finished.set_result(None)
    analyzer._running[URI] = finished  # type: ignore[assignment]
    analysis = await asyncio.wait_for(analyzer.analysis_of(doc), 30)
    assert analysis.version == 1 and analyzer.is_fresh(doc)


CONTEXT = """\
defmodule MyAppWeb.Shop do
  alias MyApp.Repo

  def owners(orders) do
    Enum.map(orders, fn order -> Repo.get(User, order.user_id) end)
  end

  def helper(x), do: x
end
"""


def test_each_analysis_hands_the_next_one_its_state() -> None:
    store, analyzer = _store()
    uri = "file:///ws/lib/my_app_web/shop.ex"
    doc = store.open(uri, "/ws/lib/my_app_web/shop.ex", "elixir", 1, CONTEXT)
    first = analyzer.run(doc)
    assert first.state is not None and [f.code for f in first.findings] == ["EC001"]
    line = CONTEXT.splitlines().index("  def helper(x), do: x")
    edited = store.change(uri, 2, [TextChange(" + 1", (line, 21, line, 21))], "utf-16")
    assert edited is not None
    assert analyzer.snapshot(edited).previous is first.state
    second = analyzer.run(edited)
    assert second.findings == first.findings and second.state is not first.state
    analyzer.forget(uri)
    store.close(uri)
    reopened = store.open(uri, "/ws/lib/my_app_web/shop.ex", "elixir", 1, CONTEXT)
    assert analyzer.snapshot(reopened).previous is None


def test_the_last_error_free_tree_is_kept_only_while_the_document_keeps_a_tree() -> None:
    store, analyzer = _store()
    store.max_trees = 1
    uri = "file:///ws/lib/my_app_web/shop.ex"
    doc = store.open(uri, "/ws/lib/my_app_web/shop.ex", "elixir", 1, CONTEXT)
    first = analyzer.run(doc)
    assert first.state is not None and first.state.base is not None
    assert first.state.base[0] == doc.source
    # A broken edit keeps the base of the last text that parsed without errors.
    line = CONTEXT.splitlines().index("  def helper(x), do: x")
    broken = store.change(uri, 2, [TextChange("(", (line, 21, line, 21))], "utf-16")
    assert broken is not None and broken.has_syntax_errors
    second = analyzer.run(broken)
    assert second.state is not None and second.state.base is not None
    # Another document takes the only tree: this one's base tree goes too.
    other = store.open("file:///ws/lib/b.ex", "/ws/lib/b.ex", "elixir", 1, TEXT)
    analyzer.run(other)
    assert doc.tree is None and second.state.base is None
