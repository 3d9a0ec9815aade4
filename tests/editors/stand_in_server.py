"""A stand-in for ElixirLS/Expert in the editor tests: a minimal LSP server over stdio.

It answers ``initialize`` (full text sync) and, for every opened or changed document,
publishes one hint of its own on the first line, so a test can see that an editor shows
this server's diagnostics and phxguard's side by side.
"""

from __future__ import annotations

import json
import sys
from typing import Any, BinaryIO

SOURCE = "stand-in-ls"


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """One JSON-RPC message (Content-Length framing), or None at end of input."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        return None
    message: dict[str, Any] = json.loads(stream.read(length))
    return message


def send(message: dict[str, Any]) -> None:
    """Write one JSON-RPC message to stdout."""
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n%b" % (len(body), body))
    sys.stdout.buffer.flush()


def publish(uri: str) -> None:
    """This server's own hint on the document's first line."""
    diagnostic = {
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
        "severity": 3,
        "source": SOURCE,
        "message": "stand-in server is here",
    }
    send(
        {
            "method": "textDocument/publishDiagnostics",
            "params": {"uri": uri, "diagnostics": [diagnostic]},
        }
    )


def main() -> None:
    """Serve until ``exit`` or end of input."""
    while (message := read_message(sys.stdin.buffer)) is not None:
        method = message.get("method")
        if method == "initialize":
            capabilities = {"textDocumentSync": 1}
            send(
                {
                    "id": message["id"],
                    "result": {"capabilities": capabilities, "serverInfo": {"name": SOURCE}},
                }
            )
        elif method in ("textDocument/didOpen", "textDocument/didChange"):
            publish(message["params"]["textDocument"]["uri"])
        elif method == "shutdown":
            send({"id": message["id"], "result": None})
        elif method == "exit":
            return
        elif "id" in message and method is not None:
            send({"id": message["id"], "result": None})


if __name__ == "__main__":
    main()
