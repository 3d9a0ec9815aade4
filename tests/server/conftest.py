"""The end-to-end fixture: a server process driven by each real client's captured capabilities.

Markers adjust a test's workspace before ``initialize``:
``@pytest.mark.phxguard_toml("...")`` writes ``.phxguard.toml``;
``@pytest.mark.init_options({...})`` sets ``initializationOptions``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import client_capabilities

from tests.server.lsp_client import RecordingClient, server_config

# (pytest-lsp capability snapshot, what that client negotiates)
CLIENTS = {
    "neovim": "utf-8",  # Neovim 0.11: pulls diagnostics, resolves code actions
    "visual_studio_code": "utf-16",  # VS Code 1.65: push, resolves, documentChanges
    "emacs": "utf-32",  # eglot (Emacs 29): push, no resolve, documentChanges
    # Debian's Neovim is 0.7: no encoding negotiation, push, resolves, plain `changes`.
    "neovim@v0.7.0": "utf-16",
}


def pytest_configure(config: pytest.Config) -> None:
    """Register this directory's markers."""
    config.addinivalue_line("markers", "phxguard_toml(text): .phxguard.toml of the workspace")
    config.addinivalue_line("markers", "init_options(obj): initializationOptions to send")
    config.addinivalue_line("markers", "capabilities(fn): adjust the client capabilities")


def _marker_arg(request: pytest.FixtureRequest, name: str) -> Any:
    marker = request.node.get_closest_marker(name)
    return marker.args[0] if marker is not None else None


@pytest_lsp.fixture(config=server_config(), params=list(CLIENTS))  # type: ignore[untyped-decorator]
async def client(
    lsp_client: RecordingClient, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[None]:
    """An initialized client/server pair with an empty workspace at ``client.root``."""
    name = request.param
    root = tmp_path / "ws"
    (root / "priv" / "repo" / "migrations").mkdir(parents=True)
    if (toml := _marker_arg(request, "phxguard_toml")) is not None:
        (root / ".phxguard.toml").write_text(toml)
    capabilities = client_capabilities(name)
    if (adjust := _marker_arg(request, "capabilities")) is not None:
        adjust(capabilities)
    lsp_client.root = root
    lsp_client.client_name = name
    lsp_client.encoding = CLIENTS[name]
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options=_marker_arg(request, "init_options"),
        )
    )
    lsp_client.server_capabilities = result.capabilities
    yield
    await lsp_client.shutdown_session()
