"""In-process benchmark jobs (typing, corpus, start-up); each runs in its own worker process."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from analyzers.config import Config
from analyzers.engine import analyze
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from analyzers.rules.ecto.facts import SCHEMAS, Association, SchemaFacts
from tests.benchmarks.corpus import context_module, migration_source, write_corpus
from tests.benchmarks.lsp_timing import cold_start_seconds
from tests.benchmarks.server_scenarios import cli_env, own_peak_rss_mb, phxguard_command
from tests.benchmarks.typing_bursts import (
    CONTEXT_BURSTS,
    MIGRATION_BURSTS,
    burst_keystrokes,
    end_to_end_seconds,
    full_parse_ms,
    percentiles_ms,
    reparse_floor_seconds,
    server_side_seconds,
)

CONTEXT_PATH = "lib/bench/records.ex"
MIGRATION_PATH = "priv/repo/migrations/20240101000000_big.exs"


def _source(kind: str, size: int) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(text, path, bursts) of a context module of ``size`` lines or a file of ``size`` migrations."""
    if kind == "context":
        return context_module("Bench.Records", size), CONTEXT_PATH, CONTEXT_BURSTS
    text = "".join(migration_source(i) for i in range(size))
    return text, MIGRATION_PATH, MIGRATION_BURSTS


# What a real project's workspace index knows about the context module's schemas: with
# associations, EC005 reads each load of the module.
WORKSPACE_SCHEMAS = ProjectFacts(
    root=".",
    extras={
        SCHEMAS: {
            f"Bench.{name}": SchemaFacts(
                f"Bench.{name}",
                table,
                ("kind", "name"),
                (Association("owner", "belongs_to", None),),
            )
            for name, table in (("Entry", "entries"), ("Record", "records"))
        }
    },
)


def typing_case(
    kind: str, size: int, keystrokes: int, select: str | None = None, schemas: bool = False
) -> dict[str, Any]:
    """Per-keystroke figures for one file: server-side, reparse floor, full parse, peak RSS.

    With ``schemas``, the workspace facts know the module's schemas (as in a real project).
    """
    text, path, bursts = _source(kind, size)
    keys = burst_keystrokes(text, bursts, keystrokes)
    config = Config(select=(select,)) if select else None
    facts = WORKSPACE_SCHEMAS if schemas else None
    times, diagnostics = server_side_seconds(text, path, keys, config, facts)
    floor = reparse_floor_seconds(text, keys)
    server = percentiles_ms(times)
    reparse = percentiles_ms(floor)
    full = full_parse_ms(text)
    return {
        "lines": text.count("\n"),
        "bytes": len(text.encode()),
        "rules": select or "all",
        "workspace_schemas": schemas,
        "typed": [typed for _, typed in bursts],
        "server_side_ms": server,
        "reparse_floor_ms": reparse,
        "full_parse_ms": full,
        "p50_over_full_parse": server["p50"] / full,
        "diagnostics_at_end": diagnostics,
        "peak_rss_mb": own_peak_rss_mb(),
    }


def typing_end_to_end(size: int, keystrokes: int) -> dict[str, Any]:
    """The context module's bursts through the real server (pulling client), with floors."""
    text, path, bursts = _source("context", size)
    keys = burst_keystrokes(text, bursts, keystrokes)
    result = end_to_end_seconds(text, path, keys)
    result.update(
        lines=text.count("\n"),
        reparse_floor_ms=percentiles_ms(reparse_floor_seconds(text, keys)),
        full_parse_ms=full_parse_ms(text),
    )
    return result


def _time_command(argv: list[str], cwd: Path, runs: int) -> tuple[list[float], int]:
    """Wall-clock seconds of ``runs`` runs of a command, and its last exit status."""
    times = []
    status = 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env()
        )
        times.append(time.perf_counter() - start)
        status = done.returncode
    return times, status


def corpus(files: int, cli_runs: int = 3, rounds: int = 3) -> dict[str, Any]:
    """Parse-only vs in-process analysis vs the CLI on the generated corpus of ``files`` files.

    Parse-only and analysis alternate for ``rounds`` rounds and the fastest of
    each counts: on a shared machine one slow stretch would otherwise land on
    one side of the ratio only. Each round names the files afresh (under its
    own directory), so no answer cached per path carries over from a round
    before: the CLI too sees each path once.
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_corpus(root, files)
        sources = [(p.relative_to(root).as_posix(), p.read_bytes()) for p in paths]
        # One file of each kind first, untimed: loading the grammar and importing the rule
        # families (~80 ms, once per process) is start-up, measured by `startup`.
        for relative, source in (sources[0], sources[-1]):
            parse_elixir(source)
            analyze(source, f"{root}/warm-up/{relative}")
        measured: list[tuple[float, float]] = []
        for round_number in range(rounds):
            named = [(f"{root}/round-{round_number}/{r}", source) for r, source in sources]
            start = time.perf_counter()
            for _, source in named:
                parse_elixir(source)
            parse_round = time.perf_counter() - start
            start = time.perf_counter()
            findings = 0
            for path, source in named:
                findings += len(analyze(source, path).findings)
            measured.append((parse_round, time.perf_counter() - start))
        parse_only = min(p for p, _ in measured)
        in_process = min(a for _, a in measured)
        peak = own_peak_rss_mb()
        check = [*phxguard_command(), "check", "--format", "json", "."]
        cli_times, cli_status = _time_command(check, root, cli_runs)
        cli = min(cli_times)
    return {
        "files": len(sources),
        "lines": sum(s.count(b"\n") for _, s in sources),
        "findings": findings,
        "parse_only_s": parse_only,
        "analyze_in_process_s": in_process,
        "cli_check_s": cli,
        "cli_exit_status": cli_status,
        "analysis_over_parse": in_process / parse_only,
        "rounds": [{"parse_only_s": p, "analyze_in_process_s": a} for p, a in measured],
        "cli_over_parse": cli / parse_only,
        "in_process_peak_rss_mb": peak,
    }


def startup(runs: int, cold_runs: int) -> dict[str, Any]:
    """``phxguard check`` on a tiny project, and server spawn to first published diagnostics."""
    with tempfile.TemporaryDirectory() as tmp:
        tiny = Path(tmp)
        (tiny / "mix.exs").write_text("defmodule Tiny.MixProject do\nend\n")
        (tiny / "lib").mkdir()
        (tiny / "lib" / "tiny.ex").write_text("defmodule Tiny do\n  def hello, do: :world\nend\n")
        check, status = _time_command([*phxguard_command(), "check", "."], tiny, runs)
        cold = [
            cold_start_seconds(tiny, "priv/repo/migrations/1_change.exs", migration_source(1))
            for _ in range(cold_runs)
        ]
    return {
        "check_startup_ms": {"min": min(check) * 1000, "median": statistics.median(check) * 1000},
        "check_exit_status": status,
        "server_cold_start_to_first_diagnostics_ms": {
            "min": min(cold) * 1000,
            "median": statistics.median(cold) * 1000,
        },
    }
