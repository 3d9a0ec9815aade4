"""Whole-process scenarios: many open documents, workspace indexing, ``phxguard check``.

Each function runs in its own benchmark worker process (see
:mod:`tests.benchmarks.benchmark`) and returns plain figures. Memory is read
from the measured process itself: the server's ``/proc/<pid>/status`` (VmRSS
now, VmHWM = peak), the CLI's ``wait4`` rusage and a sampled sum over its
process tree (``--jobs`` workers included).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from analyzers.parsing import elixir_parser
from tests.benchmarks.corpus import mixed_documents
from tests.benchmarks.lsp_client import REPO, LspProcess, proc_memory_mb


def own_peak_rss_mb() -> float:
    """This process's peak RSS in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_only_seconds(sources: list[bytes]) -> float:
    """Seconds to parse every source once with a fresh tree (the floor)."""
    parser = elixir_parser()
    start = time.perf_counter()
    for source in sources:
        parser.parse(source)
    return time.perf_counter() - start


class _Events:
    """When the server signalled facts loaded and workspace indexing begun/ended."""

    def __init__(self) -> None:
        self.facts_loaded: float | None = None
        self.index_begin: float | None = None
        self.index_end: float | None = None
        self.index_message = ""

    def __call__(self, message: dict[str, Any], arrived: float) -> None:
        method = message.get("method")
        if method == "workspace/diagnostic/refresh" and self.facts_loaded is None:
            # The first refresh follows FactsSync.load (facts in, open documents stale).
            self.facts_loaded = arrived
        elif method == "$/progress":
            value = message.get("params", {}).get("value", {})
            if value.get("kind") == "begin" and self.index_begin is None:
                self.index_begin = arrived
            elif value.get("kind") == "end":
                self.index_end = arrived
                self.index_message = value.get("message", "")


def _indexed(message: dict[str, Any]) -> bool:
    return (
        message.get("method") == "$/progress"
        and message.get("params", {}).get("value", {}).get("kind") == "end"
    )


def idle_server() -> dict[str, Any]:
    """RSS of a server initialised on an empty workspace, with no document open."""
    with tempfile.TemporaryDirectory() as tmp, LspProcess() as server:
        server.initialize(Path(tmp))
        server.wait_for(_indexed)
        time.sleep(0.5)
        memory = server.memory_mb()
    return {"server_rss_mb": memory["rss_mb"], "server_peak_rss_mb": memory["peak_rss_mb"]}


def open_documents(count: int) -> dict[str, Any]:
    """Open ``count`` generated documents in the real server and pull all their diagnostics.

    The workspace folder is an empty directory (the documents exist only in
    the editor), so no workspace indexing mixes in.
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        docs = mixed_documents(count, root)
        sources = [text.encode() for _, text in docs]
        parse_only = parse_only_seconds(sources)
        events = _Events()
        with LspProcess(on_message=events) as server:
            server.initialize(root)
            server.wait_for(_indexed)
            start = time.perf_counter()
            uris = [server.open(path, text) for path, text in docs]
            ids = [
                server.send_request("textDocument/diagnostic", {"textDocument": {"uri": u}})
                for u in uris
            ]
            results = server.wait_responses(ids)
            elapsed = time.perf_counter() - start
            memory = server.memory_mb()
    diagnostics = sum(len(r.get("items", [])) for r in results.values())
    return {
        "documents": len(docs),
        "lines": sum(s.count(b"\n") for s in sources),
        "bytes": sum(len(s) for s in sources),
        "open_and_analyse_s": elapsed,
        "parse_only_s": parse_only,
        "over_parse_only": elapsed / parse_only,
        "diagnostics": diagnostics,
        "server_rss_mb": memory["rss_mb"],
        "server_peak_rss_mb": memory["peak_rss_mb"],
    }


def project_parse_only(root: str) -> dict[str, Any]:
    """Parse-only of every source file of a generated project (files read before timing).

    In-process analysis of the same files is left to the smaller ``corpus``
    scenario: at 10,000 files it would add minutes and tell nothing new.
    """
    paths = sorted(p for p in Path(root).rglob("*") if p.suffix in (".ex", ".exs") and p.is_file())
    sources = [p.read_bytes() for p in paths]
    parse_only = parse_only_seconds(sources)
    return {
        "files": len(paths),
        "lines": sum(s.count(b"\n") for s in sources),
        "bytes": sum(len(s) for s in sources),
        "parse_only_s": parse_only,
        "peak_rss_mb": own_peak_rss_mb(),
    }


def workspace_indexing(root: str) -> dict[str, Any]:
    """Initialise the server on ``root``; time facts, then workspace diagnostics of every file.

    Signals read: the first ``workspace/diagnostic/refresh`` (sent when the
    facts index is in) and the indexing ``$/progress`` ``end``. Then one
    ``workspace/diagnostic`` pull returns every closed file's report.
    """
    events = _Events()
    with LspProcess(on_message=events) as server:
        start = time.perf_counter()
        server.initialize(Path(root))
        initialized = time.perf_counter()
        server.wait_for(_indexed)
        pull_start = time.perf_counter()
        report = server.request("workspace/diagnostic", {"previousResultIds": []})
        pull_s = time.perf_counter() - pull_start
        memory = server.memory_mb()
    items = report.get("items", []) if report else []
    assert events.facts_loaded is not None and events.index_end is not None
    return {
        # All from spawning the server; initialize_s is its start-up (imports) alone.
        "initialize_s": initialized - start,
        "facts_indexed_s": events.facts_loaded - start,
        "diagnostics_indexed_s": events.index_end - start,
        "indexing_only_s": events.index_end - (events.index_begin or events.facts_loaded),
        "progress_end_message": events.index_message,
        "workspace_pull_s": pull_s,
        "files_reported": len(items),
        "diagnostics": sum(len(i.get("items", [])) for i in items),
        "server_rss_mb": memory["rss_mb"],
        "server_peak_rss_mb": memory["peak_rss_mb"],
    }


def phxguard_command() -> list[str]:
    """How to run the CLI: the installed command, else the module."""
    exe = shutil.which("phxguard")
    return [exe] if exe else [sys.executable, "-m", "server.cli.main"]


def cli_env() -> dict[str, str]:
    """The environment for the CLI: this checkout importable from any working directory."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO)}


def _tree_rss_kib(pid: int) -> int:
    """Sum of VmRSS over ``pid`` and its descendants (KiB)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        total += int(proc_memory_mb(current)["rss_mb"] * 1024)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return total


def cli_check(root: str) -> dict[str, Any]:
    """``phxguard check --format json .`` on ``root``: wall clock, findings, peak RSS."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*phxguard_command(), "check", "--format", "json", "."],
            cwd=root,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=cli_env(),
        )
        peak_tree = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not done.wait(0.05):
                peak_tree = max(peak_tree, _tree_rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        findings = json.loads(out.read() or b"[]")
    return {
        "check_s": elapsed,
        "exit_status": proc.returncode,
        "findings": len(findings),
        # ru_maxrss of wait4: the largest single process (main or a worker).
        "peak_rss_largest_process_mb": usage.ru_maxrss / 1024,
        "peak_rss_all_processes_mb": peak_tree / 1024,
    }
