"""phxguard in real VS Code: the extension built and packaged from editors/vscode, installed
from its .vsix into code-server (VS Code in the browser), the workbench open in headless
Chromium.

Opt-in (about a minute, and it needs the npm registry): ``PHXGUARD_VSCODE_TEST=1``, after
``tests/editors/vscode/setup.sh`` (``.ci/run`` runs it when the variable is set).
``PHXGUARD_VSCODE_SCREENSHOT=path.png`` keeps the picture of the hints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.editors.common import (
    EDITORS,
    LIVEVIEW,
    MIGRATION,
    MIGRATION_FIXED,
    REPO,
    SAMPLE_APP,
    expected,
    lines_of,
    make_workspace,
    server_env,
)

HERE = Path(__file__).parent / "vscode"
CACHE = Path(
    os.environ.get("PHXGUARD_VSCODE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "phxguard-vscode-test"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXTENSION_FILES = [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "eslint.config.mjs",
    ".vscodeignore",
    "README.md",
    "LICENSE",
    "src",
]

pytestmark = pytest.mark.skipif(
    os.environ.get("PHXGUARD_VSCODE_TEST") != "1",
    reason="opt-in: PHXGUARD_VSCODE_TEST=1 (after tests/editors/vscode/setup.sh)",
)


def npm(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run npm in ``cwd``; fail the test with its output if it fails."""
    proc = subprocess.run(
        ["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"npm {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension built like a release: npm ci, compile, lint, vsce package."""
    assert shutil.which("npm"), "npm is needed to build the extension"
    build = tmp_path_factory.mktemp("vscode-extension")
    for name in EXTENSION_FILES:
        source = EDITORS / "vscode" / name
        if source.is_dir():
            shutil.copytree(source, build / name)
        else:
            shutil.copy2(source, build / name)
    npm(build, "ci", "--no-audit", "--no-fund")
    npm(build, "run", "compile")
    npm(build, "run", "lint")
    out = build / "phxguard.vsix"
    npm(build, "run", "package", "--", "--out", str(out))
    return out


@pytest.fixture(scope="module")
def scenario_vsix(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario extension, packaged with the vsce the extension's build installed."""
    work = tmp_path_factory.mktemp("scenario-extension") / "scenario"
    shutil.copytree(HERE / "scenario", work)
    out = work.parent / "scenario.vsix"
    vsce = vsix.parent / "node_modules" / "@vscode" / "vsce" / "vsce"
    proc = subprocess.run(
        [
            "node",
            str(vsce),
            "package",
            "--allow-missing-repository",
            "--skip-license",
            "-o",
            str(out),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_extension_builds_lints_and_packages(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
    assert "extension/out/extension.js" in names
    assert "extension/node_modules/vscode-languageclient/package.json" in names
    assert not any(n.startswith("extension/src/") for n in names)
    settings = manifest["contributes"]["configuration"]["properties"]
    for key in ("phxguard.path", "phxguard.args", "phxguard.enable", "phxguard.trace.server"):
        assert settings[key][
            "description" if "description" in settings[key] else "markdownDescription"
        ]
    assert settings["phxguard.path"]["scope"] == "machine-overridable"
    assert settings["phxguard.args"]["scope"] == "machine-overridable"
    assert manifest["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"] == [
        "phxguard.path",
        "phxguard.args",
    ]
    # ElixirLS / Expert own the languages: phxguard registers none.
    assert "languages" not in manifest["contributes"]


def run_vscode(
    tmp_path: Path, vsix: Path, scenario_vsix: Path, files: list[dict[str, str]]
) -> dict[str, Any]:
    """Run the scenario over ``files`` in code-server; the scenario's result plus the driver's."""
    if not (CACHE / "node_modules" / "code-server").is_dir() or CHROMIUM is None:
        pytest.fail(f"code-server or chromium missing: run {HERE / 'setup.sh'}")
    root = make_workspace(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # phxguard.path points at this checkout's server, the way a user points at a virtualenv.
    server = scratch / "phxguard"
    server.write_text(f'#!/bin/sh\nexec {sys.executable} -m server.cli.main "$@"\n')
    server.chmod(0o755)
    result = scratch / "result.json"
    shot = Path(os.environ.get("PHXGUARD_VSCODE_SCREENSHOT") or scratch / "vscode.png")
    env = server_env(
        PHXGUARD_VSCODE_CACHE=str(CACHE),
        CHROMIUM=CHROMIUM,
        SCENARIO_WORKSPACE=str(root),
        SCENARIO_VSIX=str(vsix),
        SCENARIO_EXT_VSIX=str(scenario_vsix),
        SCENARIO_TMP=str(scratch),
        SCENARIO_RESULT=str(result),
        SCENARIO_SERVER=str(server),
        SCENARIO_SCREENSHOT=str(shot),
        SCENARIO_FILES=json.dumps(files),
    )
    proc = subprocess.run(
        ["node", str(HERE / "driver.js")],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )
    log = scratch / "code-server.log"
    detail = f"{proc.stdout}\n{proc.stderr}\n{log.read_text()[-3000:] if log.exists() else ''}"
    assert proc.returncode == 0, detail
    assert result.exists(), detail
    data: dict[str, Any] = json.loads(result.read_text())
    assert data["errors"] == [], data["errors"]
    data["driver"] = json.loads((scratch / "driver.json").read_text())
    data["screenshot"] = str(shot)
    data["workspace"] = str(root)
    return data


def test_vscode_scenario(tmp_path: Path, vsix: Path, scenario_vsix: Path) -> None:
    r = run_vscode(
        tmp_path,
        vsix,
        scenario_vsix,
        [{"file": MIGRATION, "prefix": "MG"}, {"file": LIVEVIEW, "prefix": "LV"}],
    )
    assert r["extension"]["version"] == "0.1.0"
    assert {"phxguard.restartServer", "phxguard.showOutput"} <= set(r["commands"])
    assert Path(r["screenshot"]).stat().st_size > 10_000

    m = r["files"][0]
    assert m["language_id"] == "elixir"
    assert [d["code"] for d in m["diagnostics"]] == ["MG004", "MG012", "MG001"]
    assert [(d["line"], d["col"]) for d in m["diagnostics"]] == [(5, 6), (6, 21), (9, 4)]
    assert "**MG004" in m["hover"] and "validate: false" in m["hover"]
    assert m["actions"][0] == "Add `validate: false` to `references`"
    assert m["text_after_fix"] == MIGRATION_FIXED
    assert [d["code"] for d in m["diagnostics_after_fix"]] == ["MG012", "MG001"]
    assert lines_of(m["diagnostics_after_insert"]) == [7, 10]
    assert m["replaced_line"] == 7
    assert [(d["code"], d["line"]) for d in m["diagnostics_after_replace"]] == [("MG001", 10)]
    assert m["restart_cleared_and_republished"]

    lv = r["files"][1]
    want = expected(SAMPLE_APP, LIVEVIEW, "LV")
    assert lv["published"]
    assert [d["code"] for d in lv["diagnostics"]] == want.codes
    assert want.target is not None, f"no LV finding in {LIVEVIEW}: {want.codes}"
    assert lv["target"]["code"] == want.target.code
    assert want.target.code in lv["hover"]
    assert lv["text_after_fix"] == want.text_after_fix

    # A server setting reaches the server (the extension's own keys are not forwarded).
    assert r["select_applied"], r["diagnostics_with_select"]

    # phxguard.path pointing at nothing: a notification with install instructions.
    notes = [n for n in r["driver"]["notifications"] if "phxguard" in n]
    assert notes and "not an executable file" in notes[0] and "pip install phxguard" in notes[0]
