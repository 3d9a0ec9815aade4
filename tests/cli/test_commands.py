"""``phxguard rules``, ``explain``, ``server``, ``--version``, and real subprocess runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from analyzers import __version__
from analyzers.explain import explain_text, html_document, markdown_table
from analyzers.registry import all_rules, get_rule
from tests.cli.conftest import JSON_MIGRATION, Runner

ROOT = Path(__file__).resolve().parents[2]


def test_rules_markdown_is_the_readme_table(run: Runner) -> None:
    result = run("rules", "--format", "markdown")
    assert result.status == 0
    assert result.out == markdown_table(r.meta for r in all_rules())
    assert "| MG001 | index-not-concurrent |" in result.out


def test_rules_html_is_the_shipped_document(run: Runner) -> None:
    result = run("rules", "--format", "html")
    assert result.out == html_document([r.meta for r in all_rules()], __version__)


def test_rules_json_and_text(run: Runner) -> None:
    rules = json.loads(run("rules", "--format", "json").out)
    assert [r["code"] for r in rules] == [r.code for r in all_rules()]
    mg001 = next(r for r in rules if r["code"] == "MG001")
    assert mg001["code"] == "MG001" and mg001["slug"] == "index-not-concurrent"
    assert set(mg001) == {
        "code",
        "slug",
        "severity",
        "title",
        "rationale",
        "safe_pattern",
        "fix_title",
        "docs",
    }
    assert mg001["docs"].endswith("#mg001-index-not-concurrent")
    text = run("rules").out.splitlines()
    assert len(text) == len(rules)
    first = next(line.split() for line in text if line.startswith("MG001"))
    assert first[:3] == ["MG001", "index-not-concurrent", mg001["severity"]]


def test_explain(run: Runner) -> None:
    rule = get_rule("MG001")
    assert rule is not None
    result = run("explain", "MG001")
    assert result.status == 0
    assert result.out == explain_text(rule.meta) + "\n"
    assert run("explain", "mg001").out == result.out


def test_explain_unknown_code_exits_2(run: Runner) -> None:
    result = run("explain", "XX999")
    assert result.status == 2
    assert result.out == ""
    assert "unknown rule code 'XX999'" in result.err


def test_version(run: Runner) -> None:
    result = run("--version")
    assert result.status == 0
    assert result.out == f"phxguard {__version__}\n"


def test_help_exits_0(run: Runner) -> None:
    result = run("check", "--help")
    assert result.status == 0
    assert "--fail-on" in result.out and "--select" in result.out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["server"], None),
        (["server", "--stdio"], None),
        (["server", "--tcp", "127.0.0.1:2087"], ("127.0.0.1", 2087)),
        (["server", "--tcp", "[::1]:9000"], ("::1", 9000)),
    ],
)
def test_server_dispatches_to_the_language_server(
    run: Runner, monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: tuple[str, int] | None
) -> None:
    calls: list[tuple[str, int] | None] = []
    fake = types.ModuleType("server.lsp.app")
    fake.start = calls.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "server.lsp.app", fake)
    assert run(*argv).status == 0
    assert calls == [expected]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_path_imports_no_language_server_packages(project: Path) -> None:
    code = (
        "import sys\n"
        "from server.cli.main import main\n"
        "status = main(['check', '--format', 'sarif'])\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs'))\n"
        "print('STATUS', status, 'HEAVY', heavy)\n"
    )
    result = _python(code, project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "STATUS 1 HEAVY []"


def _phxguard() -> list[str]:
    """The installed console script, or the module when the package is not installed."""
    script = shutil.which("phxguard")
    return [script] if script else [sys.executable, "-m", "server.cli.main"]


def test_installed_command_json(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [*_phxguard(), "check", "--format", "json", "--select", "MG012"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)] == [JSON_MIGRATION]


def test_module_entry_point_and_exit_status(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "server.cli.main"]
    version = subprocess.run(
        [*base, "--version"], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert (version.returncode, version.stdout) == (0, f"phxguard {__version__}\n")
    bad = subprocess.run(
        [*base, "check", "--format", "nope"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_output_survives_a_terminal_that_cannot_show_the_source(project: Path) -> None:
    target = project / JSON_MIGRATION
    text = target.read_text(encoding="utf-8").replace(":json", ":json # café 🎉")
    target.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "ascii"}
    base = [sys.executable, "-m", "server.cli.main", "check", "--select", "MG012"]
    as_json = subprocess.run(
        [*base, "--format", "json"], cwd=project, env=env, capture_output=True, timeout=120
    )
    assert as_json.returncode == 1, as_json.stderr
    assert json.loads(as_json.stdout.decode("utf-8"))[0]["code"] == "MG012"
    as_text = subprocess.run(base, cwd=project, env=env, capture_output=True, timeout=120)
    assert as_text.returncode == 1, as_text.stderr
    assert b"add :metadata, :json # caf\\xe9 \\U0001f389" in as_text.stdout
