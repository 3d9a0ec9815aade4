"""A short readable summary of a benchmark report (the JSON has every figure)."""

from __future__ import annotations

from typing import Any


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _num(value: Any, fmt: str = ".1f") -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else "?"


def _errors(section: Any, name: str) -> list[str]:
    """``name: error`` lines for failed jobs anywhere in ``section``."""
    if not isinstance(section, dict):
        return []
    if "error" in section:
        last = [line for line in str(section["error"]).splitlines() if line.strip()][-1:]
        return [f"  {name}: FAILED {(last or ['?'])[0][:200]}"]
    lines: list[str] = []
    for key, value in section.items():
        lines += _errors(value, f"{name}.{key}")
    return lines


def summarize(report: dict[str, Any]) -> str:
    """One line per figure that matters, each next to its parse-only floor."""
    m = report.get("machine", {})
    out = [
        f"phxguard benchmark ({report.get('size')}): {m.get('cpus')} CPUs {m.get('cpu_model')}, "
        f"{m.get('memory')}, Python {m.get('python')}, tree-sitter {m.get('tree_sitter')}, "
        f"load {_num(_get(m, 'load_average_at_start') and m['load_average_at_start'][0], '.2f')}"
    ]
    for name, case in (report.get("typing") or {}).items():
        server, floor = _get(case, "server_side_ms"), _get(case, "reparse_floor_ms")
        if server is None or floor is None:
            continue
        out.append(
            f"  keystroke {name}: p50 {_num(server['p50'])} ms, p99 {_num(server['p99'])} ms "
            f"(reparse floor p50 {_num(floor['p50'], '.2f')} ms, full parse "
            f"{_num(case.get('full_parse_ms'))} ms; peak RSS {_num(case.get('peak_rss_mb'), '.0f')} MB)"
        )
    for name, case in (report.get("typing_e2e") or {}).items():
        e2e = _get(case, "keystroke_ms")
        if e2e is None:
            continue
        out.append(
            f"  keystroke end to end {name}: p50 {_num(e2e['p50'])} ms, p99 {_num(e2e['p99'])} ms "
            f"(server RSS {_num(case.get('server_rss_mb'), '.0f')} MB, "
            f"text in sync: {case.get('server_text_matches_client')})"
        )
    docs = report.get("documents")
    if isinstance(docs, dict):
        idle, opened = docs.get("idle_server", {}), docs.get("open", {})
        out.append(
            f"  idle server RSS {_num(idle.get('server_rss_mb'), '.0f')} MB; "
            f"{opened.get('documents')} open documents: RSS {_num(opened.get('server_rss_mb'), '.0f')} MB "
            f"(peak {_num(opened.get('server_peak_rss_mb'), '.0f')} MB), open+analyse "
            f"{_num(opened.get('open_and_analyse_s'), '.2f')} s vs parse-only "
            f"{_num(opened.get('parse_only_s'), '.2f')} s"
        )
    ws = report.get("workspace")
    if isinstance(ws, dict):
        floor, server, cli = ws.get("floor", {}), ws.get("server", {}), ws.get("cli", {})
        out.append(
            f"  workspace {floor.get('files')} files / {floor.get('lines')} lines: parse-only "
            f"{_num(floor.get('parse_only_s'), '.2f')} s; server facts "
            f"{_num(server.get('facts_indexed_s'), '.2f')} s, all diagnostics "
            f"{_num(server.get('diagnostics_indexed_s'), '.2f')} s, peak RSS "
            f"{_num(server.get('server_peak_rss_mb'), '.0f')} MB; check "
            f"{_num(cli.get('check_s'), '.2f')} s, peak RSS "
            f"{_num(cli.get('peak_rss_all_processes_mb'), '.0f')} MB (all processes)"
        )
    corpus = report.get("corpus")
    if isinstance(corpus, dict) and "error" not in corpus:
        out.append(
            f"  corpus {corpus.get('files')} files: parse-only {_num(corpus.get('parse_only_s'), '.2f')} s, "
            f"analysis {_num(corpus.get('analyze_in_process_s'), '.2f')} s "
            f"({_num(corpus.get('analysis_over_parse'))}x), check {_num(corpus.get('cli_check_s'), '.2f')} s"
        )
    start = report.get("startup")
    if isinstance(start, dict) and "error" not in start:
        out.append(
            f"  check start-up {_num(_get(start, 'check_startup_ms', 'min'), '.0f')} ms; server cold "
            f"start to first diagnostics {_num(_get(start, 'server_cold_start_to_first_diagnostics_ms', 'min'), '.0f')} ms"
        )
    for name in ("typing", "typing_e2e", "documents", "workspace", "corpus", "startup"):
        out += _errors(report.get(name), name)
    out.append(f"  total {_num(report.get('total_s'))} s")
    return "\n".join(out)
