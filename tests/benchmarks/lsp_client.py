"""A small synchronous LSP client over pipes, for timing the real ``python -m server.lsp``.

A reader thread drains the server's stdout into a queue so that waits can
time out and the server never blocks on a full pipe. The client answers the
server's own requests (``workDoneProgress/create``, ``diagnostic/refresh``,
``registerCapability``, ``workspace/configuration``) with plain defaults as
it reads them, and hands every server message to ``on_message`` so callers
can time events such as the end of workspace indexing.
"""

from __future__ import annotations

import itertools
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks.lsp_timing import _receive, _send

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 600.0

# A pulling client (like Neovim 0.11 or VS Code with pull diagnostics): the
# server never pushes, it answers textDocument/diagnostic and workspace/diagnostic.
PULL_CAPABILITIES: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-16"]},
    "window": {"workDoneProgress": True},
    "textDocument": {
        "synchronization": {"didSave": True},
        "diagnostic": {"dynamicRegistration": False, "relatedDocumentSupport": False},
    },
    "workspace": {"diagnostics": {"refreshSupport": True}, "workspaceFolders": True},
}


class ServerError(RuntimeError):
    """The server answered a request with an error, or went away."""


class LspProcess:
    """One ``python -m server.lsp`` process and a synchronous client talking to it."""

    def __init__(self, on_message: Callable[[dict[str, Any], float], None] | None = None) -> None:
        self.on_message = on_message
        # stderr goes to a file: a full pipe would block the server, DEVNULL hides crashes.
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "PHXGUARD_LOG_LEVEL": "WARNING"},
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._stdin = self.proc.stdin
        self._inbox: queue.Queue[tuple[dict[str, Any], float] | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.proc.pid

    def _read(self, stream: Any) -> None:
        try:
            while True:
                message = _receive(stream)
                self._inbox.put((message, time.perf_counter()))
        except Exception:
            self._inbox.put(None)

    # -- sending ------------------------------------------------------------

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        _send(self._stdin, {"jsonrpc": "2.0", "method": method, "params": params})

    def send_request(self, method: str, params: Any) -> int:
        """Send a request without waiting; returns its id (see :meth:`wait_response`)."""
        request_id = next(self._ids)
        _send(self._stdin, {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return request_id

    def request(self, method: str, params: Any, timeout: float = TIMEOUT_S) -> Any:
        """Send a request and wait for its result."""
        return self.wait_response(self.send_request(method, params), timeout)

    # -- receiving ------------------------------------------------------------

    def next_message(self, timeout: float = TIMEOUT_S) -> tuple[dict[str, Any], float]:
        """The next server message and when it arrived; server requests are answered."""
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise ServerError(f"no message from the server in {timeout} s") from None
        if item is None:
            raise ServerError(f"server closed its output: {self.stderr_tail()}")
        message, arrived = item
        if "method" in message and "id" in message:
            _send(self._stdin, {"jsonrpc": "2.0", "id": message["id"], "result": _answer(message)})
        if self.on_message is not None:
            self.on_message(message, arrived)
        return message, arrived

    def wait_response(self, request_id: int, timeout: float = TIMEOUT_S) -> Any:
        """Wait for the response to ``request_id`` (other messages are handled meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            message, _ = self.next_message(max(0.0, deadline - time.monotonic()))
            if message.get("id") == request_id and "method" not in message:
                if "error" in message:
                    raise ServerError(f"request {request_id} failed: {message['error']}")
                return message.get("result")

    def wait_responses(self, request_ids: list[int], timeout: float = TIMEOUT_S) -> dict[int, Any]:
        """Wait for the responses to several pipelined requests; results by id."""
        deadline = time.monotonic() + timeout
        pending = set(request_ids)
        results: dict[int, Any] = {}
        while pending:
            message, _ = self.next_message(max(0.0, deadline - time.monotonic()))
            request_id = message.get("id")
            if request_id in pending and "method" not in message:
                if "error" in message:
                    raise ServerError(f"request {request_id} failed: {message['error']}")
                results[request_id] = message.get("result")
                pending.discard(request_id)
        return results

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT_S
    ) -> float:
        """Wait for a server message matching ``predicate``; returns when it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            message, arrived = self.next_message(max(0.0, deadline - time.monotonic()))
            if predicate(message):
                return arrived

    # -- session ------------------------------------------------------------------

    def initialize(
        self,
        root: Path | None,
        capabilities: dict[str, Any] | None = None,
        options: Any = None,
    ) -> Any:
        """``initialize`` + ``initialized`` with ``root`` as the only workspace folder."""
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "rootUri": root.as_uri() if root is not None else None,
            "capabilities": capabilities if capabilities is not None else PULL_CAPABILITIES,
            "initializationOptions": options,
        }
        if root is not None:
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
        result = self.request("initialize", params)
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> str:
        """``didOpen`` of ``path`` as Elixir; returns its URI."""
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "elixir",
                    "version": version,
                    "text": text,
                }
            },
        )
        return uri

    def pull(self, uri: str, previous: str | None = None) -> dict[str, Any]:
        """``textDocument/diagnostic`` for ``uri``."""
        params: dict[str, Any] = {"textDocument": {"uri": uri}}
        if previous is not None:
            params["previousResultId"] = previous
        result: dict[str, Any] = self.request("textDocument/diagnostic", params)
        return result

    def memory_mb(self) -> dict[str, float]:
        """The server's VmRSS and VmHWM (peak) from /proc, in MiB."""
        return proc_memory_mb(self.pid)

    def stderr_tail(self, limit: int = 2000) -> str:
        """The end of what the server wrote to stderr."""
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-limit:]

    def close(self) -> None:
        """``shutdown`` + ``exit``, then make sure the process is gone."""
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=30)
                self.notify("exit", None)
                self.proc.wait(timeout=30)
        except (ServerError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.stderr.close()

    def __enter__(self) -> LspProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _answer(request: dict[str, Any]) -> Any:
    """The default answer to a server-to-client request."""
    if request.get("method") == "workspace/configuration":
        return [None for _ in request.get("params", {}).get("items", [])]
    return None


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of process ``pid`` in MiB (zeros if it is gone)."""
    figures = {"rss_mb": 0.0, "peak_rss_mb": 0.0}
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return figures
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == "VmRSS":
            figures["rss_mb"] = int(value.split()[0]) / 1024
        elif name == "VmHWM":
            figures["peak_rss_mb"] = int(value.split()[0]) / 1024
    return figures
