"""End to end: hints for files that are not open (workspace diagnostics), per real client.

The workspace exists on disk before ``initialize``. One migration in it has
a finding and is never opened; the client must get its hints (pulled through
``workspace/diagnostic`` or pushed without a version), see indexing progress,
and follow the file as it changes on disk, is deleted, opened and closed.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import client_capabilities

from server.lsp.settings import SettingsError, SettingsState, parse_editor_settings
from tests.server.conftest import CLIENTS
from tests.server.lsp_client import (
    RecordingClient,
    change_document,
    current_diagnostics,
    open_document,
    pulls,
    server_config,
    wait_until,
)

BAD_INDEX = textwrap.dedent("""\
    defmodule MyApp.Repo.Migrations.AddIndex do
      use Ecto.Migration

      def change do
        create index(:users, [:email])
      end
    end
    """)
CREATE_TABLE = textwrap.dedent("""\
    defmodule MyApp.Repo.Migrations.CreatePosts do
      use Ecto.Migration

      def change do
        create table(:posts) do
          add :title, :string
          timestamps()
        end
      end
    end
    """)
GREETER = textwrap.dedent("""\
    defmodule MyApp.Greeter do
      @moduledoc false

      def hello(name), do: "Hello, #{name}"
    end
    """)
MIGRATIONS = Path("priv/repo/migrations")
BAD = MIGRATIONS / "20240101000000_add_index.exs"
CLEAN = MIGRATIONS / "20240102000000_create_posts.exs"


def _write_workspace(root: Path) -> None:
    (root / MIGRATIONS).mkdir(parents=True)
    (root / "lib").mkdir()
    (root / BAD).write_text(BAD_INDEX)
    (root / CLEAN).write_text(CREATE_TABLE)
    (root / "lib" / "greeter.ex").write_text(GREETER)


@pytest_lsp.fixture(config=server_config(), params=list(CLIENTS))  # type: ignore[untyped-decorator]
async def client(
    lsp_client: RecordingClient, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[None]:
    """An initialized client/server pair over a workspace that already has files on disk."""
    name = request.param
    root = tmp_path / "ws"
    root.mkdir()
    _write_workspace(root)
    marker = request.node.get_closest_marker("init_options")
    lsp_client.root = root
    lsp_client.client_name = name
    lsp_client.encoding = CLIENTS[name]
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(name),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options=marker.args[0] if marker is not None else None,
        )
    )
    lsp_client.server_capabilities = result.capabilities
    yield
    await lsp_client.shutdown_session()


def _codes(diagnostics: list[types.Diagnostic]) -> list[Any]:
    return [d.code for d in diagnostics]


def _ended(client: RecordingClient) -> list[types.WorkDoneProgressEnd]:
    return [
        value
        for values in client.progress_reports.values()
        for value in values
        if isinstance(value, types.WorkDoneProgressEnd)
    ]


async def _indexed(client: RecordingClient, count: int = 1) -> None:
    await wait_until(lambda: len(_ended(client)) >= count, "indexing to end")


async def _workspace_pull(
    client: RecordingClient, previous: dict[str, str] | None = None
) -> dict[
    str,
    types.WorkspaceFullDocumentDiagnosticReport | types.WorkspaceUnchangedDocumentDiagnosticReport,
]:
    report = await client.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(
            previous_result_ids=[
                types.PreviousResultId(uri=uri, value=value)
                for uri, value in (previous or {}).items()
            ]
        )
    )
    return {item.uri: item for item in report.items}


async def _closed_file_hints(
    client: RecordingClient,
    uri: str,
    condition: Callable[[list[types.Diagnostic]], bool],
) -> list[types.Diagnostic]:
    """A closed file's hints as the client sees them, once ``condition`` holds."""
    seen: list[types.Diagnostic] = []

    def check_push() -> bool:
        nonlocal seen
        latest = [p for p in client.published if p.uri == uri]
        seen = list(latest[-1].diagnostics) if latest else []
        return bool(latest) and latest[-1].version is None and condition(seen)

    if not pulls(client):
        await wait_until(check_push, f"closed-file diagnostics of {uri}")
        return seen
    for _ in range(150):
        item = (await _workspace_pull(client)).get(uri)
        if isinstance(item, types.WorkspaceFullDocumentDiagnosticReport):
            assert item.version is None
            if condition(list(item.items)):
                return list(item.items)
        await asyncio.sleep(0.1)
    raise AssertionError(f"workspace diagnostics of {uri} never satisfied the condition")


def _watched(client: RecordingClient, path: Path, kind: types.FileChangeType) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=path.as_uri(), type=kind)])
    )


async def test_never_opened_file_reports_its_hints_after_indexing_progress(
    client: RecordingClient,
) -> None:
    await _indexed(client)
    [values] = client.progress_reports.values()
    assert isinstance(values[0], types.WorkDoneProgressBegin)
    assert values[0].cancellable is True
    assert isinstance(values[-1], types.WorkDoneProgressEnd)
    assert values[-1].message == "3 files indexed"
    reports = [v for v in values if isinstance(v, types.WorkDoneProgressReport)]
    assert reports and reports[-1].message == "3/3 files" and reports[-1].percentage == 100

    bad = (client.root / BAD).as_uri()
    hints = await _closed_file_hints(client, bad, lambda d: bool(d))
    assert _codes(hints) == ["MG001"]
    assert hints[0].range.start == types.Position(line=4, character=4)
    assert "users" in hints[0].message

    if pulls(client):
        assert client.server_capabilities is not None
        provider = client.server_capabilities.diagnostic_provider
        assert isinstance(provider, types.DiagnosticOptions) and provider.workspace_diagnostics
        first = await _workspace_pull(client)
        clean = (client.root / CLEAN).as_uri()
        assert isinstance(first[clean], types.WorkspaceFullDocumentDiagnosticReport)
        assert list(first[clean].items) == []
        ids = {uri: item.result_id for uri, item in first.items() if item.result_id}
        again = await _workspace_pull(client, ids)
        assert all(
            isinstance(item, types.WorkspaceUnchangedDocumentDiagnosticReport)
            for item in again.values()
        )
        assert set(again) == set(first)
    else:
        # Pushed once, only for the file with findings.
        assert [p.uri for p in client.published] == [bad]


async def test_watched_file_changes_update_and_deletion_clears(client: RecordingClient) -> None:
    await _indexed(client)
    bad_path = client.root / BAD
    bad = bad_path.as_uri()
    await _closed_file_hints(client, bad, lambda d: _codes(d) == ["MG001"])

    bad_path.write_text(BAD_INDEX.replace("create index(:users, [:email])", "flush()"))
    _watched(client, bad_path, types.FileChangeType.Changed)
    await _closed_file_hints(client, bad, lambda d: d == [])

    added = client.root / MIGRATIONS / "20240103000000_more.exs"
    added.write_text(BAD_INDEX.replace("AddIndex", "More").replace(":users", ":orders"))
    _watched(client, added, types.FileChangeType.Created)
    hints = await _closed_file_hints(client, added.as_uri(), lambda d: bool(d))
    assert _codes(hints) == ["MG001"] and "orders" in hints[0].message

    previous = {}
    if pulls(client):
        item = (await _workspace_pull(client))[added.as_uri()]
        assert item.result_id is not None
        previous[added.as_uri()] = item.result_id
    added.unlink()
    _watched(client, added, types.FileChangeType.Deleted)
    if pulls(client):
        for _ in range(150):
            item = (await _workspace_pull(client, previous)).get(added.as_uri())
            if isinstance(item, types.WorkspaceFullDocumentDiagnosticReport):
                break
            await asyncio.sleep(0.1)
        assert isinstance(item, types.WorkspaceFullDocumentDiagnosticReport)
        assert list(item.items) == []
    else:
        await _closed_file_hints(client, added.as_uri(), lambda d: d == [])


async def test_open_document_wins_over_disk_until_closed(client: RecordingClient) -> None:
    await _indexed(client)
    bad_path = client.root / BAD
    bad = bad_path.as_uri()
    await _closed_file_hints(client, bad, lambda d: bool(d))

    fixed = BAD_INDEX.replace("[:email])", "[:email], concurrently: true)").replace(
        "  use Ecto.Migration\n",
        "  use Ecto.Migration\n\n  @disable_ddl_transaction true\n  @disable_migration_lock true\n",
    )
    open_document(client, bad_path, fixed)
    assert await current_diagnostics(client, bad) == []
    if pulls(client):
        assert bad not in await _workspace_pull(client)

    start = client.texts[bad].index("[:email]")
    change_document(client, bad, start, start + len("[:email]"), "[:name]")
    # Still the open text (the disk copy says MG001 on :email).
    assert await current_diagnostics(client, bad) == []
    text = client.texts[bad]
    cut = text.index(", concurrently: true")
    change_document(client, bad, cut, cut + len(", concurrently: true"), "")
    edited = await current_diagnostics(client, bad, lambda d: bool(d))
    assert "MG001" in _codes(edited)

    published_before_close = len(client.published)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=bad))
    )
    if pulls(client):
        hints = await _closed_file_hints(client, bad, lambda d: bool(d))
    else:
        await wait_until(
            lambda: any(
                p.uri == bad and p.version is None and p.diagnostics
                for p in client.published[published_before_close:]
            ),
            "disk hints after close",
        )
        hints = list(client.published[-1].diagnostics)
    # Back to the disk copy: the index on :email, not the edited :name.
    assert _codes(hints) == ["MG001"] and "users" in hints[0].message
    assert hints[0].range.start == types.Position(line=4, character=4)


@pytest.mark.init_options({"workspaceDiagnostics": False})
async def test_setting_turns_workspace_diagnostics_off(client: RecordingClient) -> None:
    greeter = client.root / "lib" / "greeter.ex"
    uri = open_document(client, greeter, GREETER)
    assert await current_diagnostics(client, uri) == []
    await asyncio.sleep(1.0)
    assert client.progress_reports == {}
    bad = (client.root / BAD).as_uri()
    if pulls(client):
        assert await _workspace_pull(client) == {}
    else:
        assert [p.uri for p in client.published if p.uri == bad] == []


@pytest.fixture
def many_files(tmp_path: Path) -> Path:
    """A workspace big enough that indexing takes a while."""
    root = tmp_path / "big"
    (root / MIGRATIONS).mkdir(parents=True)
    for n in range(600):
        name = f"Add{n}"
        (root / MIGRATIONS / f"2024{n:010d}_add_{n}.exs").write_text(
            BAD_INDEX.replace("AddIndex", name).replace(":users", f":table_{n}")
        )
    return root


@pytest_lsp.fixture(config=server_config())  # type: ignore[untyped-decorator]
async def big_client(lsp_client: RecordingClient, many_files: Path) -> AsyncIterator[None]:
    """VS Code's capabilities over the big workspace."""
    lsp_client.root = many_files
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual_studio_code"),
            root_uri=many_files.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_cancelling_progress_stops_indexing_and_keeps_what_was_done(
    big_client: RecordingClient,
) -> None:
    client = big_client
    await wait_until(lambda: bool(client.progress_reports), "indexing to begin")
    [token] = client.progress_reports
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await _indexed(client)
    [end] = _ended(client)
    assert end.message is not None and end.message.startswith("cancelled after ")
    done = int(end.message.removeprefix("cancelled after ").split("/")[0])
    assert done < 600
    await asyncio.sleep(0.5)
    published = {p.uri for p in client.published if p.diagnostics}
    assert len(published) == done


def test_workspace_diagnostics_setting_is_on_by_default_and_layered() -> None:
    state = SettingsState()
    assert state.workspace_diagnostics is True
    assert state.set_init_options({"phxguard": {"workspaceDiagnostics": False}}) is None
    assert state.workspace_diagnostics is False
    assert state.set_client_settings({"workspaceDiagnostics": True}) is None
    assert state.workspace_diagnostics is True


@pytest.mark.parametrize("value", [0, "false", [False]])
def test_workspace_diagnostics_setting_must_be_a_boolean(value: object) -> None:
    with pytest.raises(SettingsError, match=r"settings\.phxguard\.workspaceDiagnostics"):
        parse_editor_settings({"workspaceDiagnostics": value}, "settings.phxguard")
