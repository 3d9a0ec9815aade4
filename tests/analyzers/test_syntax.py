"""syntax.Enclosing: byte-range lookups answer what climbing the parents answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from analyzers import syntax
from analyzers.parsing import parse_elixir

# Pieces nested at random: definitions, modules, branches, calls, one-liners, broken code.
PIECES = (
    "defmodule A.B do\n{}\nend\n",
    "defmodule C do {} end",
    "def f(x) do\n{}\nend\n",
    "defp g, do: {}",
    "def h(a) when a > 1, do: ({})",
    "if Repo.get(X, 1) do\n{}\nelse\n{}\nend\n",
    "case Repo.get_by(X, a: 1) do\nnil -> {}\n_ -> {}\nend\n",
    "Repo.transaction(fn -> {} end)",
    "Enum.map(xs, fn x -> {} end)",
    "foo({})",
    "{} |> Repo.insert()",
    "[{}, {}]",
    "Repo.insert!({})",
    "def broken(x do {}",
    "Repo.update(",
    "foo def bar(x), do: {}",
    "alias Ecto.Multi\n{}",
    "Multi.new() |> Multi.insert(:a, {})",
    "Ecto.Multi.run(m, :x, fn _, _ -> {} end)",
    "unless Repo.exists?(q), do: Repo.insert!({})",
    "defmodule Mix.Tasks.Seed do\n{}\nend\n",
    "alias MyApp.Repo, as: DB\n{}",
    "alias MyApp.{Repo, Accounts}\n{}",
    "DB.insert({}) && __MODULE__.Repo.get(1) && repo().all({}) && :ets.new(:a, {})",
    "post.comments.all({}) && Enum.map({}, &Repo.get(X, &1))",
)


@st.composite
def sources(draw: st.DrawFn) -> bytes:
    """Randomly nested Elixir snippets, some of them broken (tree-sitter error recovery)."""

    def build(depth: int) -> str:
        if depth == 0 or draw(st.integers(0, 3)) == 0:
            return draw(st.sampled_from(["x", "Repo.all(Post)", "bar(1)", "", "@attr"]))
        piece = draw(st.sampled_from(PIECES))
        return piece.replace("{}", "\n".join(build(depth - 1) for _ in range(2)), 1).replace(
            "{}", build(depth - 1)
        )

    text = build(4).encode()
    cut = draw(st.integers(0, len(text)))
    return text if draw(st.booleans()) else text[:cut]


def _all_named(node: Node) -> list[Node]:
    return list(syntax.walk(node))


def _climb(node: Node, candidates: list[Node]) -> Node | None:
    for parent in syntax.ancestors(node):
        if parent in candidates:
            return parent
    return None


@settings(max_examples=150, deadline=None)
@given(sources(), st.sampled_from(["defs", "modules", "calls", "all"]))
def test_around_matches_climbing_parents(source: bytes, kind: str) -> None:
    tree = parse_elixir(source)
    nodes = _all_named(tree.root_node)
    calls = [n for n in nodes if n.type == "call"]
    candidates = {
        "defs": [c for c in calls if syntax.def_name(c) is not None],
        "modules": [c for c in calls if syntax.module_name(c) is not None],
        "calls": calls,
        "all": nodes,
    }[kind]
    index = syntax.Enclosing(candidates)
    for node in nodes:
        decided, found = index.around(node)
        if decided:
            assert found == _climb(node, candidates), (source, node)


def test_around_on_its_own_candidate_looks_further_out() -> None:
    tree = parse_elixir(b"def outer do\n  def inner, do: 1\nend\n")
    defs = [n for n in syntax.walk(tree.root_node) if syntax.def_name(n) is not None]
    outer, inner = defs
    index = syntax.Enclosing(defs)
    assert index.around(inner) == (True, outer)
    assert index.around(outer) == (True, None)


def test_around_leaves_a_node_with_a_candidates_span_undecided() -> None:
    # The arguments without parentheses span exactly the def: parent or child is not in spans.
    tree = parse_elixir(b"foo def bar(x), do: x\n")
    nodes = list(syntax.walk(tree.root_node))
    definition = next(n for n in nodes if syntax.def_name(n) is not None)
    same_span = [
        n
        for n in nodes
        if n != definition
        and (n.start_byte, n.end_byte) == (definition.start_byte, definition.end_byte)
    ]
    assert same_span
    index = syntax.Enclosing([definition])
    for node in same_span:
        assert index.around(node) == (False, None)


def test_around_outside_every_candidate() -> None:
    tree = parse_elixir(b"x = 1\ndef f, do: 2\n")
    nodes = list(syntax.walk(tree.root_node))
    index = syntax.Enclosing([n for n in nodes if syntax.def_name(n) is not None])
    first = next(n for n in nodes if n.type == "binary_operator")
    assert index.around(first) == (True, None)
    assert syntax.Enclosing([]).around(first) == (True, None)


def _def_name_composed(node: Node) -> tuple[str, str] | None:
    """def_name as composed from the other helpers (what the inlined version must answer)."""
    keyword = syntax.identifier_target(node)
    if keyword is None or keyword not in {b"def", b"defp", b"defmacro", b"defmacrop"}:
        return None
    head = syntax.def_head(node)
    if head is None:
        return None
    if head.type == "identifier":
        return keyword.decode(), syntax.text(head)
    if head.type == "call":
        name = syntax.call_name(head)
        if name is not None and "." not in name:
            return keyword.decode(), name
    return None


HEADS = (
    b"def f(x), do: 1\n",
    b"defp g do\nend\n",
    b"def h(a) when a > 1, do: a\n",
    b"def when, do: 1\n",
    b"defmacro m(a, b) do a end\n",
    b"def unquote(name)(x), do: x\n",
    b"def Foo.bar(x), do: x\n",
    b"def a.b(x), do: x\n",
    b"def (# c\nf(x)), do: 1\n",
    b"def # c\n  f(x), do: 1\n",
    b"def\n",
    b"def f(x) when\n",
    b"Kernel.def f(x), do: 1\n",
    b"def 'x', do: 1\n",
)


@settings(max_examples=100, deadline=None)
@given(sources())
def test_def_name_matches_its_composition(source: bytes) -> None:
    for extra in (source, *HEADS):
        for node in syntax.walk(parse_elixir(extra).root_node):
            assert syntax.def_name(node) == _def_name_composed(node), (extra, node)


@settings(max_examples=100, deadline=None)
@given(sources())
def test_around_with_accept_skips_refused_candidates(source: bytes) -> None:
    tree = parse_elixir(source)
    nodes = _all_named(tree.root_node)
    calls = [n for n in nodes if n.type == "call"]
    # Every call is a candidate, only definitions are answers: like filtering first.
    index = syntax.Enclosing(calls, lambda c: syntax.def_name(c) is not None)
    definitions = [c for c in calls if syntax.def_name(c) is not None]
    for node in nodes:
        decided, found = index.around(node)
        if decided:
            assert found == _climb(node, definitions), (source, node)
