"""The event loop stays free: a slow analysis runs in a worker thread, huge files are not parsed.

No timings are asserted (the machines are shared and noisy): each test checks
the ORDER of events. The slow document below takes about a second to analyse;
what is sent after it must be answered or applied before its diagnostics
arrive, which is impossible if the analysis runs on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import textwrap
from typing import Any

import pytest
from lsprotocol import types

from tests.server.lsp_client import (
    TIMEOUT,
    RecordingClient,
    change_document,
    current_diagnostics,
    open_document,
    pulls,
    raw_request,
)

MIGRATION = textwrap.dedent("""\
    defmodule MyApp.Repo.Migrations.Tweak do
      use Ecto.Migration

      def change do
        alter table(:posts) do
          add :meta, :json
        end
      end
    end
    """)


def deeply_nested(depth: int) -> str:
    """A module whose N+1 query sits under ``depth`` nested ``if`` blocks: slow to analyse."""
    # String.to_atom's rule climbs the parents (quadratic in depth); the Ecto rules no longer do.
    body = "String.to_atom(x)\nRepo.get(User, x)"
    for level in range(depth):
        body = f"if a{level} do\n{body}\nend"
    return (
        f"defmodule M do\n  def f(xs) do\n    Enum.map(xs, fn x ->\n{body}\n    end)\n  end\nend\n"
    )


def generated(size: int) -> str:
    """About ``size`` characters of plain generated Elixir."""
    line = "  def f{n}(x), do: x + {n}\n"
    lines = ["defmodule Big do\n"]
    total = len(lines[0])
    n = 0
    while total < size:
        lines.append(line.format(n=n))
        total += len(lines[-1])
        n += 1
    lines.append("end\n")
    return "".join(lines)


async def document_state(client: RecordingClient, uri: str, text: bool = False) -> dict[str, Any]:
    """The server's view of an open document (``phxguard/documentState``)."""
    params = {"uri": uri, "includeText": text}
    answer = await asyncio.wait_for(raw_request(client, "phxguard/documentState", params), TIMEOUT)
    assert answer is not None, uri
    return dict(answer._asdict())


def _type_ascii(client: RecordingClient, uri: str, start: int, end: int, new_text: str) -> None:
    """``change_document`` for a huge ASCII text with ``\\n`` lines only.

    The client model's general position code walks the whole text in Python
    (seconds for 10 MB); in ASCII every encoding counts characters.
    """
    text = client.texts[uri]

    def position(offset: int) -> types.Position:
        line = text.count("\n", 0, offset)
        return types.Position(line=line, character=offset - (text.rfind("\n", 0, offset) + 1))

    assert text.isascii() and "\r" not in text
    client.texts[uri] = text[:start] + new_text + text[end:]
    client.versions[uri] += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=client.versions[uri]
            ),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=position(start), end=position(end)), text=new_text
                )
            ],
        )
    )


def _published(client: RecordingClient, uri: str) -> list[types.PublishDiagnosticsParams]:
    return [p for p in client.published if p.uri == uri]


def _pull(client: RecordingClient, uri: str) -> asyncio.Task[Any]:
    return asyncio.ensure_future(
        client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    )


@pytest.mark.phxguard_toml("time_budget_ms = 600000\n")
async def test_requests_and_changes_go_ahead_of_a_slow_analysis(client: RecordingClient) -> None:
    fast = open_document(client, client.root / "priv/repo/migrations/1_tweak.exs", MIGRATION)
    fast_diagnostics = await current_diagnostics(client, fast, lambda d: len(d) == 1)
    # Let the start-up re-analysis (settings and facts in) settle first.
    await asyncio.sleep(0.5)

    slow = open_document(client, client.root / "lib/m.ex", deeply_nested(2000))
    pending = _pull(client, slow) if pulls(client) else None
    # While the slow document is analysed: edit it, read it back, hover and ask for actions
    # in the other document (whose analysis is current).
    change_document(client, slow, 0, 0, "# edited while analysed\n")
    state = await document_state(client, slow, text=True)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=fast),
            position=fast_diagnostics[0].range.start,
        )
    )
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=fast),
            range=fast_diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=fast_diagnostics),
        )
    )
    # All answered, and the change applied, before any diagnostics of the slow document.
    if pending is not None:
        assert not pending.done()
    assert _published(client, slow) == []
    assert state["version"] == 2
    assert state["text"] == client.texts[slow]
    assert hover is not None and "MG012" in str(hover.contents)
    assert actions

    diagnostics = await current_diagnostics(
        client, slow, lambda d: [str(x.code) for x in d] == ["EC001"]
    )
    assert diagnostics[0].range.start.line > 1
    if pending is not None:
        # A pull sent before the change answers for the text as it is now.
        report = await asyncio.wait_for(pending, TIMEOUT * 4)
        assert [str(d.code) for d in report.items] == ["EC001"]
    else:
        # The result of version 1 came back stale and was dropped, not shown.
        assert [p.version for p in _published(client, slow)] == [2]


@pytest.mark.phxguard_toml("time_budget_ms = 600000\n")
async def test_a_document_of_another_file_waits_for_the_worker_not_the_loop(
    client: RecordingClient,
) -> None:
    """Pull and push alike: a request that needs a fresh analysis waits without blocking others."""
    fast = open_document(client, client.root / "priv/repo/migrations/1_tweak.exs", MIGRATION)
    (before,) = await current_diagnostics(client, fast, lambda d: len(d) == 1)
    await asyncio.sleep(0.5)
    slow = open_document(client, client.root / "lib/m.ex", deeply_nested(2000))
    # The fast document changes: its analysis queues behind the slow one in the worker...
    change_document(client, fast, 0, 0, "# top\n")
    hover_task = asyncio.ensure_future(
        client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=fast),
                position=types.Position(
                    line=before.range.start.line + 1, character=before.range.start.character
                ),
            )
        )
    )
    # ...while the loop goes on answering what needs no analysis.
    state = await document_state(client, fast, text=True)
    assert state["text"] == client.texts[fast]
    assert not hover_task.done()
    assert _published(client, slow) == []
    hover = await asyncio.wait_for(hover_task, TIMEOUT * 4)
    assert hover is not None and "MG012" in str(hover.contents)
    # The hover answered about version 2: its range is on the moved line.
    assert hover.range is not None and hover.range.start.line == before.range.start.line + 1


@pytest.mark.phxguard_toml("time_budget_ms = 1\n")
async def test_an_analysis_over_the_time_budget_is_one_info_diagnostic(
    client: RecordingClient,
) -> None:
    uri = open_document(client, client.root / "lib/m.ex", deeply_nested(300))
    (diagnostic,) = await current_diagnostics(client, uri, lambda d: len(d) == 1)
    assert diagnostic.code == "PX000"
    assert diagnostic.severity == types.DiagnosticSeverity.Information
    assert diagnostic.message.startswith("analysis skipped: analysis took longer than the 1 ms")
    assert diagnostic.range.start == types.Position(line=0, character=0)


async def test_a_10_mb_document_is_skipped_and_stays_editable(client: RecordingClient) -> None:
    text = generated(10_000_000)
    uri = open_document(client, client.root / "lib/big.ex", text)
    (diagnostic,) = await current_diagnostics(client, uri, lambda d: len(d) == 1)
    assert diagnostic.code == "PX000"
    assert diagnostic.severity == types.DiagnosticSeverity.Information
    assert "over the 2.0 MB limit" in diagnostic.message

    # Typing into it: every keystroke is applied, the server answers in between.
    middle = text.index("  def f200000(")
    for n, char in enumerate("# hi\n"):
        _type_ascii(client, uri, middle + n, middle + n, char)
        state = await document_state(client, uri)
        assert state["version"] == client.versions[uri]
    end = len(client.texts[uri])
    _type_ascii(client, uri, end - 4, end, "end\n# tail\n")
    state = await document_state(client, uri, text=True)
    assert state["text"] == client.texts[uri]
    expected = client.texts[uri].encode()
    assert state["sha256"] == hashlib.sha256(expected).hexdigest()
    assert state["syntaxErrors"] is False  # not parsed at all
    (final,) = await current_diagnostics(client, uri, lambda d: len(d) == 1)
    assert final.code == "PX000"

    # A small document still gets its diagnostics while the big one is open.
    small = open_document(client, client.root / "priv/repo/migrations/1_tweak.exs", MIGRATION)
    (hint,) = await current_diagnostics(client, small, lambda d: len(d) == 1)
    assert hint.code == "MG012"


@pytest.mark.phxguard_toml("time_budget_ms = 600000\n")
async def test_a_slow_closed_file_is_analysed_off_the_loop(client: RecordingClient) -> None:
    small = open_document(client, client.root / "priv/repo/migrations/1_tweak.exs", MIGRATION)
    await current_diagnostics(client, small, lambda d: len(d) == 1)
    await asyncio.sleep(0.5)  # start-up indexing of the (otherwise empty) workspace is over
    slow_path = client.root / "lib" / "deep.ex"
    slow_path.parent.mkdir(parents=True, exist_ok=True)
    slow_path.write_text(deeply_nested(2000))
    slow = slow_path.as_uri()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=slow, type=types.FileChangeType.Created)]
        )
    )
    change_document(client, small, 0, 0, "# edited\n")
    state = await document_state(client, small, text=True)
    assert state["text"] == client.texts[small]
    if pulls(client):
        report = await client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(previous_result_ids=[])
        )
        # Answered while the file is still being analysed: not in the report yet.
        assert slow not in {item.uri for item in report.items}
        for _ in range(300):
            report = await client.workspace_diagnostic_async(
                types.WorkspaceDiagnosticParams(previous_result_ids=[])
            )
            found = [i for i in report.items if i.uri == slow]
            if found and isinstance(found[0], types.WorkspaceFullDocumentDiagnosticReport):
                assert [str(d.code) for d in found[0].items] == ["EC001"]
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the closed file's diagnostics never came")
    assert _published(client, slow) == []
    await asyncio.wait_for(_until_published(client, slow), TIMEOUT * 4)
    (published,) = _published(client, slow)
    assert [str(d.code) for d in published.diagnostics] == ["EC001"]


async def _until_published(client: RecordingClient, uri: str) -> None:
    while not _published(client, uri):
        await asyncio.sleep(0.05)
