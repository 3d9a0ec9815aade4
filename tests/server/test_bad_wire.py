"""The server process on raw pipes and sockets: garbage on the wire, clients that vanish.

These talk JSON-RPC by hand (no pytest-lsp client) so they can send what no
well-behaved client would, and close the connection in the middle of a
request. Over TCP the server serves one connection, as pygls does: when that
client disconnects, the process exits (cleanly); an editor starts one server
per session.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.bad_input_corpus import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0  # generous: two shared CPUs


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def frame(body: bytes) -> bytes:
    """One LSP message: the Content-Length header and ``body``."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    """A framed JSON-RPC message."""
    return frame(json.dumps(message).encode())


class Connection:
    """Reads framed messages from a byte stream into a queue, in a thread."""

    def __init__(self, stream: IO[bytes], write: Callable[[bytes], None]) -> None:
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.write = write
        self.next_id = 100
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while True:
                length = 0
                while (line := stream.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("ascii").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                if not line:
                    break
                self.messages.put(json.loads(stream.read(length)))
        except (OSError, ValueError):
            pass  # the test closed the stream under us
        self.messages.put(None)

    def send(self, message: dict[str, Any]) -> None:
        """Send one message."""
        self.write(encode(message))

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Messages up to and including the first that satisfies ``predicate``."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                message = self.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            if message is None:
                raise AssertionError(f"connection closed; got {seen}")
            seen.append(message)
            if predicate(message):
                return seen
        raise AssertionError(f"timed out; got {seen}")

    def request(self, method: str, params: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send a request; its answer, and what came before it."""
        self.next_id += 1
        msg_id = self.next_id
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        seen = self.wait_for(lambda m: m.get("id") == msg_id and "method" not in m)
        return seen[-1], seen[:-1]

    def initialize(self, pull: bool = True, root: Path | None = None) -> None:
        """``initialize`` (a pull client unless ``pull`` is false) and ``initialized``."""
        caps: dict[str, Any] = {"textDocument": {"diagnostic": {}}} if pull else {}
        params: dict[str, Any] = {"processId": None, "rootUri": None, "capabilities": caps}
        if root is not None:
            params["rootUri"] = root.as_uri()
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": "ws"}]
        self.request("initialize", params)
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def open(self, uri: str, text: str) -> None:
        """``didOpen`` an Elixir document at version 1."""
        item = {"uri": uri, "languageId": "elixir", "version": 1, "text": text}
        self.send(
            {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}}
        )

    def alive(self) -> list[dict[str, Any]]:
        """Prove the server answers; returns the messages that came before the answer."""
        answer, before = self.request("phxguard/documentState", {"uri": "file:///nowhere.ex"})
        assert answer == {"jsonrpc": "2.0", "id": self.next_id, "result": None}
        return before


class StdioServer:
    """``python -m server.lsp`` with our own pipes; stderr collected in a thread."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.lsp", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        self.stderr: list[str] = []
        assert self.process.stderr is not None
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()

    def _drain(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.stderr.append(line.decode("utf-8", "replace"))

    def connection(self) -> Connection:
        """The client end of the pipes."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None

        def write(data: bytes) -> None:
            stdin.write(data)
            stdin.flush()

        return Connection(stdout, write)

    def exit_status(self) -> int:
        """Wait (bounded) for the process to end."""
        return self.process.wait(timeout=WAIT)

    def log(self) -> str:
        """Everything on stderr so far (after a short grace for the drain thread)."""
        time.sleep(0.2)
        return "".join(self.stderr)


@pytest.fixture
def stdio() -> Iterator[StdioServer]:
    """A server on stdio, killed if the test left it running."""
    server = StdioServer()
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def _warnings(before: list[dict[str, Any]]) -> list[str]:
    return [
        m["params"]["message"]
        for m in before
        if m.get("method") in ("window/logMessage", "window/showMessage")
    ]


@pytest.mark.parametrize(
    ("body", "logged"),
    [
        (b"[1, 2, 3]", "not a JSON-RPC object: [1, 2, 3]"),
        (b'"hello"', "not a JSON-RPC object: 'hello'"),
        (b"null", "not a JSON-RPC object: None"),
        (b"42", "not a JSON-RPC object: 42"),
        (b'{"id": 3, "method": "shutdown"}', "not a JSON-RPC object"),
        (b'[{"jsonrpc": "2.0", "id": 5, "method": "shutdown"}]', "not a JSON-RPC object"),
        (b'{"jsonrpc": "2.0"}', "without a method name"),
        (b'{"jsonrpc": "2.0", "method": 5}', "without a method name"),
    ],
    ids=[
        "array",
        "string",
        "null",
        "number",
        "no-jsonrpc",
        "batch",
        "empty",
        "method-not-a-string",
    ],
)
def test_a_body_that_is_not_a_message_is_logged_and_dropped(
    stdio: StdioServer, body: bytes, logged: str
) -> None:
    conn = stdio.connection()
    conn.initialize()
    conn.write(frame(body))
    before = conn.alive()
    assert any(logged in m for m in _warnings(before)), before
    # Logged once, as a warning: never an error (an editor may pop those up).
    assert all(m.get("params", {}).get("type") != 1 for m in before), before
    # A batched shutdown is not obeyed: the server still serves.
    conn.alive()


def test_invalid_json_and_invalid_utf8_bodies_leave_the_server_serving(stdio: StdioServer) -> None:
    conn = stdio.connection()
    conn.initialize()
    for body in [b"{not json", b'{"jsonrpc": "2.0", "method": "x", "params": "\xff"}', b"{"]:
        conn.write(frame(body))
        seen = conn.alive()
        # One clear warning, no "internal error" (the client's message was broken, not us).
        assert any("not valid JSON" in m for m in _warnings(seen)), seen
        assert all(m.get("params", {}).get("type") != 1 for m in seen), seen
    assert stdio.process.poll() is None
    assert "Traceback" not in stdio.log()


def test_a_bad_content_length_header_loses_only_what_it_framed(stdio: StdioServer) -> None:
    conn = stdio.connection()
    conn.initialize()
    # Without a usable length the reader skips lines until the next Content-Length; the body
    # of the broken message ends in a newline here, so nothing after it is lost.
    conn.write(b"Content-Length: abc\r\n\r\n{}\r\n")
    conn.alive()
    conn.write(b"Content-Type: application/vscode-jsonrpc\r\n\r\n")
    conn.alive()
    conn.write(frame(b""))
    conn.alive()


def test_unknown_methods_are_answered_or_ignored_quietly(stdio: StdioServer) -> None:
    conn = stdio.connection()
    conn.initialize()
    for method in ["phxguard/noSuchNotification", "$/noSuchNotification", "$/progress"]:
        conn.send({"jsonrpc": "2.0", "method": method, "params": {"x": 1}})
    conn.send({"jsonrpc": "2.0", "method": "custom/noParams"})
    before = conn.alive()
    assert _warnings(before) == []
    answer, before = conn.request("phxguard/noSuchRequest", {})
    assert answer["error"]["code"] == -32601
    assert _warnings(before) == []
    # JSON-RPC lets params be left out: still MethodNotFound, not InvalidParams.
    conn.send({"jsonrpc": "2.0", "id": 7, "method": "phxguard/noSuchRequest"})
    (answer,) = conn.wait_for(lambda m: m.get("id") == 7)
    assert answer["error"]["code"] == -32601
    log = stdio.log()
    assert "noSuchNotification" not in log and "$/progress" not in log
    assert "Traceback" not in log


def test_cancelling_requests_is_not_an_error(stdio: StdioServer) -> None:
    conn = stdio.connection()
    conn.initialize()
    for msg_id in [12345, "gone", None]:
        conn.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": msg_id}})
    before = conn.alive()
    assert _warnings(before) == []
    log = stdio.log()
    assert "Traceback" not in log and " ERROR " not in log, log
    # It reached pygls' cancellation (which notes, on stderr only, an id it does not know).
    assert 'Cancel notification for unknown message id "12345"' in log


def _open_slow_document(conn: Connection, tmp_path: Path) -> str:
    """Open a document whose analysis runs to the time budget, and pull its diagnostics."""
    uri = (tmp_path / "deep.ex").as_uri()
    conn.open(uri, BY_NAME["nested-ifs"].text)
    conn.send(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "textDocument/diagnostic",
            "params": {"textDocument": {"uri": uri}},
        }
    )
    return uri


@pytest.mark.parametrize("how", ["close-both", "close-stdin", "kill-reader"])
def test_a_client_vanishing_mid_request_ends_the_process_cleanly(
    stdio: StdioServer, tmp_path: Path, how: str
) -> None:
    conn = stdio.connection()
    conn.initialize()
    _open_slow_document(conn, tmp_path)
    time.sleep(0.3)  # the pull is under way
    assert stdio.process.stdin is not None and stdio.process.stdout is not None
    stdio.process.stdin.close()
    if how == "close-both":
        stdio.process.stdout.close()
    elif how == "kill-reader":
        # The client's read end is gone: the answer is written into a broken pipe. The
        # descriptor is pointed at /dev/null rather than closed, so the reader thread sees
        # EOF and closing the file object later cannot close another test's reused number.
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, stdio.process.stdout.fileno())
        os.close(null)
    start = time.monotonic()
    status = stdio.exit_status()
    log = stdio.log()
    assert status == 0, log
    assert "Traceback" not in log and " ERROR " not in log, log
    # "Promptly": the slow analysis may finish first (budget 3 s), nothing longer.
    assert time.monotonic() - start < WAIT


def test_a_push_client_vanishing_before_its_diagnostics_ends_the_process_cleanly(
    stdio: StdioServer, tmp_path: Path
) -> None:
    conn = stdio.connection()
    conn.initialize(pull=False)
    conn.open((tmp_path / "a.ex").as_uri(), BY_NAME["crlf"].text)
    assert stdio.process.stdin is not None and stdio.process.stdout is not None
    # stdin first: the server sees EOF and exits, so the reader thread stops reading
    # stdout (closing stdout first could wait on that thread for ever).
    stdio.process.stdin.close()
    stdio.process.stdout.close()
    assert stdio.exit_status() == 0
    log = stdio.log()
    assert "Traceback" not in log and " ERROR " not in log, log


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_tcp_client_disconnecting_mid_request_ends_the_server_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    server = StdioServer("--tcp", f"127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        conn = Connection(sock.makefile("rb"), sock.sendall)
        conn.initialize()
        conn.alive()
        _open_slow_document(conn, tmp_path)
        time.sleep(0.3)
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        # One connection per process (pygls' TCP server): it exits when its client leaves.
        assert server.exit_status() == 0
        log = server.log()
        assert "Traceback" not in log and " ERROR " not in log, log
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_workspace_neither_stalls_indexing_nor_exit(
    stdio: StdioServer, tmp_path: Path
) -> None:
    # The workspace scan used to block for ever reading the FIFO: no workspace diagnostics,
    # and the process hung at exit waiting for the stuck thread.
    (tmp_path / "lib").mkdir()
    os.mkfifo(tmp_path / "lib" / "a_pipe.ex")
    (tmp_path / "lib" / "z.ex").write_bytes(BY_NAME["crlf"].source)
    conn = stdio.connection()
    conn.initialize(pull=False, root=tmp_path)
    published = conn.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics")[-1]
    assert published["params"]["uri"] == (tmp_path / "lib" / "z.ex").as_uri()
    conn.request("shutdown", None)
    conn.send({"jsonrpc": "2.0", "method": "exit"})
    assert stdio.exit_status() == 0
    assert "Traceback" not in stdio.log()
