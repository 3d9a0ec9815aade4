"""phxguard benchmark: prints figures, asserts nothing (machines are noisy).

    python3 -m tests.benchmarks.benchmark [--files 1000] [--keystrokes 200]

Measures, on this machine:
- per keystroke on a 5,000-line file, the server-side time from a
  ``didChange`` to diagnostics ready (document-store update + incremental
  reparse + analysis; debounce excluded), p50/p99 over a typed burst;
- cold start of ``phxguard server`` to the first published diagnostics;
- ``phxguard check`` start-up on a tiny project;
- ``phxguard check`` on a generated corpus next to tree-sitter parse-only of
  the same files (the floor).
Targets: <= 5 ms p50 and <= 25 ms p99 per keystroke; check start-up <= 300 ms;
whole-corpus analysis <= 2x parse-only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analyzers.config import Config
from analyzers.engine import analyze
from analyzers.parsing import parse_elixir
from tests.benchmarks.corpus import context_source, migration_source, write_corpus
from tests.benchmarks.lsp_timing import cold_start_seconds, keystroke_seconds


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def phxguard_command() -> list[str]:
    """How to run the CLI: the installed command, else the module."""
    exe = shutil.which("phxguard")
    return [exe] if exe else [sys.executable, "-m", "server.cli.main"]


def time_command(argv: list[str], cwd: Path, runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` runs of a command."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def corpus_figures(root: Path, files: int) -> dict[str, float]:
    """Parse-only vs in-process analysis vs the CLI on a generated corpus."""
    paths = write_corpus(root, files)
    sources = [(str(p), p.read_bytes()) for p in paths]
    lines = sum(s.count(b"\n") for _, s in sources)
    start = time.perf_counter()
    for _, source in sources:
        parse_elixir(source)
    parse_only = time.perf_counter() - start
    start = time.perf_counter()
    findings = 0
    for path, source in sources:
        findings += len(analyze(source, path).findings)
    in_process = time.perf_counter() - start
    cli = min(time_command([*phxguard_command(), "check", "--format", "json", "."], root, 3))
    return {
        "files": len(sources),
        "lines": lines,
        "findings": findings,
        "parse_only_s": parse_only,
        "analyze_in_process_s": in_process,
        "cli_check_s": cli,
        "analysis_over_parse": in_process / parse_only,
        "cli_over_parse": cli / parse_only,
    }


def main(argv: list[str] | None = None) -> None:
    """Run every benchmark and print a JSON report plus a readable summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--keystrokes", type=int, default=200)
    args = parser.parse_args(argv)

    report: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        }
    }
    big = context_source(5000)
    migration_big = "".join(migration_source(i) for i in range(190))
    migration_path = "priv/repo/migrations/20240101000000_big.exs"
    mg_only = Config(select=("MG",))
    keystrokes = {
        "context_module_5000_lines": keystroke_seconds(
            big, "lib/bench/records.ex", args.keystrokes
        ),
        "context_module_5000_lines_mg_rules_only": keystroke_seconds(
            big, "lib/bench/records.ex", args.keystrokes, mg_only
        ),
        "migrations_500_lines": keystroke_seconds(
            "".join(migration_source(i) for i in range(19)), migration_path, args.keystrokes
        ),
        "migrations_5000_lines": keystroke_seconds(migration_big, migration_path, args.keystrokes),
    }
    report["keystroke_ms"] = {
        name: {"p50": percentile(t, 50) * 1000, "p99": percentile(t, 99) * 1000, "n": len(t)}
        for name, t in keystrokes.items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        tiny = Path(tmp) / "tiny"
        tiny.mkdir()
        (tiny / "mix.exs").write_text("defmodule Tiny.MixProject do\nend\n")
        (tiny / "lib").mkdir()
        (tiny / "lib" / "tiny.ex").write_text("defmodule Tiny do\n  def hello, do: :world\nend\n")
        startup = time_command([*phxguard_command(), "check", "."], tiny, 7)
        report["check_startup_ms"] = {
            "min": min(startup) * 1000,
            "median": statistics.median(startup) * 1000,
        }
        cold = [
            cold_start_seconds(tiny, "priv/repo/migrations/1_change.exs", migration_source(1))
            for _ in range(3)
        ]
        report["server_cold_start_to_first_diagnostics_ms"] = {
            "min": min(cold) * 1000,
            "median": statistics.median(cold) * 1000,
        }
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        report["corpus"] = corpus_figures(corpus, args.files)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
