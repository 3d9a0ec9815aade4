"""phxguard benchmark: prints figures, asserts nothing (machines are noisy).

    python3 -m tests.benchmarks.benchmark [--quick] [--only SCENARIO[,SCENARIO]] [--out FILE]

The JSON report goes to stdout (and to ``--out``), a short readable summary to
stderr. Every scenario runs in its own worker process, so each peak RSS is
that scenario's alone; every figure stands next to tree-sitter parse-only
time of the same input (the floor). Scenarios:

- ``typing``: keystroke bursts (statements typed into function bodies and
  deleted again) on 500 / 5,000 / 20,000-line context modules and on files of
  19 and 190 migrations; per keystroke, server-side from ``didChange`` to
  diagnostics ready (store update + incremental reparse + analysis + LSP
  conversion; debounce excluded), p50/p99, next to the incremental reparse
  alone and a full parse;
- ``typing_e2e``: the same bursts on the 5,000-line module through the real
  server process, a pulling client timing ``didChange`` + ``textDocument/diagnostic``;
- ``documents``: an idle server, then 200 generated documents (migrations,
  contexts, LiveViews; 200-800 lines) opened and pulled: time and RSS;
- ``workspace``: a generated 10,000-file project: server indexing (facts,
  then workspace diagnostics), ``phxguard check --format json .``, parse-only;
- ``corpus``: the 1,000-file corpus, in-process analysis and the CLI vs parse-only;
- ``startup``: ``phxguard check`` on a tiny project, server cold start.

Targets (issue 7): <= 5 ms p50 / <= 25 ms p99 per keystroke on 5,000 lines,
analysis <= 2x parse-only, <= 150 MB RSS with 200 open documents.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tree_sitter

from tests.benchmarks.corpus import write_project
from tests.benchmarks.lsp_client import REPO
from tests.benchmarks.summary import summarize

SCENARIOS = ("typing", "typing_e2e", "documents", "workspace", "corpus", "startup")

# keystrokes per typing case; context module sizes (lines); files of N migrations;
# open documents; generated project files; corpus files and CLI runs on it; start-up runs.
PRESETS: dict[str, dict[str, Any]] = {
    "full": {
        "keystrokes": 200,
        "keystrokes_largest": 100,
        "e2e_keystrokes": 200,
        "context_lines": [500, 5000, 20000],
        "migration_files": [19, 190],
        "documents": 200,
        "project_files": 10000,
        "corpus_files": 1000,
        "cli_runs": 3,
        "startup_runs": 7,
        "cold_runs": 3,
    },
    "quick": {
        "keystrokes": 30,
        "keystrokes_largest": 15,
        "e2e_keystrokes": 30,
        "context_lines": [500, 5000, 20000],
        "migration_files": [19, 190],
        "documents": 30,
        "project_files": 500,
        "corpus_files": 100,
        "cli_runs": 1,
        "startup_runs": 2,
        "cold_runs": 1,
    },
    "tiny": {
        "keystrokes": 3,
        "keystrokes_largest": 3,
        "e2e_keystrokes": 3,
        "context_lines": [60, 120, 200],
        "migration_files": [1, 2],
        "documents": 5,
        "project_files": 20,
        "corpus_files": 10,
        "cli_runs": 1,
        "startup_runs": 1,
        "cold_runs": 1,
    },
}

JOB_TIMEOUT_S = 1800


def _proc_field(path: str, name: str) -> str:
    """The value of the first ``name: value`` line of a /proc file ("" if absent)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(name)), "")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = _proc_field("/proc/cpuinfo", "model name")
    return {
        "python": platform.python_version(),
        "tree_sitter": _version("tree-sitter"),
        "cpus": os.cpu_count(),
        "cpu_model": model or platform.processor() or platform.machine(),
        "memory": _proc_field("/proc/meminfo", "MemTotal"),
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
    }


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return getattr(tree_sitter, "__version__", "")


# -- jobs: each runs in a worker process -------------------------------------------


def run_job(function: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run ``module:function(**kwargs)`` in a fresh worker process; its JSON result."""
    command = [sys.executable, "-m", "tests.benchmarks.benchmark", "--job", function]
    command += ["--job-args", json.dumps(kwargs)]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=JOB_TIMEOUT_S,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    except subprocess.TimeoutExpired:
        return {"error": f"{function} timed out after {JOB_TIMEOUT_S} s"}
    if done.returncode != 0:
        return {"error": f"{function} failed ({done.returncode}): {done.stderr[-2000:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["job_wall_s"] = time.perf_counter() - start
    return result


def _worker(function: str, raw_args: str) -> None:
    module_name, _, name = function.partition(":")
    if not module_name.startswith("tests.benchmarks."):
        raise SystemExit(f"not a benchmark job: {function}")
    target: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module_name), name)
    print(json.dumps(target(**json.loads(raw_args))))


# -- scenarios ----------------------------------------------------------------------


def typing(preset: dict[str, Any]) -> dict[str, Any]:
    """Per-keystroke cases: context modules of each size, MG rules only, migrations."""
    job = "tests.benchmarks.scenario_jobs:typing_case"
    cases: dict[str, Any] = {}
    sizes = preset["context_lines"]
    for lines in sizes:
        count = preset["keystrokes_largest"] if lines == max(sizes) else preset["keystrokes"]
        cases[f"context_{lines}_lines"] = run_job(
            job, {"kind": "context", "size": lines, "keystrokes": count}
        )
    middle = sizes[len(sizes) // 2]
    cases[f"context_{middle}_lines_with_workspace_schemas"] = run_job(
        job,
        {"kind": "context", "size": middle, "keystrokes": preset["keystrokes"], "schemas": True},
    )
    cases[f"context_{middle}_lines_mg_rules_only"] = run_job(
        job, {"kind": "context", "size": middle, "keystrokes": preset["keystrokes"], "select": "MG"}
    )
    for modules in preset["migration_files"]:
        cases[f"migrations_{modules}_modules"] = run_job(
            job, {"kind": "migrations", "size": modules, "keystrokes": preset["keystrokes"]}
        )
    return cases


def typing_e2e(preset: dict[str, Any]) -> dict[str, Any]:
    """The middle-sized context module through the real server process."""
    lines = preset["context_lines"][len(preset["context_lines"]) // 2]
    result = run_job(
        "tests.benchmarks.scenario_jobs:typing_end_to_end",
        {"size": lines, "keystrokes": preset["e2e_keystrokes"]},
    )
    return {f"context_{lines}_lines": result}


def documents(preset: dict[str, Any]) -> dict[str, Any]:
    """An idle server, then ``documents`` open ones."""
    return {
        "idle_server": run_job("tests.benchmarks.server_scenarios:idle_server", {}),
        "open": run_job(
            "tests.benchmarks.server_scenarios:open_documents", {"count": preset["documents"]}
        ),
    }


def workspace(preset: dict[str, Any]) -> dict[str, Any]:
    """A generated project: parse-only and in-process analysis, server indexing, the CLI."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        root.mkdir()
        start = time.perf_counter()
        write_project(root, preset["project_files"])
        generated = time.perf_counter() - start
        jobs = "tests.benchmarks.server_scenarios"
        return {
            "generate_s": generated,
            "floor": run_job(f"{jobs}:project_parse_only", {"root": str(root)}),
            "server": run_job(f"{jobs}:workspace_indexing", {"root": str(root)}),
            "cli": run_job(f"{jobs}:cli_check", {"root": str(root)}),
        }


def corpus(preset: dict[str, Any]) -> dict[str, Any]:
    """The historical 1,000-file corpus figure."""
    return run_job(
        "tests.benchmarks.scenario_jobs:corpus",
        {"files": preset["corpus_files"], "cli_runs": preset["cli_runs"]},
    )


def startup(preset: dict[str, Any]) -> dict[str, Any]:
    """CLI start-up and server cold start."""
    return run_job(
        "tests.benchmarks.scenario_jobs:startup",
        {"runs": preset["startup_runs"], "cold_runs": preset["cold_runs"]},
    )


RUNNERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "typing": typing,
    "typing_e2e": typing_e2e,
    "documents": documents,
    "workspace": workspace,
    "corpus": corpus,
    "startup": startup,
}


def run(size: str, only: list[str] | None = None) -> dict[str, Any]:
    """Run the chosen scenarios at ``size``; the whole report."""
    preset = PRESETS[size]
    report: dict[str, Any] = {"machine": machine(), "size": size, "preset": preset}
    start = time.perf_counter()
    for name in SCENARIOS:
        if only and name not in only:
            continue
        print(f"benchmark: {name}...", file=sys.stderr, flush=True)
        report[name] = RUNNERS[name](preset)
    report["total_s"] = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> None:
    """Parse arguments; run a worker job, or the benchmark and print the report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--size", choices=list(PRESETS), help="preset (default full)")
    parser.add_argument("--only", action="append", help=f"scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--job-args", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        _worker(args.job, args.job_args)
        return
    only = [s.strip() for value in args.only or [] for s in value.split(",") if s.strip()]
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        parser.error(
            f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    size = args.size or ("quick" if args.quick else "full")
    report = run(size, only or None)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(summarize(report), file=sys.stderr)


if __name__ == "__main__":
    main()
