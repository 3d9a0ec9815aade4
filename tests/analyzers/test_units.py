"""Unit layouts and the change detection incremental analysis relies on, against plain versions.

The fast paths (node kinds by id, keywords sliced from the source, comparing
only the units around an edit) must give exactly what the obvious
computations give, on real files and on randomly edited, often broken, ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Tree

from analyzers import parsing, syntax, units
from analyzers.parsing import parse_elixir
from tests.analyzers.test_incremental import CONTEXT, MIGRATIONS, SNIPPETS

EXAMPLES = sorted(Path(__file__).parents[2].joinpath("examples").rglob("*.ex*"))

NESTED = """\
defmodule Outer do
  # a comment among the definitions
  @moduledoc false
  def a(x), do: x

  defmodule Inner do
    defp b(y) do
      y
    end

    defmacro c(z), do: z
  end

  def d(# a comment inside the call
        x), do: x

  def(e(x), do: x)
  defmacrop f(w), do: w
  Kernel.def(g, do: 1)
  def.(h)
  default(1)
end

defmodule Other, do: def(i, do: 2)
"""
# ``Other`` has no do-block: its definition is no unit.

EXTRA_SNIPPETS = [*SNIPPETS, "# note\n", "defmodule X do\n", "def.(x)", ";", '"""', "\\"]

_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _keyword_slow(node: Node) -> bytes | None:
    # The layout's original reading: the target field, its type by name, Node.text.
    if node.type != "call":
        return None
    target = node.child_by_field_name("target")
    return target.text if target is not None and target.type == "identifier" else None


def _layout_slow(tree: Tree, scope: str) -> units.Layout:
    modules = [
        n
        for n in tree.root_node.named_children
        if n.type != "comment" and _keyword_slow(n) == b"defmodule"
    ]
    if scope == units.MODULE:
        return units.Layout(tuple((n.start_byte, n.end_byte) for n in modules))
    spans: list[tuple[int, int]] = []
    while modules:
        block = syntax.do_block(modules.pop())
        for child in block.named_children if block is not None else []:
            keyword = _keyword_slow(child)
            if keyword in {b"def", b"defp", b"defmacro", b"defmacrop"}:
                spans.append((child.start_byte, child.end_byte))
            elif keyword == b"defmodule":
                modules.append(child)
    return units.Layout(tuple(sorted(spans)))


def _changed_units_slow(
    old_source: bytes, old: units.Layout, new_source: bytes, new: units.Layout
) -> list[int] | None:
    # Every gap and every unit text compared.
    if len(old.spans) != len(new.spans) or old.gaps(old_source) != new.gaps(new_source):
        return None
    pairs = zip(old.texts(old_source), new.texts(new_source), strict=True)
    return [i for i, (before, after) in enumerate(pairs) if before != after]


def _changed_span_slow(old: bytes, new: bytes) -> tuple[int, int, int]:
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(old), len(new)) - prefix
        and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
    ):
        suffix += 1
    return prefix, len(old) - suffix, len(new) - suffix


@st.composite
def edited(draw: st.DrawFn, base: str) -> str:
    """``base`` after up to four random edits (snippets, brackets, comments, junk)."""
    text = base
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + draw(st.sampled_from([0, 1, 9, 60])))))
        inserted = draw(
            st.sampled_from(EXTRA_SNIPPETS) | st.text(alphabet="defpx_(){}|>.:#\n ", max_size=5)
        )
        text = text[:start] + inserted + text[end:]
    return text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_layouts_of_the_example_files_match_the_field_lookups(path: Path) -> None:
    source = path.read_bytes()
    tree = parse_elixir(source)
    for scope in (units.MODULE, units.DEFINITION):
        assert units.layout(tree, scope, source) == _layout_slow(tree, scope)
        assert units.layout(tree, scope) == _layout_slow(tree, scope)


def test_nested_modules_comments_and_lookalike_calls() -> None:
    source = NESTED.encode()
    tree = parse_elixir(source)
    assert not tree.root_node.has_error
    found = units.definition_layout(tree, source)
    assert found == _layout_slow(tree, units.DEFINITION)
    texts = [text.split(b"(")[0].split(b",")[0] for text in found.texts(source)]
    assert texts == [
        b"def a",
        b"defp b",
        b"defmacro c",
        b"def d",
        b"def",
        b"defmacrop f",
    ]


@_settings
@given(data=st.data(), base=st.sampled_from([CONTEXT, MIGRATIONS, NESTED]))
def test_layouts_of_edited_files_match_the_field_lookups(data: st.DataObject, base: str) -> None:
    source = data.draw(edited(base)).encode()
    tree = parse_elixir(source)
    for scope in (units.MODULE, units.DEFINITION):
        assert units.layout(tree, scope, source) == _layout_slow(tree, scope)


@_settings
@given(data=st.data(), base=st.sampled_from([CONTEXT, MIGRATIONS, NESTED]))
def test_changed_units_matches_comparing_every_unit_and_gap(data: st.DataObject, base: str) -> None:
    old = data.draw(edited(base)).encode()
    new = data.draw(edited(old.decode())).encode()
    for scope in (units.MODULE, units.DEFINITION):
        before = units.layout(parse_elixir(old), scope, old)
        after = units.layout(parse_elixir(new), scope, new)
        expected = _changed_units_slow(old, before, new, after)
        assert units.changed_units(old, before, new, after) == expected


def test_changed_units_sees_an_edit_that_keeps_every_offset() -> None:
    old = CONTEXT.encode()
    new = CONTEXT.replace("Repo.get(User, id)", "Repo.get(Uzer, id)").encode()
    before = units.definition_layout(parse_elixir(old), old)
    after = units.definition_layout(parse_elixir(new), new)
    assert before == after
    assert units.changed_units(old, before, new, after) == [0]


def test_changed_units_sees_same_length_edits_far_apart() -> None:
    # One stretch from the first unit to the last: every unit in it is compared.
    old = CONTEXT.encode()
    new = CONTEXT.replace("Repo.get(User", "Repo.get(Uzer").replace(
        "Repo.update!(order)", "Repo.update!(ordex)"
    )
    before = units.definition_layout(parse_elixir(old), old)
    after = units.definition_layout(parse_elixir(new.encode()), new.encode())
    assert units.changed_units(old, before, new.encode(), after) == [0, len(before.spans) - 1]


def test_changed_units_refuses_a_skeleton_edit_and_a_new_unit() -> None:
    old = CONTEXT.encode()
    before = units.definition_layout(parse_elixir(old), old)
    renamed = CONTEXT.replace("alias MyApp.Repo", "alias MyApp.Rep0").encode()
    after = units.definition_layout(parse_elixir(renamed), renamed)
    assert units.changed_units(old, before, renamed, after) is None
    added = CONTEXT.replace("  defp helper", "  def more, do: 1\n  defp helper").encode()
    after = units.definition_layout(parse_elixir(added), added)
    assert units.changed_units(old, before, added, after) is None


@settings(max_examples=300, deadline=None)
@given(
    common=st.binary(max_size=40),
    old=st.binary(max_size=6),
    new=st.binary(max_size=6),
    tail=st.binary(max_size=700),
    repeat=st.integers(1, 30),
)
def test_changed_span_matches_a_byte_by_byte_scan(
    common: bytes, old: bytes, new: bytes, tail: bytes, repeat: int
) -> None:
    # Long repeated stretches exercise the growing and halving comparisons.
    before = common * repeat + old + tail
    after = common * repeat + new + tail
    assert parsing.changed_span(before, after) == _changed_span_slow(before, after)
    assert parsing.changed_span(after, before) == _changed_span_slow(after, before)


def test_changed_span_of_equal_and_empty_sources() -> None:
    assert parsing.changed_span(b"", b"") == (0, 0, 0)
    assert parsing.changed_span(b"abc", b"abc") == (3, 3, 3)
    assert parsing.changed_span(b"", b"xy") == (0, 0, 2)
    assert parsing.changed_span(b"aa", b"aaa") == (2, 2, 3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=30, unique=True).map(sorted), st.integers(0, 6000))
def test_unit_at_matches_a_scan(bounds: list[int], offset: int) -> None:
    spans = tuple(zip(bounds[0::2], bounds[1::2], strict=False))
    layout = units.Layout(spans)
    expected = next((i for i, (a, b) in enumerate(spans) if a <= offset < b), None)
    assert layout.unit_at(offset) == expected


def test_gaps_and_skeleton() -> None:
    layout = units.Layout(((2, 4), (4, 6), (8, 9)))
    assert layout.gaps(b"abcdefghij") == [b"ab", b"", b"gh", b"j"]
    assert layout.skeleton(b"abcdefghij") == b"ab\0\0gh\0j"
    assert units.Layout(()).gaps(b"abc") == [b"abc"]
    assert [layout.gap_start(i) for i in range(4)] == [0, 4, 6, 9]
