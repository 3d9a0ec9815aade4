"""The pre-commit hook definition and the documented GitHub Actions workflow."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from tests.cli.conftest import INDEX_MIGRATION, Runner

REPO = Path(__file__).resolve().parents[2]


def load_yaml(name: str) -> Any:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


def hook() -> dict[str, Any]:
    hooks = load_yaml(".pre-commit-hooks.yaml")
    assert isinstance(hooks, list) and len(hooks) == 1
    found: dict[str, Any] = hooks[0]
    return found


def test_pre_commit_hook_definition() -> None:
    definition = hook()
    # pre-commit's required keys, and what makes it run phxguard on the staged files.
    assert {"id", "name", "entry", "language"} <= set(definition)
    assert definition["id"] == "phxguard"
    assert definition["language"] == "python"
    assert definition["pass_filenames"] is True
    assert definition["require_serial"] is False
    command = shlex.split(definition["entry"])
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert command[0] in scripts, "the hook's entry must be a console script the package installs"
    assert command[1:] == ["check"]


@pytest.mark.parametrize(
    ("name", "matched"),
    [
        ("lib/app.ex", True),
        ("priv/repo/migrations/20240101000000_create.exs", True),
        ("lib/app_web/components/card.html.heex", True),
        ("lib/app_web/templates/page.html.eex", False),
        ("lib/app.ex.orig", False),
        ("README.md", False),
    ],
)
def test_pre_commit_hook_selects_elixir_and_heex_files(name: str, matched: bool) -> None:
    # pre-commit applies `files` with re.search.
    assert bool(re.search(hook()["files"], name)) is matched


def test_pre_commit_hook_command_checks_the_staged_files(project: Path, run: Runner) -> None:
    argv = shlex.split(hook()["entry"])[1:]
    staged = [INDEX_MIGRATION, "lib/app/repo.ex"]
    result = run(*argv, *staged)
    assert result.status == 1
    assert INDEX_MIGRATION in result.out
    assert run(*argv, "lib/app/repo.ex").status == 0


def test_github_actions_workflow_uploads_sarif_to_code_scanning() -> None:
    workflow = load_yaml("docs/github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["phxguard"]["steps"]
    by_name = {step.get("name"): step for step in steps}
    check = by_name["Run phxguard"]
    assert check["continue-on-error"] is True
    command = shlex.split(check["run"])
    assert command[:4] == ["phxguard", "check", "--format", "sarif"]
    sarif_file = command[command.index(">") + 1]
    upload = by_name["Upload to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == sarif_file
    assert "always()" in upload["if"]
    assert by_name["Fail on new findings"]["if"] == "steps.phxguard.outcome == 'failure'"
    assert steps.index(upload) < steps.index(by_name["Fail on new findings"])


def test_workflow_command_line_is_accepted(project: Path, run: Runner) -> None:
    workflow = load_yaml("docs/github-actions.yml")
    step = next(s for s in workflow["jobs"]["phxguard"]["steps"] if s.get("id") == "phxguard")
    command = shlex.split(step["run"])
    argv = command[1 : command.index(">")]
    baseline = argv[argv.index("--baseline") + 1]
    assert run("check", "--baseline", baseline, "--update-baseline").status == 0
    result = run(*argv)
    assert result.status == 0
    assert '"version": "2.1.0"' in result.out
