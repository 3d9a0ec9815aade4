"""Bad input through a real client session: odd files, odd edits, malformed messages.

After each, the server must still serve, say what happened in the log (never
an error pop-up), and its copy of every document must equal the client's
(``phxguard/documentState``). Files arrive as an editor sends them: invalid
UTF-8 already replaced by U+FFFD (JSON text cannot carry raw bytes). The
slow cases (10 MB, the time budget) run for one client only.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from tests.bad_input_corpus import BY_NAME, FAST, BadFile
from tests.server.lsp_client import (
    RecordingClient,
    change_document,
    current_diagnostics,
    index_of,
    open_document,
    raw_request,
    split_lines,
    units,
    wait_until,
)

SLOW_CLIENT = "neovim"  # the slow cases run once, with a pull client


def raw_notify(client: RecordingClient, method: str, params: Any) -> None:
    """Send a notification exactly as given (no typed serialisation)."""
    client.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})


async def state(client: RecordingClient, uri: str, text: bool = True) -> dict[str, Any] | None:
    """The server's ``phxguard/documentState`` of ``uri``, as a dict."""
    params = {"uri": uri, "includeText": text}
    answer = await asyncio.wait_for(raw_request(client, "phxguard/documentState", params), 30)
    return None if answer is None else dict(answer._asdict())


async def assert_mirror(client: RecordingClient, uri: str) -> None:
    """The server's text and version of ``uri`` are the client's."""
    found = await state(client, uri)
    assert found is not None, uri
    assert found["text"] == client.texts[uri]
    assert found["version"] == client.versions[uri]


def _codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


SNIPPETS = {
    "OT002": "String.to_atom(params",
    "OT003": ":infinity",
    "OT004": ":erlang.binary_to_term(",
}


def _safe_index(text: str, at: int) -> int:
    """``at``, moved off the LF of a CRLF pair (LSP has no position between the two)."""
    return at + 1 if 0 < at < len(text) and text[at - 1 : at + 1] == "\r\n" else at


async def _exercise(client: RecordingClient, case: BadFile) -> None:
    uri = open_document(client, client.root / case.path.replace("worker", case.name), case.text)
    await assert_mirror(client, uri)
    diagnostics = await current_diagnostics(
        client, uri, lambda d: set(case.codes) <= set(_codes(d))
    )
    if case.skipped is not None:
        assert _codes(diagnostics) == ["PX000"]
    else:
        assert "PX000" not in _codes(diagnostics)
    # Ranges in the client's units name the flagged code in the client's own text model.
    for diagnostic in diagnostics:
        if (snippet := SNIPPETS.get(str(diagnostic.code))) is not None:
            start = index_of(case.text, diagnostic.range.start, client.encoding)
            end = index_of(case.text, diagnostic.range.end, client.encoding)
            assert case.text[start:end].startswith(snippet), (case.name, diagnostic)
    text = case.text
    middle = _safe_index(text, len(text) // 2)
    change_document(client, uri, middle, middle, "# typed\n")
    change_document(client, uri, len(client.texts[uri]), len(client.texts[uri]), "\nx = 1")
    end = _safe_index(client.texts[uri], min(middle + 12, len(client.texts[uri])))
    change_document(client, uri, middle, end, "")
    await assert_mirror(client, uri)
    await current_diagnostics(client, uri)  # analysis of the last version arrives


async def test_every_odd_file_is_mirrored_and_analysed(client: RecordingClient) -> None:
    for case in FAST:
        await _exercise(client, case)
    assert not [m for m in client.messages if m.type == types.MessageType.Error]


def _send_change(
    client: RecordingClient,
    uri: str,
    start: tuple[int, int],
    end: tuple[int, int],
    text: str,
    version: int | None = None,
) -> None:
    """A raw incremental change: positions as given, whatever the client's text says."""
    client.versions[uri] = client.versions[uri] + 1 if version is None else version
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=client.versions[uri]
            ),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start[0], character=start[1]),
                        end=types.Position(line=end[0], character=end[1]),
                    ),
                    text=text,
                )
            ],
        )
    )


async def test_line_breaks_made_and_unmade_by_edits(client: RecordingClient) -> None:
    uri = open_document(client, client.root / "lib" / "breaks.ex", "a = 1\rb = 2\nc = 3\r\nd = 4")
    # LF typed after a lone CR: the two lines become one CRLF-ended line.
    change_document(client, uri, 6, 6, "\n")
    assert split_lines(client.texts[uri])[0] == "a = 1\r\n"
    # CR typed before an LF: same, from the other side.
    at = client.texts[uri].index("\nc = 3")
    change_document(client, uri, at, at, "\r")
    assert client.texts[uri] == "a = 1\r\nb = 2\r\nc = 3\r\nd = 4"
    # Positions after the merged lines are counted on the new lines.
    at = client.texts[uri].index("d = 4")
    change_document(client, uri, at, at + 1, "dd")
    # A CRLF deleted whole, and one turned into two lone CRs.
    at = client.texts[uri].index("\r\nb")
    change_document(client, uri, at, at + 2, "")
    at = client.texts[uri].index("\r\nc")
    change_document(client, uri, at, at + 3, "\r\rc")
    await assert_mirror(client, uri)
    # A text inserted ending in CR right before a CRLF.
    at = client.texts[uri].index("\r\ndd")
    change_document(client, uri, at, at, "x\r")
    change_document(client, uri, 0, 0, "\u2028\u0085\u2029")  # not line breaks to LSP
    at = client.texts[uri].index("dd")
    change_document(client, uri, at, at + 2, "e")
    await assert_mirror(client, uri)


async def test_a_position_between_cr_and_lf_is_the_end_of_the_line(client: RecordingClient) -> None:
    uri = open_document(client, client.root / "lib" / "crlf.ex", "ab\r\ncd\r\n")
    # Column 3 of "ab" lies past its end (inside the CRLF, as a client might count it).
    _send_change(client, uri, (0, 3), (0, 3), "X")
    client.texts[uri] = "abX\r\ncd\r\n"
    await assert_mirror(client, uri)
    await wait_until(lambda: any("clamped" in m.message for m in client.log_messages), "log")


def _inside(encoding: str) -> list[tuple[str, int]]:
    """(character, column inside it) pairs a client in ``encoding`` can name."""
    if encoding == "utf-8":
        return [("é", 1), ("😀", 1), ("😀", 2), ("😀", 3)]
    if encoding == "utf-16":
        return [("😀", 1)]
    return []


async def test_an_edit_inside_a_character_goes_before_it(client: RecordingClient) -> None:
    for char, column in _inside(client.encoding) or [("😀", 0)]:
        text = f'x = "{char}"\n'
        uri = open_document(client, client.root / "lib" / f"inside_{column}.ex", text)
        prefix = units('x = "', client.encoding)
        _send_change(client, uri, (0, prefix + column), (0, prefix + column), "Z")
        # The character stays whole (the document stays UTF-8); the insert lands before it.
        client.texts[uri] = f'x = "Z{char}"\n'
        await assert_mirror(client, uri)
        # And the client's next edit, counted on that text, lands where it means.
        change_document(client, uri, len(client.texts[uri]) - 2, len(client.texts[uri]) - 2, "!")
        await assert_mirror(client, uri)


async def test_lone_surrogates_become_one_question_mark(client: RecordingClient) -> None:
    # JSON can carry a lone surrogate (a broken editor buffer); UTF-8 cannot: "?" keeps one unit.
    uri = open_document(client, client.root / "lib" / "surrogate.ex", 'x = "\ud800"\ny = 1\n')
    found = await state(client, uri)
    assert found is not None and found["text"] == 'x = "?"\ny = 1\n'
    client.texts[uri] = found["text"]
    change_document(
        client, uri, client.texts[uri].index("1"), client.texts[uri].index("1") + 1, "2"
    )
    await assert_mirror(client, uri)


async def test_ranges_out_of_bounds_and_backwards(client: RecordingClient) -> None:
    uri = open_document(client, client.root / "lib" / "ranges.ex", "one\ntwo\nthree\n")
    # End before start: the range is read the other way round (logged).
    _send_change(client, uri, (1, 3), (1, 0), "TWO")
    client.texts[uri] = "one\nTWO\nthree\n"
    await assert_mirror(client, uri)
    # A column past the end of a middle line: clamped to that line's end (logged).
    _send_change(client, uri, (0, 40), (0, 99), "!")
    client.texts[uri] = "one!\nTWO\nthree\n"
    # Lines past the end: clamped to the end of the document.
    _send_change(client, uri, (10, 0), (12, 5), "four\n")
    client.texts[uri] += "four\n"
    await assert_mirror(client, uri)
    messages = [m.message for m in client.log_messages]
    await wait_until(
        lambda: any("ends before it starts" in m.message for m in client.log_messages), "log"
    )
    assert sum("clamped" in m for m in [m.message for m in client.log_messages]) >= 2, messages
    await current_diagnostics(client, uri)
    assert not [m for m in client.messages if m.type == types.MessageType.Error]


async def test_negative_positions_are_refused_and_logged(client: RecordingClient) -> None:
    uri = open_document(client, client.root / "lib" / "negative.ex", "one\n")
    # Positions are unsigned: the change does not validate, so it is not applied (logged).
    raw_notify(
        client,
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": -1, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                    "text": "x",
                }
            ],
        },
    )
    await wait_until(
        lambda: any(
            "didChange" in m.message and "invalid" in m.message for m in client.log_messages
        ),
        "log",
    )
    await assert_mirror(client, uri)


async def test_did_change_for_a_document_that_is_not_open(client: RecordingClient) -> None:
    uri = (client.root / "lib" / "never.ex").as_uri()
    client.texts[uri] = ""
    client.versions[uri] = 1
    _send_change(client, uri, (0, 0), (0, 0), "x = 1\n")
    await wait_until(lambda: any("not open" in m.message for m in client.log_messages), "log")
    assert await state(client, uri) is None
    # Opening it afterwards starts from what didOpen says, not from the stray change.
    open_document(client, client.root / "lib" / "never.ex", "y = 2\n")
    await assert_mirror(client, uri)


async def test_versions_that_go_backwards_are_applied_in_order(client: RecordingClient) -> None:
    uri = open_document(client, client.root / "lib" / "versions.ex", "a\n")
    _send_change(client, uri, (0, 1), (0, 1), "b", version=5)
    _send_change(client, uri, (0, 2), (0, 2), "c", version=3)  # lower than the current 5
    _send_change(client, uri, (0, 3), (0, 3), "d", version=3)  # equal to the current 3
    client.texts[uri] = "abcd\n"
    # The client's sequence of changes is authoritative: all applied, in the order sent.
    await assert_mirror(client, uri)
    await wait_until(
        lambda: sum("not above the current" in m.message for m in client.log_messages) >= 2, "log"
    )
    diagnostics = await current_diagnostics(client, uri)
    assert diagnostics == []


# Params that do not validate, for each method the server implements.
BAD_PARAMS: list[Any] = [None, [], 5, {}, {"textDocument": 5}, {"textDocument": {"uri": None}}]
REQUESTS = [
    "codeAction/resolve",
    "textDocument/hover",
    "textDocument/codeAction",
    "textDocument/diagnostic",
    "workspace/diagnostic",
]
NOTIFICATIONS = [
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didSave",
    "textDocument/didClose",
    "workspace/didChangeWatchedFiles",
    "workspace/didChangeConfiguration",
    "$/setTrace",
]


async def test_malformed_params_for_every_method(client: RecordingClient) -> None:
    uri = open_document(client, client.root / "lib" / "ok.ex", BY_NAME["crlf"].text)
    for method in REQUESTS:
        for params in BAD_PARAMS:
            if method == "workspace/diagnostic" and params == {}:
                continue  # {} is valid there (previousResultIds is the only required field)
            if method == "textDocument/diagnostic" and params == BAD_PARAMS[-1]:
                # lsprotocol lets a null URI through: an unknown document, an empty report.
                report = await asyncio.wait_for(raw_request(client, method, params), 30)
                assert (report.kind, report.items) == ("full", [])
                continue
            with pytest.raises(JsonRpcInvalidParams):
                await asyncio.wait_for(raw_request(client, method, params), 30)
    bad_position = {"textDocument": {"uri": uri}, "position": {"line": "x", "character": 0}}
    with pytest.raises(JsonRpcInvalidParams):
        await asyncio.wait_for(raw_request(client, "textDocument/hover", bad_position), 30)
    for method in NOTIFICATIONS:
        for params in BAD_PARAMS:
            raw_notify(client, method, params)
    # A null URI passes lsprotocol's checks: didSave and didClose of it are no-ops, not warnings.
    expected = len(NOTIFICATIONS) * len(BAD_PARAMS) - 2

    def ignored() -> int:
        return sum(
            "notification with invalid params ignored" in m.message for m in client.log_messages
        )

    await wait_until(lambda: ignored() >= expected, f"{expected} warnings")
    # Odd but valid: a resolve for an action the server never made, a documentState of junk.
    action = await client.code_action_resolve_async(types.CodeAction(title="not ours"))
    assert action.title == "not ours" and action.edit is None
    assert await asyncio.wait_for(raw_request(client, "phxguard/documentState", [1]), 30) is None
    # Still serving, and the document that was open is intact.
    await assert_mirror(client, uri)
    change_document(client, uri, 0, 0, "# still here\n")
    await assert_mirror(client, uri)
    assert set(BY_NAME["crlf"].codes) <= set(_codes(await current_diagnostics(client, uri)))
    assert not [m for m in client.messages if m.type == types.MessageType.Error]
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]


async def test_a_ten_megabyte_file_is_skipped_and_typing_into_it_stays_answered(
    client: RecordingClient,
) -> None:
    if client.client_name != SLOW_CLIENT:
        pytest.skip("slow: one client is enough")
    case = BY_NAME["ten-megabytes"]
    uri = open_document(client, client.root / "lib" / "generated.ex", case.text)
    (skipped,) = await current_diagnostics(client, uri, lambda d: bool(d))
    assert skipped.code == "PX000" and skipped.severity == types.DiagnosticSeverity.Information
    assert "over the 2.0 MB limit" in skipped.message
    # ASCII and LF only: positions are the same in every encoding, and the client's text is
    # updated with str operations (the generic client model is too slow for 10 MB).
    lines = case.text.split("\n")
    middle = len(lines) // 2
    for _ in range(10):
        _send_change(client, uri, (middle, 2), (middle, 2), "x")
        lines[middle] = lines[middle][:2] + "x" + lines[middle][2:]
        client.texts[uri] = "\n".join(lines)
        # Each keystroke is followed by a request that must be answered (the loop is free).
        found = await state(client, uri, text=False)
        assert found is not None and found["version"] == client.versions[uri]
    expected = client.texts[uri].encode()
    found = await state(client, uri, text=False)
    assert found is not None
    assert (found["bytes"], found["sha256"]) == (
        len(expected),
        hashlib.sha256(expected).hexdigest(),
    )
    assert _codes(await current_diagnostics(client, uri)) == ["PX000"]


async def test_nesting_past_the_time_budget_degrades_to_one_info(client: RecordingClient) -> None:
    if client.client_name != SLOW_CLIENT:
        pytest.skip("slow: one client is enough")
    case = BY_NAME["nested-ifs"]
    uri = open_document(client, client.root / "lib" / "deep.ex", case.text)
    (skipped,) = await current_diagnostics(client, uri, lambda d: bool(d))
    assert skipped.code == "PX000" and "time_budget_ms" in skipped.message
    change_document(client, uri, 0, 0, "# typed\n")
    await assert_mirror(client, uri)
    assert _codes(await current_diagnostics(client, uri, lambda d: bool(d))) == ["PX000"]


async def test_a_fifo_named_ex_in_the_workspace_does_not_block_the_server(
    client: RecordingClient,
) -> None:
    if client.client_name != SLOW_CLIENT:
        pytest.skip("the same code for every client")
    fifo = client.root / "lib" / "pipe.ex"
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    # Reading a FIFO blocks until someone writes to it: a watched-file event must not read it.
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=fifo.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    uri = open_document(client, client.root / "lib" / "a.ex", BY_NAME["crlf"].text)
    await assert_mirror(client, uri)
    assert set(BY_NAME["crlf"].codes) <= set(_codes(await current_diagnostics(client, uri)))
