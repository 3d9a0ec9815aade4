"""The workspace around the documents: root, settings layers, project facts, file watching.

Settings come from ``.phxguard.toml``, ``initializationOptions`` and
``workspace/configuration``; a bad layer is reported with ``showMessage`` and
dropped. Project facts (repo adapters, LiveViews and their templates...) are
indexed off the event loop, then kept current file by file (see
:mod:`server.lsp.facts_sync`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from analyzers.config import CONFIG_FILENAME
from server.lsp.settings import SECTION

if TYPE_CHECKING:
    from server.lsp.server import PhxguardServer

log = logging.getLogger(__name__)

WATCHED_GLOBS = (f"**/{CONFIG_FILENAME}", "**/config/*.exs", "**/*.ex", "**/*.exs", "**/*.heex")


def root_of(params: types.InitializeParams) -> Path | None:
    """The workspace root named by ``initialize`` (first folder, else rootUri, else rootPath)."""
    uris = [f.uri for f in params.workspace_folders or []]
    if params.root_uri:
        uris.append(params.root_uri)
    for uri in uris:
        path = to_fs_path(uri)
        if path:
            return Path(path)
    return Path(params.root_path) if params.root_path else None


def initialize(server: PhxguardServer, params: types.InitializeParams) -> None:
    """``initialize``: read the config file and ``initializationOptions``; warn about errors."""
    server.initialized_client = True
    state = server.settings
    state.root = root_of(params)
    problems = [state.load_file(), state.set_init_options(params.initialization_options)]
    # Exclusion globs are relative to the directory of the config file that sets them.
    base = state.config_path.parent if state.config_path is not None else state.root
    server.analyzer.reconfigure(config=state.config, root=base)
    _warn(server, problems)


async def initialized(server: PhxguardServer, _params: types.InitializedParams) -> None:
    """``initialized``: register watchers, fetch editor settings, read project facts.

    Documents opened meanwhile were analysed with what was known then; they
    are re-analysed once, after both settings and facts are in. Then the
    closed files are indexed in the background (workspace diagnostics).
    """
    await _register(server)
    if server.capability("workspace.configuration", False):
        await _fetch_configuration(server, refresh=False)
    await reload_facts(server)
    server.workspace_diagnostics.start()


async def _register(server: PhxguardServer) -> None:
    registrations = []
    if server.capability("workspace.did_change_watched_files.dynamic_registration", False):
        registrations.append(
            types.Registration(
                id=str(uuid.uuid4()),
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=g) for g in WATCHED_GLOBS]
                ),
            )
        )
    if server.capability("workspace.did_change_configuration.dynamic_registration", False):
        registrations.append(
            types.Registration(
                id=str(uuid.uuid4()),
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(section=SECTION),
            )
        )
    if not registrations:
        return
    try:
        await server.client_register_capability_async(
            types.RegistrationParams(registrations=registrations)
        )
    except Exception as exc:
        log.info("client did not accept registrations: %s", exc)


async def _fetch_configuration(server: PhxguardServer, *, refresh: bool = True) -> None:
    scope = server.settings.root.as_uri() if server.settings.root is not None else None
    try:
        values = await server.workspace_configuration_async(
            types.ConfigurationParams(
                items=[types.ConfigurationItem(scope_uri=scope, section=SECTION)]
            )
        )
    except Exception as exc:
        log.info("workspace/configuration failed: %s", exc)
        return
    raw = values[0] if values else None
    _apply_client_settings(server, raw, refresh=refresh)


def _apply_client_settings(server: PhxguardServer, raw: Any, *, refresh: bool = True) -> None:
    problem = server.settings.set_client_settings(raw)
    server.analyzer.reconfigure(config=server.settings.config)
    _warn(server, [problem])
    if refresh:
        server.diagnostics.refresh_all()
        server.workspace_diagnostics.start()


async def did_change_configuration(
    server: PhxguardServer, params: types.DidChangeConfigurationParams
) -> None:
    """Settings changed in the editor: pull them (or take the pushed ones) and re-analyse."""
    if server.capability("workspace.configuration", False):
        await _fetch_configuration(server)
        return
    _apply_client_settings(server, params.settings)


async def did_change_watched_files(
    server: PhxguardServer, params: types.DidChangeWatchedFilesParams
) -> None:
    """A watched file changed: reload the config file and/or the project facts.

    Closed files' hints follow: a changed config re-indexes the workspace,
    otherwise each created or changed file is re-read and a deleted one cleared.
    """
    paths = [PurePosixPath(to_fs_path(c.uri) or c.uri) for c in params.changes]
    config_changed = any(p.name == CONFIG_FILENAME for p in paths)
    sources = [str(p) for p in paths if p.suffix in (".exs", ".ex", ".heex")]
    if config_changed:
        problem = server.settings.load_file()
        server.analyzer.reconfigure(config=server.settings.config)
        _warn(server, [problem])
        server.workspace_diagnostics.start()
    else:
        server.workspace_diagnostics.files_changed(params.changes)
    if sources and server.fact_sync.index is None:
        await reload_facts(server)
        return
    facts_changed = bool(sources) and server.fact_sync.files_changed(sources)
    if facts_changed or config_changed:
        server.diagnostics.refresh_all()


async def reload_facts(server: PhxguardServer) -> None:
    """Index the workspace's facts off the event loop, then re-analyse."""
    await server.fact_sync.load()


def _warn(server: PhxguardServer, problems: Iterable[Exception | None]) -> None:
    for problem in problems:
        if problem is not None:
            server.warn_user(f"phxguard: {problem} (using defaults for these settings)")
