"""Server-side timings: per-keystroke work on the real document store, and cold start.

Per keystroke we time exactly what the server does between a ``didChange``
and diagnostics being ready, minus the debounce: apply the change to the
bytes mirror (``Tree.edit`` + incremental reparse), analyse with the stored
tree, and convert findings to LSP diagnostics.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from analyzers.config import Config
from server.lsp.analysis import Analyzer
from server.lsp.diagnostics import to_diagnostic
from server.lsp.documents import DocumentStore, TextChange

TYPED = "  # tuned "


def keystroke_seconds(
    text: str, path: str, keystrokes: int, config: Config | None = None
) -> list[float]:
    """Seconds per keystroke while typing ``TYPED`` repeatedly into the middle of ``text``."""
    store = DocumentStore()
    analyzer = Analyzer(on_failures=lambda failures: None)
    if config is not None:
        analyzer.reconfigure(config=config)
    uri = Path(path).absolute().as_uri()
    doc = store.open(uri, path, "elixir", 1, text)
    analyzer.run(doc)
    lines = text.splitlines()
    line = len(lines) // 2
    column = len(lines[line])
    times: list[float] = []
    for i in range(keystrokes):
        char = TYPED[i % len(TYPED)]
        change = TextChange(char, (line, column, line, column))
        start = time.perf_counter()
        changed = store.change(uri, i + 2, [change], "utf-16")
        assert changed is not None
        doc = changed
        analysis = analyzer.run(doc)
        codec = doc.codec("utf-16")
        [to_diagnostic(f, codec) for f in analysis.findings]
        times.append(time.perf_counter() - start)
        column += 1
    return times


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    stream.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    stream.flush()


def _receive(stream: IO[bytes]) -> dict[str, Any]:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise RuntimeError("server closed its output")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    message: dict[str, Any] = json.loads(stream.read(length))
    return message


def cold_start_seconds(root: Path, rel_path: str, text: str) -> float:
    """Seconds from spawning ``phxguard server`` to the first published diagnostics."""
    path = root / rel_path
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None
    try:
        _send(
            stdin,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "processId": os.getpid(),
                    "rootUri": root.as_uri(),
                    "capabilities": {},
                },
            },
        )
        while _receive(stdout).get("id") != 1:
            pass
        _send(stdin, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        _send(
            stdin,
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": path.as_uri(),
                        "languageId": "elixir",
                        "version": 1,
                        "text": text,
                    },
                },
            },
        )
        while True:
            message = _receive(stdout)
            if message.get("method") == "textDocument/publishDiagnostics" and (
                message["params"]["uri"] == path.as_uri() and message["params"]["diagnostics"]
            ):
                elapsed = time.perf_counter() - start
                break
        _send(stdin, {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
        _send(stdin, {"jsonrpc": "2.0", "method": "exit", "params": None})
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return elapsed
