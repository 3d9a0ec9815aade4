"""``phxguard check`` parses each file once: trees read for the facts are reused by the analysis."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest

import analyzers.context
import analyzers.engine
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.facts import KeptTrees, collect_keeping
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from server.cli.check import load_workspace
from server.cli.parallel import analyze_parallel
from tests.cli.conftest import PROJECT_FILES, write_tree

SOURCE = b"defmodule A do\n  def a, do: Repo.all(A)\nend\n"


def test_a_kept_tree_is_handed_out_once_and_only_for_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.ex"
    kept = KeptTrees([path])
    assert kept.wants(path, SOURCE)
    kept.keep(path, SOURCE, parse_elixir(SOURCE))
    assert kept.take(path, SOURCE + b"\n") is None, "the file changed since: parse it again"
    kept.keep(path, SOURCE, parse_elixir(SOURCE))
    tree = kept.take(str(path), SOURCE)
    assert tree is not None and tree.root_node.text == SOURCE
    assert kept.take(path, SOURCE) is None
    assert len(kept) == 0


def test_only_wanted_elixir_files_within_the_budget_are_kept(tmp_path: Path) -> None:
    wanted, other, template = tmp_path / "a.ex", tmp_path / "b.ex", tmp_path / "c.heex"
    kept = KeptTrees([wanted, template], budget=len(SOURCE) + 10)
    assert not kept.wants(other, SOURCE)
    assert not kept.wants(template, b"<p>hi</p>")
    collect_keeping(str(wanted), SOURCE, kept)
    assert len(kept) == 1
    kept.expect([other])
    assert not kept.wants(other, SOURCE), "over the budget"
    assert kept.take(wanted, SOURCE) is not None
    assert kept.wants(other, SOURCE), "taking a tree frees its share of the budget"


def test_the_calls_the_facts_scan_found_are_handed_to_the_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lib" / "a.ex"
    kept = KeptTrees([path])
    collect_keeping(str(path), SOURCE, kept)  # the Ecto query-function facts query the calls
    tree = kept.take(path, SOURCE)
    assert tree is not None
    expected = FileContext(
        SOURCE, "lib/a.ex", "elixir", parse_elixir(SOURCE), config=Config(), facts=ProjectFacts()
    ).nodes("call")

    def no_query(*args: object) -> None:
        raise AssertionError("the calls were found again")

    monkeypatch.setattr(analyzers.context, "QueryCursor", no_query)
    ctx = FileContext(SOURCE, "lib/a.ex", "elixir", tree, config=Config(), facts=ProjectFacts())
    calls = ctx.nodes("call")
    assert [c.byte_range for c in calls] == [c.byte_range for c in expected]
    assert len(calls) == 3  # defmodule, def, Repo.all


def test_kept_trees_stay_in_their_process() -> None:
    kept = KeptTrees(["a.ex"])
    kept.keep("a.ex", SOURCE, parse_elixir(SOURCE))
    copy = pickle.loads(pickle.dumps(kept))
    assert len(copy) == 0 and len(kept) == 1


def test_check_parses_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, PROJECT_FILES)
    monkeypatch.chdir(tmp_path)
    parses: list[bytes] = []

    def counting_parse(source: bytes, old_tree: object = None) -> object:
        parses.append(source)
        return parse_elixir(source)

    ws = load_workspace([Path(".")], config_file=None, select=None, ignore=None, err=io.StringIO())
    elixir = [p for p in ws.files if p.suffix in {".ex", ".exs"}]
    assert ws.kept is not None and len(ws.kept) == len(elixir) > 3
    monkeypatch.setattr(analyzers.engine, "parse_elixir", counting_parse)
    results = analyze_parallel(ws, io.StringIO(), jobs=1, progress=False)
    assert parses == [], "every Elixir file was analysed from the tree read for the facts"
    assert len(ws.kept) == 0
    fresh = load_workspace(
        [Path(".")], config_file=None, select=None, ignore=None, err=io.StringIO()
    )
    fresh.kept = None
    again = analyze_parallel(fresh, io.StringIO(), jobs=1, progress=False)
    assert len(parses) == len(elixir)
    assert {p: r.result.findings for p, r in results.items()} == {
        p: r.result.findings for p, r in again.items()
    }
    assert any(r.result.findings for r in results.values())
