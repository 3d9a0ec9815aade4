"""phxguard in real Emacs (batch) with eglot, set up from editors/emacs/phxguard.el.

Two set-ups: phxguard as eglot's server for Elixir buffers (``phxguard-eglot-setup``), and
phxguard beside another eglot server (``phxguard-mode``), which is how users keep ElixirLS
or Expert: eglot runs one server per major mode.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.editors.common import (
    EDITORS,
    LIVEVIEW,
    MIGRATION,
    MIGRATION_FIXED,
    SAMPLE_APP,
    expected,
    make_workspace,
    run_editor,
    server_command,
    server_env,
)

EMACS = shutil.which("emacs")
SCENARIO = Path(__file__).with_name("eglot_scenario.el")
STAND_IN = Path(__file__).with_name("stand_in_server.py")


def _has_eglot() -> bool:
    if EMACS is None:
        return False
    probe = subprocess.run(
        [EMACS, "--batch", "--eval", "(require 'eglot)"], capture_output=True, check=False
    )
    return probe.returncode == 0


# CI installs Emacs and eglot (.ci/run): there a missing one fails instead of skipping.
HAS_EGLOT = _has_eglot()
pytestmark = pytest.mark.skipif(
    not HAS_EGLOT and not os.environ.get("CI"),
    reason="emacs with eglot is not installed (.ci/run installs it)",
)


def run_emacs(tmp_path: Path, rel: str, prefix: str, mode: str) -> tuple[Path, dict[str, Any]]:
    """Open ``rel`` of a fresh sample-app copy in batch Emacs and run the scenario."""
    assert EMACS is not None and HAS_EGLOT, "emacs with eglot is not installed"
    root = make_workspace(tmp_path)
    result = tmp_path / "result.json"
    env = server_env(
        SCENARIO_MODE=mode,
        SCENARIO_LISP=str(EDITORS / "emacs"),
        SCENARIO_CMD=json.dumps(server_command()),
        SCENARIO_OTHER_CMD=json.dumps([sys.executable, str(STAND_IN)]),
        SCENARIO_WORKSPACE=str(root),
        SCENARIO_FILE=str(root / rel),
        SCENARIO_RESULT=str(result),
        SCENARIO_CODE_PREFIX=prefix,
    )
    # --batch skips the user's init file; user-emacs-directory keeps Emacs' own files here.
    emacs_dir = tmp_path / "emacs.d"
    argv = [
        EMACS,
        "--batch",
        "--eval",
        f"(setq user-emacs-directory {json.dumps(str(emacs_dir) + '/')})",
        "-l",
        str(SCENARIO),
    ]
    return root, run_editor(argv, env, result, cwd=root)


def phxguard_codes(diagnostics: list[dict[str, Any]]) -> list[str]:
    """Codes of phxguard's entries among flymake's ("phxguard [CODE]: message")."""
    return [
        d["text"].split("[", 1)[1].split("]", 1)[0]
        for d in diagnostics
        if d["text"].startswith("phxguard [")
    ]


def phxguard_lines(diagnostics: list[dict[str, Any]]) -> list[int]:
    """Lines of phxguard's entries among flymake's."""
    return [d["line"] for d in diagnostics if d["text"].startswith("phxguard [")]


@pytest.mark.parametrize("mode", ["eglot", "beside"])
def test_migration_diagnostics_hover_fix_and_edits(tmp_path: Path, mode: str) -> None:
    _, r = run_emacs(tmp_path, MIGRATION, "MG", mode)
    if mode == "eglot":
        assert r["eglot_server"] == "phxguard"
        assert r["phxguard_mode"] is False
    else:
        assert r["eglot_server"] == "stand-in-ls"
        assert r["phxguard_mode"] is True
        # The other server's hint stays next to phxguard's.
        assert [d["text"] for d in r["diagnostics"] if "stand-in" in d["text"]] != []
    assert phxguard_codes(r["diagnostics"]) == ["MG004", "MG012", "MG001"]
    assert phxguard_lines(r["diagnostics"]) == [5, 6, 9]
    assert r["target"].startswith("phxguard [MG004]: Foreign key to `users` on `author_id`")
    assert "MG004" in r["hover"] and "validate: false" in r["hover"]
    assert r["actions"][0] == "Add `validate: false` to `references`"
    assert "Disable MG004 for this line" in r["actions"]
    assert r["text_after_fix"] == MIGRATION_FIXED
    assert phxguard_codes(r["diagnostics_after_fix"]) == ["MG012", "MG001"]
    assert phxguard_lines(r["diagnostics_after_insert"]) == [7, 10]
    assert r["replaced_line"] == 7
    assert phxguard_codes(r["diagnostics_after_replace"]) == ["MG001"]
    assert phxguard_lines(r["diagnostics_after_replace"]) == [10]
    assert r["text_final"].startswith("# inserted by the test\n")


@pytest.mark.parametrize("mode", ["eglot", "beside"])
def test_liveview_diagnostics_hover_and_fix(tmp_path: Path, mode: str) -> None:
    _, r = run_emacs(tmp_path, LIVEVIEW, "LV", mode)
    want = expected(SAMPLE_APP, LIVEVIEW, "LV")
    assert r["published"]
    assert phxguard_codes(r["diagnostics"]) == want.codes
    assert want.target is not None, f"no LV finding in {LIVEVIEW}: {want.codes}"
    assert r["target"].startswith(f"phxguard [{want.target.code}]")
    assert want.target.code in r["hover"]
    assert r["text_after_fix"] == want.text_after_fix
    assert len(phxguard_codes(r["diagnostics_after_replace"])) < len(
        phxguard_codes(r["diagnostics_after_insert"])
    )


def test_phxguard_el_byte_compiles_without_warnings(tmp_path: Path) -> None:
    assert EMACS is not None and HAS_EGLOT, "emacs with eglot is not installed"
    source = tmp_path / "phxguard.el"
    shutil.copy2(EDITORS / "emacs" / "phxguard.el", source)
    proc = subprocess.run(
        [
            EMACS,
            "--batch",
            "-Q",
            "--eval",
            "(setq byte-compile-error-on-warn t)",
            "-f",
            "batch-byte-compile",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "phxguard.elc").exists()
