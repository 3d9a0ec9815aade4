"""A recording pytest-lsp client and the client-side text model the end-to-end tests use.

The text model here (line splitting, position units, applying edits) is
written independently of the server's, so a shared bug cannot hide itself.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0


class RecordingClient(LanguageClient):
    """pytest-lsp's client, also keeping every publish (with versions) and registration."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.registrations: list[types.Registration] = []
        self.encoding = "utf-16"
        self.root = Path()
        self.client_name = ""
        self.server_capabilities: types.ServerCapabilities | None = None
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}


def _on_publish(client: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
    client.published.append(params)
    client.diagnostics[params.uri] = params.diagnostics


def _on_register(client: RecordingClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)


def make_client() -> RecordingClient:
    """A client with pytest-lsp's default handlers plus the recording ones."""
    client = RecordingClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _on_publish
    features[types.CLIENT_REGISTER_CAPABILITY] = _on_register
    register_lsp_features(client, features)
    return client


def server_config() -> ClientServerConfig:
    """Run ``python -m server.lsp`` from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "server.lsp"],
        client_factory=make_client,
        server_env=env,
    )


# -- the client's own text model --------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines as LSP defines them: ended by CRLF, LF or a lone CR (line breaks kept)."""
    lines: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            lines.append(text[start : i + 2])
            i += 2
            start = i
            continue
        if ch in "\r\n":
            lines.append(text[start : i + 1])
            start = i + 1
        i += 1
    lines.append(text[start:])
    return lines


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the code units of ``encoding``."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def _content(line: str) -> str:
    return line.rstrip("\r\n") if line.endswith(("\r\n", "\n", "\r")) else line


def position_of(text: str, index: int, encoding: str) -> types.Position:
    """LSP position of the code point ``index`` of ``text`` (not between a CR and its LF)."""
    consumed = 0
    lines = split_lines(text)
    for line_no, line in enumerate(lines):
        content = _content(line)
        if index <= consumed + len(content):
            return types.Position(line=line_no, character=units(text[consumed:index], encoding))
        if index < consumed + len(line):
            raise AssertionError(f"index {index} splits a CRLF")
        consumed += len(line)
    raise AssertionError(f"index {index} is past the end")


def index_of(text: str, position: types.Position, encoding: str) -> int:
    """Code point index of an LSP position (must exist in ``text``)."""
    lines = split_lines(text)
    assert position.line < len(lines), (position, len(lines))
    offset = sum(len(line) for line in lines[: position.line])
    content = _content(lines[position.line])
    count = 0
    for i, ch in enumerate(content):
        if count == position.character:
            return offset + i
        count += units(ch, encoding)
    assert count == position.character, (position, content)
    return offset + len(content)


def range_of(text: str, start: int, end: int, encoding: str) -> types.Range:
    """LSP range of code points ``[start, end)``."""
    return types.Range(
        start=position_of(text, start, encoding), end=position_of(text, end, encoding)
    )


def apply_text_edits(text: str, edits: Sequence[types.TextEdit], encoding: str) -> str:
    """Apply edits whose ranges refer to ``text`` (inserts at one place keep their order)."""
    spans = [
        (index_of(text, e.range.start, encoding), index_of(text, e.range.end, encoding), n, e)
        for n, e in enumerate(edits)
    ]
    out = text
    for start, end, _, edit in sorted(spans, key=lambda s: (s[0], s[1], s[2]), reverse=True):
        out = out[:start] + edit.new_text + out[end:]
    return out


def edits_of(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    """The text edits a workspace edit makes to ``uri`` (either shape)."""
    if edit.document_changes is not None:
        found: list[types.TextEdit] = []
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit)
            if change.text_document.uri == uri:
                found.extend(e for e in change.edits if isinstance(e, types.TextEdit))
        return found
    return list((edit.changes or {}).get(uri, []))


# -- driving the server ------------------------------------------------------------------


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Poll ``condition`` until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def pulls(client: RecordingClient) -> bool:
    """Whether this client declared pull diagnostics."""
    caps = client.capabilities
    return (
        caps is not None
        and caps.text_document is not None
        and (caps.text_document.diagnostic is not None)
    )


async def current_diagnostics(
    client: RecordingClient,
    uri: str,
    condition: Callable[[list[types.Diagnostic]], bool] = lambda d: True,
) -> list[types.Diagnostic]:
    """The diagnostics of ``uri`` at its latest version, pulled or waited for as the client does."""
    version = client.versions[uri]
    deadline = time.monotonic() + TIMEOUT
    while True:
        if pulls(client):
            report = await client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
            items = list(report.items)
        else:
            latest = [p for p in client.published if p.uri == uri]
            items = list(latest[-1].diagnostics) if latest and latest[-1].version == version else []
            if not latest or latest[-1].version != version:
                items = []
                if time.monotonic() > deadline:
                    raise AssertionError(f"no diagnostics for {uri} v{version}")
                await asyncio.sleep(0.02)
                continue
        if condition(items):
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"diagnostics never satisfied the condition: {items}")
        await asyncio.sleep(0.05)


def open_document(
    client: RecordingClient, path: Path, text: str, language_id: str = "elixir"
) -> str:
    """``didOpen`` at version 1; returns the URI."""
    uri = path.as_uri()
    client.texts[uri] = text
    client.versions[uri] = 1
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=text
            )
        )
    )
    return uri


def change_document(client: RecordingClient, uri: str, start: int, end: int, new_text: str) -> None:
    """An incremental ``didChange`` replacing code points ``[start, end)`` of the client's text."""
    text = client.texts[uri]
    change = types.TextDocumentContentChangePartial(
        range=range_of(text, start, end, client.encoding), text=new_text
    )
    client.texts[uri] = text[:start] + new_text + text[end:]
    client.versions[uri] += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=client.versions[uri]
            ),
            content_changes=[change],
        )
    )


async def raw_request(client: RecordingClient, method: str, params: Any) -> Any:
    """Send a request exactly as given (no typed serialisation), and await the answer."""
    msg_id = str(uuid.uuid4())
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wrap_future(future)


def apply_workspace_edit(client: RecordingClient, uri: str, edit: types.WorkspaceEdit) -> str:
    """Apply ``edit`` to the client's text and send it as incremental changes, as editors do.

    The edits go out last-first in one ``didChange``, so each range is valid
    in the text the previous change left behind.
    """
    text = client.texts[uri]
    spans = [
        (
            index_of(text, e.range.start, client.encoding),
            index_of(text, e.range.end, client.encoding),
            n,
            e,
        )
        for n, e in enumerate(edits_of(edit, uri))
    ]
    changes: list[types.TextDocumentContentChangeEvent] = []
    for start, end, _, text_edit in sorted(spans, key=lambda s: (s[0], s[1], s[2]), reverse=True):
        changes.append(
            types.TextDocumentContentChangePartial(
                range=range_of(text, start, end, client.encoding), text=text_edit.new_text
            )
        )
        text = text[:start] + text_edit.new_text + text[end:]
    client.texts[uri] = text
    client.versions[uri] += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=client.versions[uri]
            ),
            content_changes=changes,
        )
    )
    return text
