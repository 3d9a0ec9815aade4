"""End to end: the server process driven with Neovim's, VS Code's and Emacs' real capabilities.

The migration below has non-ASCII text before a flagged token on the same
line, so its columns differ in UTF-8, UTF-16 and UTF-32.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from lsprotocol import types

from analyzers.explain import DOCS_FILE
from tests.server.lsp_client import (
    RecordingClient,
    current_diagnostics,
    open_document,
    pulls,
    range_of,
    units,
)

MIGRATION = textwrap.dedent("""\
    defmodule MyApp.Repo.Migrations.Tweak do
      use Ecto.Migration

      def change do
        create index(:users, [:email])

        alter table(:posts) do
          remove :legacy_body
          add :"café_😀", :json
        end
      end
    end
    """)

MIGRATION_PATH = Path("priv/repo/migrations/20240101000000_tweak.exs")


def _span(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def _open(client: RecordingClient, text: str = MIGRATION) -> str:
    return open_document(client, client.root / MIGRATION_PATH, text)


def _by_code(diagnostics: list[types.Diagnostic]) -> dict[str, list[types.Diagnostic]]:
    out: dict[str, list[types.Diagnostic]] = {}
    for d in diagnostics:
        out.setdefault(str(d.code), []).append(d)
    return out


async def _actions(
    client: RecordingClient, uri: str, start: int, end: int, only: list[str] | None = None
) -> list[types.CodeAction]:
    """Code actions for a code-point span, resolved the way this client would."""
    text = client.texts[uri]
    diagnostics = await current_diagnostics(client, uri)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=range_of(text, start, end, client.encoding),
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    )
    actions = [a for a in result or [] if isinstance(a, types.CodeAction)]
    assert len(actions) == len(result or []), "commands instead of code actions"
    resolved = []
    for action in actions:
        if client.server_capabilities.code_action_provider.resolve_provider:
            assert action.edit is None, "a resolving client gets edits lazily"
            action = await client.code_action_resolve_async(action)
        assert action.edit is not None, action.title
        resolved.append(action)
    return resolved


async def test_capabilities_follow_the_client(client: RecordingClient) -> None:
    caps = client.server_capabilities
    assert caps.position_encoding == client.encoding
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert (caps.diagnostic_provider is not None) == pulls(client)
    can_resolve = client.capabilities.text_document.code_action.resolve_support is not None
    assert caps.code_action_provider.resolve_provider is can_resolve
    assert set(caps.code_action_provider.code_action_kinds) == {
        "quickfix",
        "source.fixAll.phxguard",
    }


async def test_diagnostics_in_the_client_encoding(client: RecordingClient) -> None:
    uri = _open(client)
    diagnostics = await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    codes = _by_code(diagnostics)
    assert sorted(codes) == ["MG001", "MG008", "MG012", "MG013"]

    json_line = MIGRATION.splitlines()[8]
    prefix = json_line[: json_line.index(":json")]
    (mg012,) = codes["MG012"]
    assert mg012.range == types.Range(
        start=types.Position(line=8, character=units(prefix, client.encoding)),
        end=types.Position(line=8, character=units(prefix + ":json", client.encoding)),
    )
    # The three encodings really differ on that line.
    assert len({units(prefix, e) for e in ("utf-8", "utf-16", "utf-32")}) == 3

    (mg001,) = codes["MG001"]
    assert mg001.range == range_of(
        MIGRATION, *_span(MIGRATION, "create index(:users, [:email])"), client.encoding
    )
    assert mg001.source == "phxguard"
    assert mg001.severity == types.DiagnosticSeverity.Warning
    assert mg001.code_description is not None
    assert mg001.code_description.href.startswith(DOCS_FILE.resolve().as_uri() + "#mg001-")
    assert "concurrently: true" in mg001.message

    if pulls(client):
        await asyncio.sleep(0.5)
        assert client.published == [], "a pull client must not also get pushed diagnostics"
    else:
        assert all(p.uri == uri for p in client.published)
