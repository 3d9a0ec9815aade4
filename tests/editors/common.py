"""What the editor tests share: the sample-app workspace, the server command, and expectations.

Each editor opens files of a private copy of ``examples/sample_app`` (so the project root
is found through ``mix.exs`` and nothing in the checkout is touched) and starts the server
from this checkout. What the editors must show is checked against literal text for the
migration, and against the engine's own findings for any file (so that the LiveView test
follows the rules as they land).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzers.config import load_config
from analyzers.edits import apply_edits
from analyzers.engine import analyze
from analyzers.model import Finding
from analyzers.project import load_project_facts

REPO = Path(__file__).resolve().parents[2]
EDITORS = REPO / "editors"
SAMPLE_APP = REPO / "examples" / "sample_app"
MIGRATION = "priv/repo/migrations/20240315120000_add_author_to_posts.exs"
LIVEVIEW = "lib/sample_app_web/live/post_live/index.ex"
TIMEOUT_S = 60

# The migration's first finding (MG004) and the text after its quick fix.
MIGRATION_CODES = ["MG004", "MG012", "MG001"]
MIGRATION_FIXED = """\
defmodule SampleApp.Repo.Migrations.AddAuthorToPosts do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :author_id, references(:users, on_delete: :nilify_all, validate: false)
      add :metadata, :json
    end

    create index(:posts, [:author_id])
  end
end
"""


def make_workspace(tmp_path: Path) -> Path:
    """A private copy of the sample app."""
    root = tmp_path / "sample_app"
    shutil.copytree(SAMPLE_APP, root)
    return root


def server_command() -> list[str]:
    """The language server of this checkout (``phxguard server``, without relying on PATH)."""
    return [sys.executable, "-m", "server.lsp"]


def server_env(**extra: str) -> dict[str, str]:
    """The environment the editor (and so the server it starts) runs in."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_editor(argv: list[str], env: dict[str, str], result: Path, cwd: Path) -> dict[str, Any]:
    """Run a headless editor until it writes ``result``; fail with its output otherwise."""
    proc = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.exists(), f"no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    data: dict[str, Any] = json.loads(result.read_text())
    assert data.get("errors") in (None, []), data["errors"]
    return data


@dataclass(frozen=True)
class Expected:
    """What the engine finds in a file: codes in order, the target finding and its fixed text."""

    codes: list[str]
    target: Finding | None
    text_after_fix: str | None


def expected(root: Path, rel: str, prefix: str) -> Expected:
    """The engine's findings in ``rel``; the target is the first whose code starts with ``prefix``.

    The quick fix an editor applies first is the finding's first fix or, for a finding
    without one, the "disable for this line" comment.
    """
    path = root / rel
    source = path.read_bytes()
    result = analyze(
        source,
        str(path),
        facts=load_project_facts(root),
        config=load_config(root / ".phxguard.toml"),
    )
    findings = sorted(result.findings, key=lambda f: (f.start, f.end))
    target = next((f for f in findings if f.code.startswith(prefix)), None)
    fixed = None
    if target is not None:
        if target.fixes:
            fixed = apply_edits(source, target.fixes[0].edits).decode()
        else:
            line_start = source.rfind(b"\n", 0, target.start) + 1
            indent = source[line_start : target.start]
            indent = indent[: len(indent) - len(indent.lstrip())]
            comment = indent + f"# phxguard:disable-next-line {target.code}\n".encode()
            fixed = (source[:line_start] + comment + source[line_start:]).decode()
    return Expected([f.code for f in findings], target, fixed)


def lines_of(diagnostics: list[dict[str, Any]]) -> list[int]:
    """The sorted lines of a list of recorded diagnostics."""
    return sorted(int(d["line"]) for d in diagnostics)
