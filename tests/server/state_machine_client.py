"""Support for the state-machine test: a synchronous LSP client, positions, and a shadow ``check``.

The hypothesis state machine runs thousands of steps against one real server
process, so everything here is synchronous and cheap: a JSON-RPC client over
the subprocess' pipes (a reader thread feeds a queue; requests the server
sends are answered while we wait), positions computed with the client-side
text model of :mod:`tests.server.lsp_client` (written independently of the
server's), and a shadow workspace on which ``phxguard check --format json``
runs in-process.
"""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from server.cli.main import main as cli_main
from tests.server.lsp_client import REPO_ROOT, split_lines, units

# Generous: two CPUs are shared by several agents; a healthy answer takes milliseconds.
TIMEOUT = 20.0

Json = Any
# ``python -m server.lsp``, plus: SIGUSR1 dumps every thread's stack to stderr (for hangs).
_BOOT = (
    "import faulthandler, runpy, signal, sys; "
    "faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True); "
    "runpy.run_module('server.lsp', run_name='__main__', alter_sys=True)"
)
ServerRequestHandler = Callable[[Json], Json]


class ServerDied(AssertionError):
    """The server process exited or stopped answering."""


class ResponseError(AssertionError):
    """The server answered a request with a JSON-RPC error."""


class LspProcess:
    """``python -m server.lsp`` on pipes, spoken to synchronously.

    Notifications the server sends are kept in :attr:`notifications`; its
    requests are answered by the handler registered for the method (null
    when there is none, as editors do for refresh and progress requests).
    """

    def __init__(self, cwd: Path, stderr_path: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        env.setdefault("PHXGUARD_LOG_LEVEL", "WARNING")
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=cwd,
            env=env,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin: BinaryIO = self.process.stdin
        self._inbox: queue.Queue[Json | None] = queue.Queue()
        self._reader = threading.Thread(
            target=_read_messages, args=(self.process.stdout, self._inbox), daemon=True
        )
        self._reader.start()
        self._next_id = 0
        self._responses: dict[int, Json] = {}
        self.handlers: dict[str, ServerRequestHandler] = {}
        self.notifications: list[Json] = []
        self.server_requests: list[Json] = []

    # -- sending ----------------------------------------------------------------------

    def _send(self, message: Json) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        try:
            self._stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self._stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise ServerDied(f"cannot write to the server: {exc}\n{self.stderr_tail()}") from None

    def notify(self, method: str, params: Json) -> None:
        """Send a notification."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def send_request(self, method: str, params: Json) -> int:
        """Send a request without waiting; returns its id (see :meth:`response`)."""
        self._next_id += 1
        self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def response(self, msg_id: int, timeout: float = TIMEOUT) -> Json:
        """The result of request ``msg_id`` (raises :class:`ResponseError` on an error answer)."""
        self.pump_until(
            lambda: msg_id in self._responses, f"the answer to request {msg_id}", timeout
        )
        answer = self._responses.pop(msg_id)
        if "error" in answer:
            raise ResponseError(f"request {msg_id} failed: {answer['error']}")
        return answer.get("result")

    def request(self, method: str, params: Json, timeout: float = TIMEOUT) -> Json:
        """Send a request and wait for its result, answering the server's requests meanwhile."""
        return self.response(self.send_request(method, params), timeout)

    # -- receiving --------------------------------------------------------------------

    def pump_until(self, done: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
        """Handle incoming messages until ``done()``; a dead or silent server fails the test."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerDied(f"timed out waiting for {what}\n{self.stacks()}")
            try:
                message = self._inbox.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                if self.process.poll() is not None:
                    raise ServerDied(
                        f"server exited ({self.process.returncode}) while waiting for {what}\n"
                        + self.stderr_tail()
                    ) from None
                continue
            if message is None:
                raise ServerDied(
                    f"server closed its output while waiting for {what}\n" + self.stderr_tail()
                )
            self._dispatch(message)

    def drain(self) -> None:
        """Handle whatever has already arrived, without waiting."""
        while True:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return
            if message is None:
                raise ServerDied("server closed its output\n" + self.stderr_tail())
            self._dispatch(message)

    def _dispatch(self, message: Json) -> None:
        if "method" not in message:
            self._responses[message["id"]] = message
            return
        if "id" not in message:
            self.notifications.append(message)
            return
        self.server_requests.append(message)
        handler = self.handlers.get(message["method"])
        try:
            result = handler(message.get("params")) if handler is not None else None
        except Exception as exc:  # answer with an error rather than leave the server waiting
            self._send(
                {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": -32603, "message": str(exc)},
                }
            )
            raise
        self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    # -- lifetime ---------------------------------------------------------------------

    def stacks(self) -> str:
        """The server's thread stacks (it stopped answering) and the end of its stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(1.0)  # let faulthandler write; only on the way to a failure
        return self.stderr_tail(12000)

    def stderr_tail(self, size: int = 4000) -> str:
        """The end of the server's stderr, for failure messages."""
        if not self._stderr.closed:
            self._stderr.flush()
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            return ""
        return "--- server stderr (tail) ---\n" + data[-size:].decode("utf-8", "replace")

    def close(self) -> bool:
        """``shutdown`` + ``exit``; True if the server then exited with status 0 by itself.

        A server that does not answer or exit within the (generous) timeout is killed.
        """
        clean = False
        try:
            if self.process.poll() is None:
                self.request("shutdown", None, timeout=TIMEOUT)
                self.notify("exit", None)
                clean = self.process.wait(timeout=TIMEOUT) == 0
        except (AssertionError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=TIMEOUT)
            self._stderr.close()
        return clean


def _read_messages(stream: BinaryIO, inbox: queue.Queue[Json | None]) -> None:
    """Reader thread: Content-Length framed JSON messages into ``inbox``; None at EOF."""
    try:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            body = stream.read(length)
            if len(body) < length:
                return
            inbox.put(json.loads(body))
    finally:
        inbox.put(None)


# -- positions: code point indices of the client's text <-> LSP positions --------------


def position(text: str, index: int, encoding: str) -> Json:
    """LSP position (dict) of code point ``index`` (never between a CR and its LF)."""
    consumed = 0
    for line_no, line in enumerate(split_lines(text)):
        content = line.rstrip("\r\n") if line.endswith(("\r", "\n")) else line
        if index <= consumed + len(content):
            return {"line": line_no, "character": units(text[consumed:index], encoding)}
        assert index >= consumed + len(line), f"index {index} splits a CRLF"
        consumed += len(line)
    raise AssertionError(f"index {index} is past the end of a {len(text)}-character text")


def index_of(text: str, pos: Json, encoding: str) -> int:
    """Code point index of an LSP position that must exist in ``text``."""
    lines = split_lines(text)
    line, character = pos["line"], pos["character"]
    assert 0 <= line < len(lines), f"line {line} of a {len(lines)}-line text"
    offset = sum(len(part) for part in lines[:line])
    raw = lines[line]
    content = raw.rstrip("\r\n") if raw.endswith(("\r", "\n")) else raw
    count = 0
    for i, ch in enumerate(content):
        if count == character:
            return offset + i
        count += units(ch, encoding)
    assert count == character, f"character {character} is not a boundary of line {content!r}"
    return offset + len(content)


def lsp_range(text: str, start: int, end: int, encoding: str) -> Json:
    """LSP range (dict) of code points ``[start, end)``."""
    return {"start": position(text, start, encoding), "end": position(text, end, encoding)}


def cli_position(text: str, line: int, column: int, encoding: str) -> Json:
    """LSP position of the CLI's 1-based line and 1-based column counted in code points."""
    lines = split_lines(text)
    assert 1 <= line <= len(lines), f"CLI line {line} of a {len(lines)}-line text"
    raw = lines[line - 1]
    content = raw.rstrip("\r\n") if raw.endswith(("\r", "\n")) else raw
    return {"line": line - 1, "character": units(content[: column - 1], encoding)}


def apply_edits(text: str, edits: Iterable[Json], encoding: str) -> tuple[str, list[Json]]:
    """Apply LSP text edits (ranges in ``text``) as an editor does.

    Returns the new text and the equivalent ``didChange`` content changes:
    last edit first, so each range is valid where the previous one left off.
    """
    spans = [
        (
            index_of(text, e["range"]["start"], encoding),
            index_of(text, e["range"]["end"], encoding),
            n,
            e,
        )
        for n, e in enumerate(edits)
    ]
    changes = []
    for start, end, _, edit in sorted(spans, key=lambda s: (s[0], s[1], s[2]), reverse=True):
        changes.append({"range": lsp_range(text, start, end, encoding), "text": edit["newText"]})
        text = text[:start] + edit["newText"] + text[end:]
    return text, changes


# -- the shadow workspace: what `phxguard check` says about the same texts ----------------


class ShadowWorkspace:
    """A directory mirroring the workspace as the server sees it, checked by the CLI in-process.

    Closed files are copied as on disk, open ones written with the client's
    text, and ``.phxguard.toml`` holds the effective settings. Results are
    cached by content, since most steps (hover, code action, save) change
    nothing the check depends on.
    """

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self._written: dict[str, bytes] = {}
        self._cache: dict[tuple[tuple[str, bytes], ...], dict[str, list[Json]]] = {}
        self.checks = 0

    def findings(self, files: Mapping[str, bytes]) -> dict[str, list[Json]]:
        """Findings of ``phxguard check --format json`` by root-relative path."""
        key = tuple(sorted(files.items()))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        self._sync(files)
        out, err = io.StringIO(), io.StringIO()
        status = cli_main(
            ["check", "--format", "json", "--jobs", "1", "--quiet", str(self.root)],
            out=out,
            err=err,
        )
        assert status in (0, 1), f"phxguard check failed ({status}): {err.getvalue()}"
        self.checks += 1
        by_path: dict[str, list[Json]] = {}
        for finding in json.loads(out.getvalue()):
            by_path.setdefault(self.rel(finding["path"]), []).append(finding)
        if len(self._cache) > 2000:
            self._cache.clear()
        self._cache[key] = by_path
        return by_path

    def rel(self, cli_path: str) -> str:
        """The root-relative POSIX path of a path the CLI printed (relative to the cwd)."""
        return Path(os.path.realpath(Path.cwd() / cli_path)).relative_to(self.root).as_posix()

    def _sync(self, files: Mapping[str, bytes]) -> None:
        for rel in [r for r in self._written if r not in files]:
            (self.root / rel).unlink(missing_ok=True)
            del self._written[rel]
        for rel, data in files.items():
            if self._written.get(rel) != data:
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                self._written[rel] = data


def toml_of(config: Mapping[str, Any]) -> str:
    """``.phxguard.toml`` text for effective settings (keys as in the file)."""
    lines = []
    for key in ("select", "ignore", "exclude"):
        if key in config:
            lines.append(f"{key} = {json.dumps(list(config[key]))}")
    if "pg_version" in config:
        lines.append(f"pg_version = {int(config['pg_version'])}")
    if config.get("severity"):
        lines.append("[severity]")
        lines.extend(f"{code} = {json.dumps(level)}" for code, level in config["severity"].items())
    return "\n".join(lines) + "\n"


def cli_index(text: str, line: int, column: int) -> int:
    """Code point index of the CLI's 1-based line and code point column."""
    lines = split_lines(text)
    return sum(len(part) for part in lines[: line - 1]) + column - 1
