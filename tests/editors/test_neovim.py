"""phxguard in real Neovim (headless), set up as a user would: ``require("phxguard").setup{}``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.editors.common import (
    EDITORS,
    LIVEVIEW,
    MIGRATION,
    MIGRATION_CODES,
    MIGRATION_FIXED,
    SAMPLE_APP,
    expected,
    lines_of,
    make_workspace,
    run_editor,
    server_command,
    server_env,
)

NVIM = shutil.which("nvim")
SCENARIO = Path(__file__).with_name("nvim_scenario.lua")

# CI installs Neovim (.ci/run): there a missing nvim fails instead of skipping.
pytestmark = pytest.mark.skipif(
    NVIM is None and not os.environ.get("CI"), reason="nvim is not installed (.ci/run installs it)"
)


def run_nvim(tmp_path: Path, rel: str, prefix: str) -> tuple[Path, dict[str, Any]]:
    """Open ``rel`` of a fresh sample-app copy in headless Neovim and run the scenario."""
    assert NVIM is not None, "nvim is not installed"
    root = make_workspace(tmp_path)
    result = tmp_path / "result.json"
    state = tmp_path / "nvim-state"
    env = server_env(
        SCENARIO_RTP=str(EDITORS / "neovim"),
        SCENARIO_CMD=json.dumps(server_command()),
        SCENARIO_FILE=str(root / rel),
        SCENARIO_RESULT=str(result),
        SCENARIO_CODE_PREFIX=prefix,
        # Neovim's own state (lsp.log, shada) stays in the test's directory.
        XDG_STATE_HOME=str(state),
        XDG_DATA_HOME=str(state),
        XDG_CACHE_HOME=str(state),
    )
    argv = [NVIM, "--headless", "--clean", "-n", "-i", "NONE", "-c", f"luafile {SCENARIO}"]
    return root, run_editor(argv, env, result, cwd=root)


def test_migration_diagnostics_hover_fix_and_edits(tmp_path: Path) -> None:
    root, r = run_nvim(tmp_path, MIGRATION, "MG")
    assert r["filetype"] == "elixir"
    assert r["clients"] == [{"name": "phxguard", "root_dir": str(root)}]
    assert [d["code"] for d in r["diagnostics"]] == MIGRATION_CODES
    assert {d["source"] for d in r["diagnostics"]} == {"phxguard"}
    assert [(d["line"], d["col"]) for d in r["diagnostics"]] == [(5, 6), (6, 21), (9, 4)]
    assert r["hover"].startswith("**MG004")
    assert "validate: false" in r["hover"]
    assert r["applied"] == "Add `validate: false` to `references`"
    assert "Disable MG004 for this line" in r["actions"]
    assert r["text_after_fix"] == MIGRATION_FIXED
    assert [d["code"] for d in r["diagnostics_after_fix"]] == ["MG012", "MG001"]
    # A line inserted at the top moves every diagnostic down; replacing the first
    # diagnostic's line with a comment clears it and leaves the other one in place.
    assert lines_of(r["diagnostics_after_insert"]) == [7, 10]
    assert r["replaced_line"] == 7
    assert [(d["code"], d["line"]) for d in r["diagnostics_after_replace"]] == [("MG001", 10)]
    assert r["text_final"].startswith("# inserted by the test\n")


def test_liveview_diagnostics_hover_and_fix(tmp_path: Path) -> None:
    _, r = run_nvim(tmp_path, LIVEVIEW, "LV")
    want = expected(SAMPLE_APP, LIVEVIEW, "LV")
    assert r["filetype"] == "elixir"
    assert r["published"], "the server published no diagnostics for the LiveView"
    assert [d["code"] for d in r["diagnostics"]] == want.codes
    assert want.target is not None, f"no LV finding in {LIVEVIEW}: {want.codes}"
    assert r["target"]["code"] == want.target.code
    assert r["hover"].startswith(f"**{want.target.code}")
    assert r["text_after_fix"] == want.text_after_fix
    assert len(r["diagnostics_after_replace"]) < len(r["diagnostics_after_insert"])


def test_heex_template_gets_the_server(tmp_path: Path) -> None:
    root, r = run_nvim(tmp_path, "lib/sample_app_web/live/post_live/index.html.heex", "")
    assert r["filetype"] == "heex"
    assert r["clients"] == [{"name": "phxguard", "root_dir": str(root)}]
    assert r["published"]
    assert [d["code"] for d in r["diagnostics"]] == expected(
        root, "lib/sample_app_web/live/post_live/index.html.heex", ""
    ).codes


def test_neovim_011_config_file(tmp_path: Path) -> None:
    """lsp/phxguard.lua is the table vim.lsp.config expects (loaded by this Neovim)."""
    assert NVIM is not None
    out = tmp_path / "config.json"
    lua = (
        f"local c = dofile({json.dumps(str(EDITORS / 'neovim' / 'lsp' / 'phxguard.lua'))}); "
        f"local f = io.open({json.dumps(str(out))}, 'w'); f:write(vim.json.encode(c)); f:close()"
    )
    run_editor(
        [NVIM, "--headless", "--clean", "-c", f"lua {lua}", "-c", "qa!"],
        server_env(),
        out,
        tmp_path,
    )
    assert json.loads(out.read_text()) == {
        "cmd": ["phxguard", "server"],
        "filetypes": ["elixir", "eelixir", "heex"],
        "root_markers": ["mix.exs", ".git"],
    }
