"""LSP framing over pipes (``_send``/``_receive``) and the server's cold start.

Per-keystroke timings live in :mod:`tests.benchmarks.typing_bursts`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any


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
