"""``phxguard check`` on a workspace of odd files, in every format: findings, exit code, messages.

Invalid UTF-8, NUL bytes, every line-break style, U+2028, a BOM, empty and
binary files, 5,000-deep nesting and a 10 MB file are each reported (or
skipped with one PX000 finding); a file that cannot be read is named on
stderr and the run goes on. The runs that could hang (a FIFO) are real
subprocesses with a timeout, so a regression fails instead of blocking.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.bad_input_corpus import BY_NAME, FAST, BadFile
from tests.cli.conftest import Runner

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "server" / "cli" / "schemas" / "sarif-2.1.0.json"
FORMATS = ("text", "json", "sarif", "github")


def _file_name(case: BadFile) -> str:
    return f"lib/{case.name.replace('-', '_')}.ex"


def _write(root: Path, cases: Iterable[BadFile]) -> dict[str, BadFile]:
    written: dict[str, BadFile] = {}
    for case in cases:
        rel = _file_name(case)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(case.source)
        written[rel] = case
    return written


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory, made the current directory."""
    root = tmp_path / "app"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def _codes_by_path(fmt: str, out: str) -> dict[str, list[str]]:
    """``{path: [code, ...]}`` read back from one format's output."""
    found: dict[str, list[str]] = {}
    if fmt == "json":
        for item in json.loads(out):
            found.setdefault(item["path"], []).append(item["code"])
    elif fmt == "sarif":
        log = json.loads(out)
        jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(log)
        for result in log["runs"][0]["results"]:
            location = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            found.setdefault(location, []).append(result["ruleId"])
    elif fmt == "github":
        for line in out.splitlines():
            props = dict(p.split("=", 1) for p in line.split("::")[1].split(" ", 1)[1].split(","))
            found.setdefault(props["file"], []).append(props["title"].split(" ")[0])
    else:
        path = ""
        for line in out.splitlines():
            if line.startswith("lib/"):
                path = line
            elif (head := re.match(r"  \d+:\d+ (\w+) \[", line)) is not None:
                found.setdefault(path, []).append(head.group(1))
    return found


def _assert_printable(out: str) -> None:
    """Nothing that would act on a terminal: no control characters but newline and tab."""
    bad = {ch for ch in out if unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch not in "\n\t"}
    assert not bad, sorted(bad)


def _assert_reported(fmt: str, out: str, written: dict[str, BadFile]) -> None:
    found = _codes_by_path(fmt, out)
    for rel, case in written.items():
        codes = found.get(rel, [])
        if case.skipped is not None:
            assert codes == ["PX000"], (fmt, rel, codes)
        else:
            assert "PX000" not in codes, (fmt, rel, codes)
            assert set(case.codes) <= set(codes), (fmt, rel, codes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_odd_file_is_reported_in_every_format(workspace: Path, run: Runner, fmt: str) -> None:
    written = _write(workspace, FAST)
    result = run("check", "--jobs", "1", "--format", fmt)
    assert result.status == 1, result.err
    assert "Traceback" not in result.err
    _assert_reported(fmt, result.out, written)
    if fmt in ("text", "github"):
        _assert_printable(result.out)
    if fmt == "text":
        assert f"Found {result.out.count(' [')} problems" in result.out


@pytest.mark.parametrize("fmt", FORMATS)
def test_huge_and_pathological_files_are_skipped_in_every_format(
    workspace: Path, run: Runner, fmt: str
) -> None:
    # A small budget keeps this fast; the engine tests run the default 3,000 ms one.
    (workspace / ".phxguard.toml").write_text("time_budget_ms = 200\n")
    written = _write(workspace, [BY_NAME["ten-megabytes"], BY_NAME["nested-ifs"]])
    result = run("check", "--jobs", "1", "--format", fmt, "--fail-on", "info")
    assert result.status == 1, result.err
    assert "Traceback" not in result.err
    found = _codes_by_path(fmt, result.out)
    assert {rel: found.get(rel) for rel in written} == {rel: ["PX000"] for rel in written}
    if fmt == "json":
        messages = sorted(f["message"] for f in json.loads(result.out))
        assert "longer than the 200 ms budget" in messages[0]
        assert "the file is 10.0 MB, over the 2.0 MB limit" in messages[1]
    # Info findings alone do not fail the default threshold (warning).
    assert run("check", "--jobs", "1", "--format", fmt).status == 0


def test_only_skipped_and_empty_files_exit_zero(workspace: Path, run: Runner) -> None:
    _write(workspace, [BY_NAME[n] for n in ("empty", "only-a-bom", "only-crlf", "binary-content")])
    result = run("check", "--jobs", "1")
    assert result.status == 0, result.out
    assert "Found 1 problem (1 info) in 1 file" in result.out


def test_text_excerpts_show_control_characters_without_emitting_them(
    workspace: Path, run: Runner
) -> None:
    source = (
        b'defmodule A do\n  def a(params), do: "\x1b[2J\x00\x07" <> String.to_atom(params["k"])\n'
        b"end\n"
    )
    (workspace / "lib").mkdir()
    (workspace / "lib" / "a.ex").write_bytes(source)
    out = run("check", "--jobs", "1").out
    _assert_printable(out)
    excerpt = next(line for line in out.splitlines() if "String.to_atom" in line and "|" in line)
    assert "\u241b[2J\u2400\u2407" in excerpt
    carets = out.splitlines()[out.splitlines().index(excerpt) + 1]
    assert carets.index("^") == excerpt.index("String.to_atom")


@pytest.mark.parametrize(
    "bad",
    [b"\xe2\x82", b"\xff\xfe", b"\xf0\x9f\x98", b"\xc3"],
    ids=["3-of-3", "ff-fe", "3-of-4", "1-of-2"],
)
def test_carets_line_up_after_invalid_utf8_on_the_same_line(
    workspace: Path, run: Runner, bad: bytes
) -> None:
    source = (
        b'defmodule A do\n  def a(params), do: "' + bad + b'" <> String.to_atom(params["k"])\nend\n'
    )
    (workspace / "lib").mkdir()
    (workspace / "lib" / "a.ex").write_bytes(source)
    lines = run("check", "--jobs", "1").out.splitlines()
    excerpt = next(n for n, line in enumerate(lines) if "String.to_atom" in line and "|" in line)
    assert lines[excerpt + 1].index("^") == lines[excerpt].index("String.to_atom")
    (finding,) = json.loads(run("check", "--jobs", "1", "--format", "json").out)
    # Columns count characters, each byte of an invalid sequence as one.
    prefix = source.split(b"\n")[1].split(b"String")[0]
    assert finding["column"] == len(prefix.decode("utf-8", "surrogateescape")) + 1


def test_parallel_and_serial_runs_agree_on_odd_files(workspace: Path, run: Runner) -> None:
    _write(workspace, FAST)
    serial = run("check", "--jobs", "1", "--format", "json")
    parallel = run("check", "--jobs", "2", "--format", "json")
    assert json.loads(parallel.out) == json.loads(serial.out)
    assert parallel.status == serial.status == 1


def _check(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "server.cli.main", "check", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_fifo_named_ex_is_reported_not_read(workspace: Path, jobs: str) -> None:
    # Reading a FIFO blocks until someone writes to it: the run used to hang for ever.
    written = _write(workspace, [BY_NAME["crlf"], BY_NAME["binary-content"]])
    os.mkfifo(workspace / "lib" / "pipe.ex")
    (workspace / "lib" / "dir.ex").mkdir()  # a directory with a source suffix: walked, not read
    for fmt in FORMATS:
        result = _check(workspace, "--jobs", jobs, "--format", fmt)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "phxguard: cannot read lib/pipe.ex: not a regular file; skipped" in result.stderr
        _assert_reported(fmt, result.stdout, written)


def test_an_unreadable_file_named_on_the_command_line(workspace: Path) -> None:
    _write(workspace, [BY_NAME["crlf"]])
    os.mkfifo(workspace / "lib" / "pipe.ex")
    result = _check(workspace, "--format", "json", "lib/pipe.ex", "lib/crlf.ex")
    # It exists: not "no such file" (exit 2), but a note and the other file checked.
    assert result.returncode == 1, result.stderr
    assert "phxguard: lib/pipe.ex: not a regular file or directory; skipped" in result.stderr
    assert {f["path"] for f in json.loads(result.stdout)} == {"lib/crlf.ex"}


def _json(out: str) -> Any:
    return json.loads(out)


def test_json_positions_of_findings_after_odd_line_breaks(workspace: Path, run: Runner) -> None:
    written = _write(
        workspace, [BY_NAME[n] for n in ("crlf", "mixed-line-breaks", "bom-then-code")]
    )
    findings = _json(run("check", "--jobs", "1", "--format", "json", "--select", "OT002").out)
    # Line 3, after `    key = `: CRLF and mixed breaks count once per line, a BOM is no column.
    assert {(f["path"], f["line"], f["column"]) for f in findings} == {
        (rel, 3, 11) for rel in written
    }
