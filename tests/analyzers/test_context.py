"""FileContext's call index: by grammar ids, the same as by node type names."""

from __future__ import annotations

from hypothesis import given, settings
from tree_sitter import Node

from analyzers import syntax
from analyzers.context import _index_by_function
from analyzers.parsing import parse_elixir
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
