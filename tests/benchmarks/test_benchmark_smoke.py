"""Smoke test of the benchmark: every scenario runs at tiny sizes and reports every figure.

Nothing here looks at how fast anything was (machines are noisy): only that
each figure is present with a sane type, that the keystroke replay leaves the
server's text equal to the client's, and that a worker process round-trips.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.benchmarks import benchmark
from tests.benchmarks.corpus import context_module, migration_source
from tests.benchmarks.typing_bursts import (
    CONTEXT_BURSTS,
    MIGRATION_BURSTS,
    apply_keystrokes,
    burst_keystrokes,
)

# The real one, taken before the report fixture swaps in the in-process runner.
RUN_JOB_IN_WORKER = benchmark.run_job
PERCENTILES = {"p50": float, "p99": float, "max": float, "n": int}


def _in_process(function: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``run_job`` without the worker process (one import of everything: fast)."""
    module_name, _, name = function.partition(":")
    module = __import__(module_name, fromlist=[name])
    result: dict[str, Any] = getattr(module, name)(**kwargs)
    copied: dict[str, Any] = json.loads(json.dumps(result))
    return copied


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    """The whole benchmark at the ``tiny`` preset, jobs run in this process."""
    patch = pytest.MonkeyPatch()
    patch.setattr(benchmark, "run_job", _in_process)
    try:
        yield json.loads(json.dumps(benchmark.run("tiny")))
    finally:
        patch.undo()


def _check(value: Any, shape: Any, where: str) -> None:
    """``value`` has ``shape``: a type, or a dict of shapes (extra keys allowed)."""
    if isinstance(shape, dict):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        assert "error" not in value, f"{where}: {value.get('error')}"
        for key, sub in shape.items():
            assert key in value, f"{where}: no {key!r} in {sorted(value)}"
            _check(value[key], sub, f"{where}.{key}")
        return
    if shape is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (
            f"{where}: {value!r}"
        )
        assert value >= 0, f"{where}: negative {value!r}"
    elif shape is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r}"
    else:
        assert isinstance(value, shape), f"{where}: expected {shape.__name__}, got {value!r}"


TYPING_CASE = {
    "lines": int,
    "bytes": int,
    "rules": str,
    "workspace_schemas": bool,
    "server_side_ms": PERCENTILES,
    "reparse_floor_ms": PERCENTILES,
    "full_parse_ms": float,
    "p50_over_full_parse": float,
    "diagnostics_at_end": int,
    "peak_rss_mb": float,
}

SHAPE = {
    "machine": {"python": str, "cpus": int, "cpu_model": str, "tree_sitter": str},
    "size": str,
    "total_s": float,
    "typing_e2e": {
        "context_120_lines": {
            "keystroke_ms": PERCENTILES,
            "reparse_floor_ms": PERCENTILES,
            "full_parse_ms": float,
            "diagnostics_at_end": int,
            "server_text_matches_client": bool,
            "server_rss_mb": float,
            "server_peak_rss_mb": float,
        }
    },
    "documents": {
        "idle_server": {"server_rss_mb": float, "server_peak_rss_mb": float},
        "open": {
            "documents": int,
            "lines": int,
            "bytes": int,
            "open_and_analyse_s": float,
            "parse_only_s": float,
            "over_parse_only": float,
            "diagnostics": int,
            "server_rss_mb": float,
            "server_peak_rss_mb": float,
        },
    },
    "workspace": {
        "generate_s": float,
        "floor": {
            "files": int,
            "lines": int,
            "parse_only_s": float,
            "peak_rss_mb": float,
        },
        "server": {
            "initialize_s": float,
            "facts_indexed_s": float,
            "diagnostics_indexed_s": float,
            "indexing_only_s": float,
            "workspace_pull_s": float,
            "files_reported": int,
            "diagnostics": int,
            "server_rss_mb": float,
            "server_peak_rss_mb": float,
        },
        "cli": {
            "check_s": float,
            "exit_status": int,
            "findings": int,
            "peak_rss_largest_process_mb": float,
            "peak_rss_all_processes_mb": float,
        },
    },
    "corpus": {
        "files": int,
        "lines": int,
        "findings": int,
        "parse_only_s": float,
        "analyze_in_process_s": float,
        "cli_check_s": float,
        "cli_exit_status": int,
        "analysis_over_parse": float,
        "rounds": list,
        "in_process_peak_rss_mb": float,
    },
    "startup": {
        "check_startup_ms": {"min": float, "median": float},
        "check_exit_status": int,
        "server_cold_start_to_first_diagnostics_ms": {"min": float, "median": float},
    },
}


def test_every_figure_is_reported(report: dict[str, Any]) -> None:
    _check(report, SHAPE, "report")
    preset = benchmark.PRESETS["tiny"]
    cases = report["typing"]
    expected = {f"context_{n}_lines" for n in preset["context_lines"]}
    expected |= {f"migrations_{n}_modules" for n in preset["migration_files"]}
    expected.add("context_120_lines_mg_rules_only")
    expected.add("context_120_lines_with_workspace_schemas")
    assert set(cases) == expected
    assert cases["context_120_lines_with_workspace_schemas"]["workspace_schemas"] is True
    for name, case in cases.items():
        _check(case, TYPING_CASE, f"typing.{name}")
        assert case["server_side_ms"]["n"] == preset["keystrokes"]


def test_counts_follow_the_preset(report: dict[str, Any]) -> None:
    preset = benchmark.PRESETS["tiny"]
    assert report["documents"]["open"]["documents"] == preset["documents"]
    # The project's files plus mix.exs; the server indexed and reported each of them.
    assert report["workspace"]["floor"]["files"] == preset["project_files"] + 1
    assert report["workspace"]["server"]["files_reported"] >= preset["project_files"]
    assert report["workspace"]["cli"]["exit_status"] in (0, 1)
    assert report["corpus"]["files"] == preset["corpus_files"]
    rounds = report["corpus"]["rounds"]
    assert len(rounds) == 3
    assert report["corpus"]["analyze_in_process_s"] == min(
        r["analyze_in_process_s"] for r in rounds
    )
    # The CLI really ran (a missing module exits 1 too, so compare with the in-process count).
    assert report["corpus"]["cli_exit_status"] == (1 if report["corpus"]["findings"] else 0)
    assert report["startup"]["check_exit_status"] == 0


def test_server_follows_every_keystroke(report: dict[str, Any]) -> None:
    assert report["typing_e2e"]["context_120_lines"]["server_text_matches_client"] is True


@pytest.mark.parametrize(
    ("text", "bursts"),
    [
        (context_module("Bench.Records", 400), CONTEXT_BURSTS),
        ("".join(migration_source(i) for i in range(4)), MIGRATION_BURSTS),
    ],
    ids=["context", "migrations"],
)
def test_bursts_type_then_delete(text: str, bursts: tuple[tuple[str, str], ...]) -> None:
    one_round = sum(2 * len(typed) for _, typed in bursts)
    keys = burst_keystrokes(text, bursts, one_round)
    assert all(len(k.text) <= 1 for k in keys), "one character per keystroke"
    assert apply_keystrokes(text, keys) == text, "every burst is deleted again"
    typed_only = apply_keystrokes(text, keys[: len(bursts[0][1])])
    assert typed_only.count(bursts[0][1].strip()) == 1


def test_a_worker_process_round_trips() -> None:
    result = RUN_JOB_IN_WORKER(
        "tests.benchmarks.scenario_jobs:typing_case",
        {"kind": "migrations", "size": 1, "keystrokes": 2},
    )
    _check(result, {**TYPING_CASE, "job_wall_s": float}, "worker")
    assert result["server_side_ms"]["n"] == 2
