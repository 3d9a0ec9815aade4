"""``phxguard/documentState``: the server reports its own copy of a document."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from tests.server.lsp_client import RecordingClient, change_document, open_document, raw_request

METHOD = "phxguard/documentState"


async def document_state(client: RecordingClient, params: dict[str, Any]) -> dict[str, Any] | None:
    """The answer as a dict (the client turns JSON objects into named tuples)."""
    answer = await asyncio.wait_for(raw_request(client, METHOD, params), 10)
    return None if answer is None else dict(answer._asdict())


async def test_document_state_follows_the_client(client: RecordingClient) -> None:
    text = 'defmodule A do\n  def a, do: "é\u2028"\nend\n'
    uri = open_document(client, client.root / "lib" / "a.ex", text)
    change_document(client, uri, 0, 0, "# top\r\n")
    state = await document_state(client, {"uri": uri, "includeText": True})
    assert state is not None
    expected = client.texts[uri]
    assert state["text"] == expected
    assert state["version"] == client.versions[uri] == 2
    assert state["sha256"] == hashlib.sha256(expected.encode()).hexdigest()
    assert state["bytes"] == len(expected.encode())
    assert state["syntaxErrors"] is False
    brief = await document_state(client, {"uri": uri})
    assert brief is not None
    assert "text" not in brief


async def test_document_state_of_an_unknown_document_is_null(client: RecordingClient) -> None:
    unknown = (client.root / "nowhere.ex").as_uri()
    assert await document_state(client, {"uri": unknown}) is None
    assert await document_state(client, {"uri": 5}) is None
