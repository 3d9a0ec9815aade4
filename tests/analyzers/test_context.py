"""FileContext's call index: by grammar ids, the same as by node type names, in document order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from tree_sitter import Node, Query, QueryCursor

from analyzers import context, syntax
from analyzers.config import Config
from analyzers.context import FileContext, _index_by_function
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from tests.analyzers.test_syntax import sources

MORE = (
    b'a.b.c(1); Foo.Bar.baz(x); fun.(x); x.(y).z(1); :ets.new(:t, []); "a".b(1)\n',
    b'Mod."quoted"(1); repo().all(q); __MODULE__.f(1); @attr.f(1); &Enum.map/2\n',
    b"def f(x), do: Kernel.+(x, 1) |> g.()\n",
)


def _by_names(calls: list[Node]) -> dict[str, list[Node]]:
    """The reference: ``calls`` keyed by their function identifier, read by node type names."""
    by_bytes: dict[bytes, list[Node]] = {}
    for call in calls:
        target = call.child_by_field_name("target")
        if target is None:
            continue
        kind = target.type
        if kind == "dot":
            target = target.child_by_field_name("right")
            if target is None or target.type != "identifier":
                continue
        elif kind != "identifier":
            continue
        raw = target.text
        if raw:
            found = by_bytes.get(raw)
            if found is None:
                by_bytes[raw] = [call]
            else:
                found.append(call)
    return {raw.decode("utf-8", "replace"): found for raw, found in by_bytes.items()}


@settings(max_examples=150, deadline=None)
@given(sources())
def test_index_by_ids_matches_index_by_names(source: bytes) -> None:
    for text in (source, *MORE):
        tree = parse_elixir(text)
        calls = [n for n in syntax.walk(tree.root_node) if n.type == "call"]
        assert _index_by_function(calls, tree.language) == _by_names(calls), text


def _context(text: bytes) -> FileContext:
    tree = parse_elixir(text)
    return FileContext(text, "lib/m.ex", "elixir", tree, config=Config(), facts=ProjectFacts())


def _calls_by_function(ctx: FileContext) -> dict[str, list[Node]]:
    """Every call of ``ctx``, keyed by its function name, as the rules can ask for them."""
    return {name: ctx.calls_named([name]) for name in ctx.call_names()}


@settings(max_examples=100, deadline=None)
@given(sources())
def test_calls_by_name_are_the_same_whether_every_call_was_asked_for_first(source: bytes) -> None:
    for text in (source, *MORE):
        alone = _context(text)
        after_nodes = FileContext(
            text, "lib/m.ex", "elixir", alone.tree, config=Config(), facts=ProjectFacts()
        )
        calls = [n for n in syntax.walk(alone.tree.root_node) if n.type == "call"]
        expected = _by_names(calls)
        assert after_nodes.nodes("call") == calls
        assert _calls_by_function(alone) == expected, text
        assert _calls_by_function(after_nodes) == expected, text
        names = sorted(expected)[:3]
        wanted = [c for c in calls if any(c in expected[name] for name in names)]
        assert alone.calls_named(names) == wanted, text
        assert alone.calls_any(names) == bool(wanted)
        assert not alone.calls_any(["no_such_function"])


def _counting_queries(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every query the context runs from now on (one entry per tree walk)."""
    runs: list[object] = []

    class CountingCursor:
        def __init__(self, query: Query) -> None:
            self.cursor = QueryCursor(query)

        def captures(self, node: Node) -> dict[str, list[Node]]:
            runs.append(node)
            return self.cursor.captures(node)

    monkeypatch.setattr(context, "QueryCursor", CountingCursor)
    return runs


def test_every_call_in_order_serves_the_call_index_without_another_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = _counting_queries(monkeypatch)
    ctx = _context(MORE[0])
    calls = ctx.nodes("call")
    by_function = _calls_by_function(ctx)
    assert len(runs) == 1
    assert calls == [n for n in syntax.walk(ctx.tree.root_node) if n.type == "call"]
    assert by_function == _by_names(calls)


def test_the_call_index_reads_calls_only_for_the_names_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = _context(MORE[0] + MORE[1])
    expected = _by_names([n for n in syntax.walk(ctx.tree.root_node) if n.type == "call"])
    read: list[list[Node]] = []
    original = context._calls_of_targets

    def recording(targets: list[Node]) -> list[Node]:
        read.append(targets)
        return original(targets)

    monkeypatch.setattr(context, "_calls_of_targets", recording)
    assert ctx.calls_named(["c", "baz"]) == [*expected["c"], *expected["baz"]]
    assert ctx.calls_named(["baz"]) == expected["baz"]
    assert len(read) == 2, "each asked name is read once, no other"
    assert sorted(ctx.call_names()) == sorted(expected)
    assert len(read) == 2


def test_may_call_asks_the_index_only_once_another_rule_built_it() -> None:
    ctx = _context(b"Task.start(fn -> :ok end)\n")
    # The words answer without an index: `spawn` is not called, but the text says so.
    assert ctx.may_call(["spawn"], [b"Task."]) is True
    assert not ctx.may_call(["start"], [b"spawn"])
    assert ctx._call_targets is None
    ctx.call_names()
    assert ctx.may_call(["start"], [b"spawn"]) is True
    assert not ctx.may_call(["spawn"], [b"Task."])
