"""A definition that does not parse is set aside; the rest of the file keeps its hints."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers import broken
from analyzers.config import Config
from analyzers.engine import analyze
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from analyzers.units import definition_layout

PATH = "lib/my_app/shop.ex"
SHOP = """\
defmodule MyApp.Shop do
  alias MyApp.Repo
  alias MyApp.Shop.{Order, User}

  @doc "Owners, one query each."
  def list_owners(orders) do
    Enum.map(orders, fn order -> Repo.get!(User, order.user_id) end)
  end

  def place(attrs) do
    WHERE
  end

  def get_user(id), do: Repo.get(User, id)

  defp record(order) do
    Repo.insert!(order)
    Repo.update!(order)
  end
end
"""
# What a user has half-typed inside `place/1` at each keystroke of a burst.
HALF_TYPED = ("Repo.get!(", "Repo.get!(User, i", "x =", "Enum.filter(&(&1.active")


def _source(body: str) -> bytes:
    return SHOP.replace("WHERE", body).encode()


def _codes(source: bytes) -> Counter[str]:
    return Counter(f.code for f in analyze(source, PATH).findings)


def test_lexical_definitions_follow_formatter_layout() -> None:
    source = _source("{:ok, order} = Repo.insert(attrs)")
    spans = broken.lexical_definitions(source)
    texts = [source[s:e].decode() for s, e in spans]
    assert texts[0].startswith("def list_owners(orders) do") and texts[0].endswith("\n  end")
    assert texts[2] == "def get_user(id), do: Repo.get(User, id)"
    assert texts[3].startswith("defp record(order) do") and texts[3].endswith("end")
    # On well-formed code they are exactly the parser's definitions.
    assert spans == list(definition_layout(parse_elixir(source)).spans)


def test_multi_line_heads_and_one_liners_continued_on_the_next_line() -> None:
    source = b"""defmodule M do
  def long(
        a,
        b
      ) do
    a + b
  end

  defp short(x),
    do: x
end
"""
    texts = [source[s:e] for s, e in broken.lexical_definitions(source)]
    assert texts[0].startswith(b"def long(") and texts[0].endswith(b"a + b\n  end")
    assert texts[1] == b"defp short(x),\n    do: x"


def test_stand_in_keeps_length_and_line_breaks_and_parses_as_a_definition() -> None:
    text = b"def place(attrs) do\r\n    Repo.get!(\n  end"
    blank = broken.stand_in(text)
    assert len(blank) == len(text)
    assert [i for i, b in enumerate(blank) if b in b"\r\n"] == [
        i for i, b in enumerate(text) if b in b"\r\n"
    ]
    assert blank.startswith(b"def x do") and blank.endswith(b"end")
    module = b"defmodule M do\n  " + blank + b"\nend\n"
    tree = parse_elixir(module)
    assert not tree.root_node.has_error
    assert len(definition_layout(tree).spans) == 1
    # No room for `def x do` on the first line: spaces only.
    assert broken.stand_in(b"def f(\n x) do\n end").strip() == b""


def test_clean_files_and_errors_inside_one_definition_are_not_touched() -> None:
    clean = _source("{:ok, order} = Repo.insert(attrs)")
    assert broken.set_aside(clean, parse_elixir(clean)) is None
    # An unclosed list: the parser keeps the error inside `place/1`.
    confined = _source("[1, 2")
    tree = parse_elixir(confined)
    assert tree.root_node.has_error
    assert broken.set_aside(confined, tree) is None


def test_a_bracket_left_open_sets_aside_only_its_definition() -> None:
    clean_codes = _codes(_source(":ok"))
    assert clean_codes["EC001"] == 1 and clean_codes["EC002"] == 1
    for half in HALF_TYPED:
        source = _source(half)
        tree = parse_elixir(source)
        assert broken.needs_setting_aside(tree), half
        aside = broken.set_aside(source, tree)
        assert aside is not None, half
        [(start, end)] = aside.spans
        assert source[start:end].startswith(b"def place(attrs) do")
        # Every other definition keeps its hints, at the same offsets as in the clean file.
        assert _codes(source) == clean_codes, half


def test_findings_keep_the_real_offsets_and_drop_fixes_into_set_aside_code() -> None:
    source = _source("Repo.get!(User, i")
    clean = _source(":ok")
    shift = len(source) - len(clean)
    place = clean.index(b"  def place")
    moved = [
        (f.code, f.start + (shift if f.start > place else 0)) for f in analyze(clean, PATH).findings
    ]
    assert [(f.code, f.start) for f in analyze(source, PATH).findings] == moved
    aside = broken.set_aside(source, parse_elixir(source))
    assert aside is not None
    for finding in analyze(source, PATH).findings:
        assert not aside.covers(finding.start, finding.end)
        for fix in finding.fixes:
            assert all(not aside.covers(e.start, e.end) for e in fix.edits)


def test_the_incremental_parse_from_a_base_gives_the_same_findings() -> None:
    config, facts = Config(), ProjectFacts()
    clean = _source(":ok")
    base = (clean, parse_elixir(clean))
    for half in HALF_TYPED:
        source = _source(half)
        tree = parse_elixir(source)
        with_base = analyze(source, PATH, config=config, facts=facts, tree=tree, base=base)
        without = analyze(source, PATH, config=config, facts=facts, tree=tree)
        assert with_base.findings == without.findings


_PIECES = st.sampled_from(["(", ")", "[", "%{", "}", "fn x ->", "end", "do", " =", "\n", "x", "|>"])


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=8))
def test_any_half_typed_body_keeps_the_other_definitions_hints_or_is_left_as_parsed(
    pieces: list[str],
) -> None:
    source = _source("".join(pieces))
    tree = parse_elixir(source)
    aside = broken.set_aside(source, tree)
    findings = analyze(source, PATH).findings
    if aside is not None and not broken.needs_setting_aside(parse_elixir(aside.source)):
        assert all(not aside.covers(f.start, f.end) for f in findings)
        outside_place = [f.code for f in findings]
        assert Counter(outside_place) == _codes(_source(":ok"))
