"""End to end: the server process driven with Neovim's, VS Code's and Emacs' real capabilities.

The migration below has non-ASCII text before a flagged token on the same
line, so its columns differ in UTF-8, UTF-16 and UTF-32.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound

from analyzers.explain import DOCS_FILE
from tests.server.lsp_client import (
    RecordingClient,
    apply_workspace_edit,
    change_document,
    current_diagnostics,
    edits_of,
    open_document,
    position_of,
    pulls,
    range_of,
    raw_request,
    units,
    wait_until,
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


def _key(position: types.Position) -> tuple[int, int]:
    return position.line, position.character


async def _actions(
    client: RecordingClient, uri: str, start: int, end: int, only: list[str] | None = None
) -> list[types.CodeAction]:
    """Code actions for a code-point span, resolved the way this client would."""
    text = client.texts[uri]
    wanted = range_of(text, start, end, client.encoding)
    # Like editors, send the diagnostics that touch the requested range.
    diagnostics = [
        d
        for d in await current_diagnostics(client, uri)
        if _key(d.range.start) <= _key(wanted.end) and _key(wanted.start) <= _key(d.range.end)
    ]
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=wanted,
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    )
    actions = [a for a in result or [] if isinstance(a, types.CodeAction)]
    assert len(actions) == len(result or []), "commands instead of code actions"
    resolved = []
    for action in actions:
        if _code_action_options(client).resolve_provider:
            assert action.edit is None, "a resolving client gets edits lazily"
            action = await client.code_action_resolve_async(action)
        assert action.edit is not None, action.title
        resolved.append(action)
    return resolved


def _code_action_options(client: RecordingClient) -> types.CodeActionOptions:
    assert client.server_capabilities is not None
    options = client.server_capabilities.code_action_provider
    assert isinstance(options, types.CodeActionOptions)
    return options


async def test_capabilities_follow_the_client(client: RecordingClient) -> None:
    caps = client.server_capabilities
    assert caps is not None and isinstance(caps.text_document_sync, types.TextDocumentSyncOptions)
    assert caps.position_encoding == client.encoding
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert (caps.diagnostic_provider is not None) == pulls(client)
    assert client.capabilities is not None and client.capabilities.text_document is not None
    code_action = client.capabilities.text_document.code_action
    can_resolve = code_action is not None and code_action.resolve_support is not None
    options = _code_action_options(client)
    assert options.resolve_provider is can_resolve
    assert set(options.code_action_kinds or []) == {
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


async def test_hover_explains_the_finding(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    start, end = _span(MIGRATION, ":json")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(MIGRATION, start + 2, client.encoding),
        )
    )
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("**MG012 json-column**")
    assert "```elixir" in hover.contents.value
    assert "disable-next-line MG012" in hover.contents.value
    assert hover.range == range_of(MIGRATION, start, end, client.encoding)

    nothing = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=0),
        )
    )
    assert nothing is None


def _plaintext_hover(capabilities: types.ClientCapabilities) -> None:
    assert capabilities.text_document is not None
    capabilities.text_document.hover = types.HoverClientCapabilities(
        content_format=[types.MarkupKind.PlainText]
    )


@pytest.mark.capabilities.with_args(_plaintext_hover)
async def test_hover_in_plain_text_for_clients_without_markdown(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    start, _ = _span(MIGRATION, ":json")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(MIGRATION, start, client.encoding),
        )
    )
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.PlainText
    assert "MG012 json-column" in hover.contents.value
    assert "**" not in hover.contents.value and "```" not in hover.contents.value


async def test_quick_fix_produces_the_exact_text(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    actions = await _actions(client, uri, *_span(MIGRATION, ":json"))
    assert [a.title for a in actions] == [
        "Use :map (jsonb)",
        "Disable MG012 for this line",
        "Disable MG012 for this file",
        "Fix all phxguard problems",
    ]
    fix = actions[0]
    assert fix.kind == types.CodeActionKind.QuickFix
    assert fix.is_preferred is True
    assert [d.code for d in fix.diagnostics or []] == ["MG012"]
    assert fix.edit is not None
    assert client.capabilities is not None and client.capabilities.workspace is not None
    workspace_edit = client.capabilities.workspace.workspace_edit
    expects_versioned = workspace_edit is not None and bool(workspace_edit.document_changes)
    assert (fix.edit.document_changes is not None) == expects_versioned
    if expects_versioned:
        (doc_edit,) = fix.edit.document_changes or []
        assert isinstance(doc_edit, types.TextDocumentEdit)
        assert doc_edit.text_document.version == client.versions[uri]

    text = apply_workspace_edit(client, uri, fix.edit)
    assert text == MIGRATION.replace(':"café_😀", :json', ':"café_😀", :map')
    after = await current_diagnostics(client, uri, lambda d: "MG012" not in _by_code(d))
    assert sorted(_by_code(after)) == ["MG001", "MG008", "MG013"]


async def test_index_fix_adds_option_and_module_attributes(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    actions = await _actions(client, uri, *_span(MIGRATION, "index(:users"))
    fix = actions[0]
    assert fix.title == "Create index concurrently"
    assert fix.edit is not None
    text = apply_workspace_edit(client, uri, fix.edit)
    assert text == textwrap.dedent("""\
        defmodule MyApp.Repo.Migrations.Tweak do
          use Ecto.Migration
          @disable_ddl_transaction true
          @disable_migration_lock true

          def change do
            create index(:users, [:email], concurrently: true)

            alter table(:posts) do
              remove :legacy_body
              add :"café_😀", :json
            end
          end
        end
        """)
    after = await current_diagnostics(client, uri, lambda d: "MG001" not in _by_code(d))
    assert sorted(_by_code(after)) == ["MG008", "MG012", "MG013"]


async def test_disable_comments(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    actions = await _actions(client, uri, *_span(MIGRATION, "remove :legacy_body"))
    titles = [a.title for a in actions]
    # MG008 and MG013 both sit on the removal; neither has a fix.
    assert titles == [
        "Disable MG008 for this line",
        "Disable MG013 for this line",
        "Disable MG008 for this file",
        "Disable MG013 for this file",
        "Fix all phxguard problems",
    ]
    line_action = actions[0]
    assert line_action.edit is not None
    text = apply_workspace_edit(client, uri, line_action.edit)
    assert text == MIGRATION.replace(
        "      remove :legacy_body\n",
        "      # phxguard:disable-next-line MG008\n      remove :legacy_body\n",
    )
    after = await current_diagnostics(client, uri, lambda d: "MG008" not in _by_code(d))
    assert sorted(_by_code(after)) == ["MG001", "MG012", "MG013"]

    actions = await _actions(client, uri, *_span(text, "remove :legacy_body"))
    file_action = next(a for a in actions if a.title == "Disable MG013 for this file")
    assert file_action.edit is not None
    text = apply_workspace_edit(client, uri, file_action.edit)
    assert text.startswith("# phxguard:disable-file MG013\ndefmodule MyApp.Repo.Migrations.Tweak")
    after = await current_diagnostics(client, uri, lambda d: "MG013" not in _by_code(d))
    assert sorted(_by_code(after)) == ["MG001", "MG012"]


async def test_fix_all(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    actions = await _actions(client, uri, 0, 0, only=["source.fixAll"])
    assert [(a.title, a.kind) for a in actions] == [
        ("Fix all phxguard problems", "source.fixAll.phxguard")
    ]
    assert actions[0].edit is not None
    text = apply_workspace_edit(client, uri, actions[0].edit)
    assert text == textwrap.dedent("""\
        defmodule MyApp.Repo.Migrations.Tweak do
          use Ecto.Migration
          @disable_ddl_transaction true
          @disable_migration_lock true

          def change do
            create index(:users, [:email], concurrently: true)

            alter table(:posts) do
              remove :legacy_body
              add :"café_😀", :map
            end
          end
        end
        """)
    after = await current_diagnostics(client, uri, lambda d: len(d) == 2)
    assert sorted(_by_code(after)) == ["MG008", "MG013"]
    # Nothing left to fix: no fix-all action is offered.
    assert await _actions(client, uri, 0, 0, only=["source.fixAll"]) == []


async def test_edits_move_and_clear_diagnostics(client: RecordingClient) -> None:
    uri = _open(client)
    before = _by_code(await current_diagnostics(client, uri, lambda d: len(d) >= 4))
    change_document(client, uri, 0, 0, "# résumé 😀\n")
    moved = _by_code(
        await current_diagnostics(
            client, uri, lambda d: _by_code(d).get("MG012", [None])[0] != before["MG012"][0]
        )
    )
    for code, diagnostics in before.items():
        (old,) = diagnostics
        (new,) = moved[code]
        assert new.range.start.line == old.range.start.line + 1
        assert new.range.start.character == old.range.start.character
        assert new.range.end == types.Position(
            line=old.range.end.line + 1, character=old.range.end.character
        )

    text = client.texts[uri]
    line_start = text.index('      add :"café')
    line_end = text.index("\n", line_start)
    change_document(client, uri, line_start, line_end, "      # no json column after all")
    after = await current_diagnostics(client, uri, lambda d: "MG012" not in _by_code(d))
    assert sorted(_by_code(after)) == ["MG001", "MG008", "MG013"]


@pytest.mark.init_options({"phxguard": {"debounceMs": 300}})
async def test_a_request_during_the_debounce_does_not_swallow_the_publish(
    client: RecordingClient,
) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    if pulls(client):
        pytest.skip("pull clients ask for diagnostics themselves")
    text = client.texts[uri]
    start, end = _span(text, ":json")
    change_document(client, uri, start, end, ":map")
    # As eglot does after applying a quick fix: a hover right after the change.
    await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(client.texts[uri], start, client.encoding),
        )
    )
    final = client.versions[uri]
    await wait_until(lambda: any(p.version == final for p in client.published), "publish")
    published = next(p for p in client.published if p.version == final)
    assert "MG012" not in {str(d.code) for d in published.diagnostics}


@pytest.mark.init_options({"phxguard": {"debounceMs": 300}})
async def test_a_burst_of_changes_costs_one_analysis(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    if pulls(client):
        pytest.skip("pull clients ask for diagnostics themselves")
    published_before = len(client.published)
    for n in range(8):
        change_document(client, uri, 0, 0, f"# {n}\n")
    final = client.versions[uri]
    await wait_until(lambda: any(p.version == final for p in client.published), "final publish")
    await asyncio.sleep(0.5)
    # (Version 1 may be republished once settings and project facts are in.)
    burst = [p for p in client.published[published_before:] if p.version != 1]
    assert [p.version for p in burst] == [final]
    assert len(burst[0].diagnostics) == 4


@pytest.mark.phxguard_toml('select = ["MG"]\nfrobnicate = true\n')
async def test_bad_config_warns_and_keeps_working(client: RecordingClient) -> None:
    await wait_until(lambda: bool(client.messages), "showMessage")
    (message,) = client.messages
    assert message.type == types.MessageType.Warning
    assert ".phxguard.toml:2" in message.message
    assert "frobnicate" in message.message
    uri = _open(client)
    diagnostics = await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    assert sorted(_by_code(diagnostics)) == ["MG001", "MG008", "MG012", "MG013"]


@pytest.mark.init_options({"phxguard": {"pgVersion": "fourteen"}})
async def test_bad_editor_settings_warn_and_keep_working(client: RecordingClient) -> None:
    await wait_until(lambda: bool(client.messages), "showMessage")
    assert "pgVersion" in client.messages[0].message
    uri = _open(client)
    diagnostics = await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    assert len(diagnostics) == 4


@pytest.mark.phxguard_toml('ignore = ["MG013"]\n[severity]\nMG008 = "info"\n')
async def test_settings_layers_and_reloads(client: RecordingClient) -> None:
    uri = _open(client)
    diagnostics = _by_code(await current_diagnostics(client, uri, lambda d: len(d) == 3))
    assert sorted(diagnostics) == ["MG001", "MG008", "MG012"]
    assert diagnostics["MG008"][0].severity == types.DiagnosticSeverity.Information

    # The editor's settings override the file's, key by key.
    # Clients with workspace/configuration are asked; the others push their settings.
    client.set_configuration({"ignore": ["MG012"]}, section="phxguard")
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"phxguard": {"ignore": ["MG001"]}})
    )
    assert client.capabilities is not None and client.capabilities.workspace is not None
    ignored = "MG012" if client.capabilities.workspace.configuration else "MG001"
    later = await current_diagnostics(client, uri, lambda d: ignored not in _by_code(d))
    assert sorted(_by_code(later)) == sorted({"MG001", "MG008", "MG012", "MG013"} - {ignored})

    # Rewriting the config file is picked up through didChangeWatchedFiles.
    toml = client.root / ".phxguard.toml"
    toml.write_text('select = ["MG001", "MG012"]\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=toml.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    final = await current_diagnostics(client, uri, lambda d: len(d) == 1)
    assert [d.code for d in final] == sorted({"MG001", "MG012"} - {ignored})


async def test_project_facts_reload_from_config(client: RecordingClient) -> None:
    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    config = client.root / "config" / "config.exs"
    config.parent.mkdir()
    config.write_text(
        "import Config\n\nconfig :my_app, MyApp.Repo, migration_lock: :pg_advisory_lock\n"
    )
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)]
        )
    )

    async def fix_text() -> str:
        actions = await _actions(client, uri, *_span(MIGRATION, "index(:users"))
        assert actions[0].edit is not None
        return "".join(e.new_text for e in edits_of(actions[0].edit, uri))

    # With the advisory lock the migration lock stays on: only the DDL transaction goes.
    deadline = asyncio.get_running_loop().time() + 10
    while "@disable_migration_lock" in await fix_text():
        assert asyncio.get_running_loop().time() < deadline, "facts never reloaded"
        await asyncio.sleep(0.1)
    assert "@disable_ddl_transaction true" in await fix_text()


async def test_registers_file_watchers_when_the_client_can(client: RecordingClient) -> None:
    caps = client.capabilities
    assert caps is not None and caps.workspace is not None
    watched = caps.workspace.did_change_watched_files
    if watched is None or not watched.dynamic_registration:
        await asyncio.sleep(0.3)
        assert not any(r.method == "workspace/didChangeWatchedFiles" for r in client.registrations)
        return
    await wait_until(lambda: bool(client.registrations), "registration")
    (registration,) = [
        r for r in client.registrations if r.method == "workspace/didChangeWatchedFiles"
    ]
    options = registration.register_options
    assert isinstance(options, dict)
    globs = {w["globPattern"] for w in options["watchers"]}
    assert {"**/.phxguard.toml", "**/config/*.exs"} <= globs


async def test_bad_input_never_takes_the_server_down(client: RecordingClient) -> None:
    # A change to a document that was never opened.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=(client.root / "nowhere.exs").as_uri(), version=2
            ),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=0, character=0),
                        end=types.Position(line=0, character=0),
                    ),
                    text="x",
                )
            ],
        )
    )
    # Requests with params that do not validate, and methods nobody implements.
    for method, params, error in [
        ("textDocument/hover", {"textDocument": 5}, JsonRpcInvalidParams),
        (
            "textDocument/codeAction",
            {"textDocument": {"uri": "file:///x.exs"}},
            JsonRpcInvalidParams,
        ),
        ("phxguard/noSuchMethod", {}, JsonRpcMethodNotFound),
    ]:
        with pytest.raises(error):
            await asyncio.wait_for(raw_request(client, method, params), 10)
    client.protocol.notify("phxguard/noSuchNotification", {"x": 1})

    uri = _open(client)
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    # A range past the end of the document clamps to the end (logged, not fatal).
    lines = len(MIGRATION.splitlines())
    client.versions[uri] += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=client.versions[uri]
            ),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=lines + 5, character=0),
                        end=types.Position(line=lines + 9, character=3),
                    ),
                    text="# appended\n",
                )
            ],
        )
    )
    client.texts[uri] = MIGRATION + "# appended\n"
    await current_diagnostics(client, uri, lambda d: len(d) >= 4)
    actions = await _actions(client, uri, *_span(MIGRATION, ":json"))
    assert actions[0].edit is not None
    assert apply_workspace_edit(client, uri, actions[0].edit) == (
        MIGRATION.replace(":json", ":map") + "# appended\n"
    )
    assert not [m for m in client.messages if m.type == types.MessageType.Error]
    assert any("not open" in m.message for m in client.log_messages)
    assert any("clamped" in m.message for m in client.log_messages)


async def test_code_actions_match_diagnostics_sent_back_in_other_units(
    client: RecordingClient,
) -> None:
    # Neovim 0.7 returns diagnostics in the code-action context with byte columns.
    uri = _open(client)
    diagnostics = _by_code(await current_diagnostics(client, uri, lambda d: len(d) >= 4))
    (mg012,) = diagnostics["MG012"]
    byte_range = range_of(MIGRATION, *_span(MIGRATION, ":json"), "utf-8")
    quirky = types.Diagnostic(
        range=byte_range, message=mg012.message, code=mg012.code, source=mg012.source
    )
    cursor = types.Range(start=mg012.range.start, end=mg012.range.start)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=cursor,
            context=types.CodeActionContext(diagnostics=[quirky]),
        )
    )
    assert result is not None
    first = result[0]
    assert isinstance(first, types.CodeAction)
    assert first.title == "Use :map (jsonb)"
    assert [d.range for d in first.diagnostics or []] == [mg012.range]
