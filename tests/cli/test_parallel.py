"""``--jobs``: the same output whatever the number of workers; a progress bar only on a TTY."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from analyzers.project import load_project_facts
from server.cli.check import load_workspace
from server.cli.parallel import MIN_FILES_FOR_POOL, analyze_parallel, load_facts
from tests.benchmarks.corpus import write_corpus
from tests.cli.conftest import Runner, write_tree


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Enough files for a pool, one unreadable."""
    root = tmp_path / "bench"
    root.mkdir()
    write_corpus(root, MIN_FILES_FOR_POOL + 30)
    write_tree(root, {"lib/broken.ex": "defmodule Broken do\n  def x(, do: 1\n"})
    monkeypatch.chdir(root)
    return root


class Terminal(io.StringIO):
    """stderr as a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_output_is_identical_with_one_or_two_workers(corpus: Path, run: Runner, fmt: str) -> None:
    one = run("check", "--format", fmt, "--jobs", "1")
    two = run("check", "--format", fmt, "--jobs", "2")
    assert one.status == two.status == 1
    assert one.out == two.out
    assert one.err == two.err
    assert run("check", "--format", fmt, "-j", "2").out == two.out


def test_pool_results_match_in_process_results(corpus: Path) -> None:
    ws = load_workspace([Path(".")], config_file=None, select=None, ignore=None, err=io.StringIO())
    serial = analyze_parallel(ws, io.StringIO(), jobs=1, progress=False)
    pooled = analyze_parallel(ws, io.StringIO(), jobs=2, progress=False)
    assert list(serial) == list(pooled) == ws.files
    assert {p: r.result.findings for p, r in serial.items()} == {
        p: r.result.findings for p, r in pooled.items()
    }
    assert sum(len(r.result.findings) for r in pooled.values()) > 0


def test_progress_bar_only_on_a_terminal(corpus: Path) -> None:
    ws = load_workspace([Path(".")], config_file=None, select=None, ignore=None, err=io.StringIO())
    terminal = Terminal()
    analyze_parallel(ws, terminal, jobs=2, progress=True)
    drawn = terminal.getvalue()
    assert f"{len(ws.files)}/{len(ws.files)} files" in drawn
    assert drawn.endswith("\r\x1b[2K")
    plain = io.StringIO()
    analyze_parallel(ws, plain, jobs=2, progress=False)
    assert plain.getvalue() == ""


def test_check_draws_no_bar_when_quiet_or_not_a_terminal(corpus: Path, run: Runner) -> None:
    assert run("check", "--jobs", "2").err == ""
    assert run("check", "--jobs", "2", "--quiet").err == ""


def test_unreadable_file_reported_once_from_a_worker(
    corpus: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(corpus, {"lib/secret.ex": "defmodule Secret do\nend\n"})
    read_bytes = Path.read_bytes

    def refuse_secret(path: Path) -> bytes:
        if path.name == "secret.ex":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    # Workers are forked from this process, so they inherit the patch.
    monkeypatch.setattr(Path, "read_bytes", refuse_secret)
    result = run("check", "--jobs", "2", "lib")
    assert result.err == "phxguard: cannot read lib/secret.ex: Permission denied; skipped\n"


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_bad_jobs_value_is_a_usage_error(corpus: Path, run: Runner, value: str) -> None:
    assert run("check", "--jobs", value).status == 2


def test_facts_read_by_a_pool_equal_the_serial_scan(corpus: Path) -> None:
    write_tree(
        corpus,
        {
            "config/config.exs": (
                "import Config\n\nconfig :bench, Bench.Repo,\n"
                "  adapter: Ecto.Adapters.MyXQL,\n  migration_lock: :pg_advisory_lock\n"
            ),
            "lib/bench/repo.ex": (
                "defmodule Bench.Repo do\n"
                "  use Ecto.Repo, otp_app: :bench, adapter: Ecto.Adapters.MyXQL\nend\n"
            ),
        },
    )
    serial = load_project_facts(corpus)
    pooled = load_facts(corpus, 2)
    assert serial.repos, "the fixture must give the facts something to find"
    assert pooled == serial
    assert load_facts(corpus, 1) == serial
