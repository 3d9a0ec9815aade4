"""Typing bursts: realistic keystrokes replayed server-side, as parse-only floor, and end to end.

A burst puts the cursor at the end of a line inside a function body, presses
Enter, types a statement letter by letter (``user = Repo.get!(User, id)``, a
pipeline step, a comment), then deletes it again with Backspace. Mid-burst
the code is often broken (``Repo.get!(Us``): the parser's error recovery and
the rules' work on half-typed code are part of what a keystroke costs.

Each keystroke is one LSP content change. The same edit list is replayed
(1) through the server's own pieces (``DocumentStore.change`` +
``Analyzer.run`` + ``to_diagnostic``; debounce excluded), (2) as the floor,
``Tree.edit`` + incremental reparse with a bare parser, and (3) through the
real server process by a pulling client (``didChange`` then
``textDocument/diagnostic``, wall clock).
"""

from __future__ import annotations

import inspect
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from analyzers.config import Config
from analyzers.parsing import edit_tree, elixir_parser
from analyzers.project import ProjectFacts
from analyzers.text import LineIndex
from server.lsp.analysis import Analyzer
from server.lsp.diagnostics import to_diagnostic
from server.lsp.documents import DocumentStore, TextChange
from tests.benchmarks.lsp_client import LspProcess

# (line to type after, statement typed on a new line below it); the first match
# group-less regex is searched in the original text.
CONTEXT_BURSTS = (
    (r"^  def list_kind_\d+\(.*\) do$", "\n    user = Repo.get!(User, id)"),
    (r"^    \|> Repo\.all\(\)$", "\n    |> Enum.filter(&(&1.active and &1.count > 0))"),
    (r"^    \|> Repo\.update\(\)$", "  # retried by the caller on conflict"),
)
MIGRATION_BURSTS = (
    (r"^  def change do$", "\n    create index(:accounts, [:email], unique: true)"),
    (r"^      add :payload, :map$", "\n      add :settings, :map, null: false, default: %{}"),
    (r"^      timestamps\(\)$", "  # utc_datetime by config"),
)


@dataclass(frozen=True)
class Keystroke:
    """One content change: replace ``(line, char, end_line, end_char)`` with ``text``."""

    range: tuple[int, int, int, int]
    text: str


def burst_keystrokes(text: str, bursts: tuple[tuple[str, str], ...], count: int) -> list[Keystroke]:
    """``count`` keystrokes typing and deleting ``bursts`` at lines spread over the file.

    Bursts rotate over the statement kinds and over anchors near 40/50/60 %
    of the file, each one typed completely and deleted completely, so the
    text is back to the original between bursts.
    """
    lines = text.split("\n")
    anchors: list[list[int]] = []
    for pattern, _typed in bursts:
        regex = re.compile(pattern)
        found = [i for i, line in enumerate(lines) if regex.match(line)]
        if not found:
            raise ValueError(f"no line matches {pattern!r}")
        anchors.append([found[min(len(found) - 1, len(found) * p // 10)] for p in (5, 4, 6)])
    keys: list[Keystroke] = []
    n = 0
    while len(keys) < count:
        kind = n % len(bursts)
        anchor = anchors[kind][(n // len(bursts)) % 3]
        keys.extend(_type_and_delete(lines, anchor, bursts[kind][1]))
        n += 1
    return keys[:count]


def _type_and_delete(lines: list[str], anchor: int, typed: str) -> list[Keystroke]:
    """Type ``typed`` at the end of line ``anchor`` one character at a time, then delete it."""
    keys: list[Keystroke] = []
    # The lines from the anchor down, as they are while typing (the cursor is at the end).
    segment = [lines[anchor]]
    for char in typed:
        line, col = anchor + len(segment) - 1, len(segment[-1])
        keys.append(Keystroke((line, col, line, col), char))
        if char == "\n":
            segment.append("")
        else:
            segment[-1] += char
    for char in reversed(typed):
        line = anchor + len(segment) - 1
        if char == "\n":
            segment.pop()
            keys.append(Keystroke((line - 1, len(segment[-1]), line, 0), ""))
        else:
            col = len(segment[-1])
            keys.append(Keystroke((line, col - 1, line, col), ""))
            segment[-1] = segment[-1][:-1]
    return keys


def apply_keystrokes(text: str, keys: list[Keystroke]) -> str:
    """The text after ``keys`` (for checking a replay; ASCII text only)."""
    source = text.encode()
    for key in keys:
        index = LineIndex(source)
        start = index.offset(key.range[0], key.range[1])
        end = index.offset(key.range[2], key.range[3])
        source = source[:start] + key.text.encode() + source[end:]
    return source.decode()


def percentiles_ms(times: list[float]) -> dict[str, float]:
    """p50 / p99 (nearest rank) / max of ``times`` (seconds) in milliseconds, with the count."""
    ordered = sorted(times)

    def rank(pct: float) -> float:
        index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    return {"p50": rank(50), "p99": rank(99), "max": ordered[-1] * 1000, "n": len(ordered)}


def make_analyzer(store: DocumentStore) -> Analyzer:
    """The server's analyzer over ``store`` (newer versions take the store, older ones not)."""
    # Any: the constructor's signature depends on the server version being measured.
    factory: Any = Analyzer
    if "documents" in inspect.signature(Analyzer).parameters:
        return cast(Analyzer, factory(store, on_failures=lambda failures: None))
    return cast(Analyzer, factory(on_failures=lambda failures: None))


def server_side_seconds(
    text: str,
    path: str,
    keys: list[Keystroke],
    config: Config | None = None,
    facts: ProjectFacts | None = None,
) -> tuple[list[float], int]:
    """Per keystroke: store update + incremental reparse + analysis + LSP conversion.

    Returns the times and the number of diagnostics after the last keystroke.
    """
    store = DocumentStore()
    analyzer = make_analyzer(store)
    if config is not None or facts is not None:
        analyzer.reconfigure(config=config, facts=facts)
    uri = Path(path).absolute().as_uri()
    doc = store.open(uri, path, "elixir", 1, text)
    analyzer.run(doc)
    times: list[float] = []
    diagnostics = 0
    for version, key in enumerate(keys, start=2):
        change = TextChange(key.text, key.range)
        start = time.perf_counter()
        changed = store.change(uri, version, [change], "utf-16")
        assert changed is not None
        analysis = analyzer.run(changed)
        codec = changed.codec("utf-16")
        diagnostics = len([to_diagnostic(f, codec) for f in analysis.findings])
        times.append(time.perf_counter() - start)
    return times, diagnostics


def reparse_floor_seconds(text: str, keys: list[Keystroke]) -> list[float]:
    """Per keystroke: only ``Tree.edit`` + incremental reparse with a bare parser (the floor)."""
    parser = elixir_parser()
    source = text.encode()
    tree = parser.parse(source)
    times: list[float] = []
    for key in keys:
        index = LineIndex(source)
        start_byte = index.offset(key.range[0], key.range[1])
        end_byte = index.offset(key.range[2], key.range[3])
        inserted = key.text.encode()
        new_source = source[:start_byte] + inserted + source[end_byte:]
        begin = time.perf_counter()
        edit_tree(tree, source, new_source, start_byte, end_byte)
        tree = parser.parse(new_source, tree)
        times.append(time.perf_counter() - begin)
        source = new_source
    return times


def full_parse_ms(text: str, runs: int = 5) -> float:
    """Median milliseconds of a full parse of ``text`` with a fresh tree."""
    parser = elixir_parser()
    source = text.encode()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        parser.parse(source)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def end_to_end_seconds(text: str, rel_path: str, keys: list[Keystroke]) -> dict[str, object]:
    """Per keystroke through the real server: ``didChange`` then a diagnostic pull, wall clock."""
    with tempfile.TemporaryDirectory() as tmp, LspProcess() as server:
        root = Path(tmp)
        server.initialize(root)
        uri = server.open(root / rel_path, text)
        first = server.pull(uri)
        previous = first.get("resultId")
        times: list[float] = []
        diagnostics = len(first.get("items", []))
        for version, key in enumerate(keys, start=2):
            line, char, end_line, end_char = key.range
            change = {
                "range": {
                    "start": {"line": line, "character": char},
                    "end": {"line": end_line, "character": end_char},
                },
                "text": key.text,
            }
            start = time.perf_counter()
            server.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
            )
            report = server.pull(uri, previous)
            times.append(time.perf_counter() - start)
            previous = report.get("resultId", previous)
            if report.get("kind") == "full":
                diagnostics = len(report.get("items", []))
        memory = server.memory_mb()
        # Proof that the server's copy followed every keystroke.
        state = server.request("phxguard/documentState", {"uri": uri, "includeText": True})
        in_sync = state is not None and state.get("text") == apply_keystrokes(text, keys)
    return {
        "keystroke_ms": percentiles_ms(times),
        "diagnostics_at_end": diagnostics,
        "server_text_matches_client": in_sync,
        "server_rss_mb": memory["rss_mb"],
        "server_peak_rss_mb": memory["peak_rss_mb"],
    }
