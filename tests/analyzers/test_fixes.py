"""Unit tests for the shared edit builders in analyzers.fixes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from analyzers import syntax
from analyzers.edits import apply_edits
from analyzers.fixes import add_keyword_option, insert_module_attributes, line_ending
from analyzers.parsing import parse_elixir
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_parses, dedent


def _first_call(source: bytes, name: str) -> Node:
    for node in syntax.walk(parse_elixir(source).root_node):
        if node.type == "call" and syntax.call_name(node) == name:
            return node
    raise AssertionError(f"no call {name} in {source!r}")


def _with_option(source: str, name: str, key: str, value: str) -> str:
    data = source.encode("utf-8")
    edit = add_keyword_option(data, _first_call(data, name), key, value)
    return apply_edits(data, [edit]).decode("utf-8")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("f(a)", "f(a, k: true)"),
        ("f(a, x: 1)", "f(a, x: 1, k: true)"),
        ("f(a, [x: 1])", "f(a, [x: 1, k: true])"),
        ("f a, b", "f a, b, k: true"),
        ("f a, x: 1", "f a, x: 1, k: true"),
        ("f()", "f(k: true)"),
        ("f(a, [1, 2])", "f(a, [1, 2], k: true)"),
        ("f(a, [])", "f(a, [], k: true)"),
        ('f(a, "x", y: [z: 1])', 'f(a, "x", y: [z: 1], k: true)'),
        ("f(a, y: [k: 1])", "f(a, y: [k: 1], k: true)"),
        ("Mod.f(a)", "Mod.f(a, k: true)"),
        ("Repo.all", "Repo.all(k: true)"),
    ],
)
def test_add_keyword_option_inline_shapes(
    source: str, expected: str, elixir_parser: ElixirParser
) -> None:
    name = "Mod.f" if source.startswith("Mod.") else "Repo.all" if "Repo" in source else "f"
    result = _with_option(source, name, "k", "true")
    assert result == expected
    assert_parses(result, elixir_parser)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("f(a, k: false)", "f(a, k: true)"),
        ("f(a, [k: false, x: 1])", "f(a, [k: true, x: 1])"),
        ("f a, x: 1, k: :other", "f a, x: 1, k: true"),
        ('f(a, "k": false)', 'f(a, "k": true)'),
    ],
)
def test_add_keyword_option_replaces_existing_value(
    source: str, expected: str, elixir_parser: ElixirParser
) -> None:
    result = _with_option(source, "f", "k", "true")
    assert result == expected
    assert result.count("k") == expected.count("k")
    assert_parses(result, elixir_parser)


def test_add_keyword_option_keeps_one_option_per_line(elixir_parser: ElixirParser) -> None:
    source = dedent(
        """
        create index(:posts, [:user_id],
                 name: :posts_user_id_index,
                 where: "deleted_at IS NULL"
               )
        """
    )
    expected = dedent(
        """
        create index(:posts, [:user_id],
                 name: :posts_user_id_index,
                 where: "deleted_at IS NULL",
                 concurrently: true
               )
        """
    )
    result = _with_option(source, "index", "concurrently", "true")
    assert result == expected
    assert_parses(result, elixir_parser)


def test_add_keyword_option_one_argument_per_line(elixir_parser: ElixirParser) -> None:
    source = dedent(
        """
        create index(
          :posts,
          [:user_id]
        )
        """
    )
    expected = dedent(
        """
        create index(
          :posts,
          [:user_id],
          concurrently: true
        )
        """
    )
    result = _with_option(source, "index", "concurrently", "true")
    assert result == expected
    assert_parses(result, elixir_parser)


def test_add_keyword_option_multiline_bracket_list(elixir_parser: ElixirParser) -> None:
    source = dedent(
        """
        f(a, [
          x: 1
        ])
        """
    )
    expected = dedent(
        """
        f(a, [
          x: 1,
          k: true
        ])
        """
    )
    result = _with_option(source, "f", "k", "true")
    assert result == expected
    assert_parses(result, elixir_parser)


def test_add_keyword_option_keeps_trailing_comment(elixir_parser: ElixirParser) -> None:
    source = "f(a, x: 1) # why\n"
    result = _with_option(source, "f", "k", "true")
    assert result == "f(a, x: 1, k: true) # why\n"
    assert_parses(result, elixir_parser)


def test_add_keyword_option_on_piped_call(elixir_parser: ElixirParser) -> None:
    result = _with_option(":posts |> index([:a]) |> create()", "index", "concurrently", "true")
    assert result == ":posts |> index([:a], concurrently: true) |> create()"
    assert_parses(result, elixir_parser)


def test_add_keyword_option_with_do_block(elixir_parser: ElixirParser) -> None:
    source = "create table(:posts) do\n  add :a, :string\nend\n"
    result = _with_option(source, "create", "k", "true")
    assert result == "create table(:posts), k: true do\n  add :a, :string\nend\n"
    assert_parses(result, elixir_parser)


def test_add_keyword_option_rejects_non_calls() -> None:
    data = b"x + 1"
    node = parse_elixir(data).root_node.named_children[0]
    with pytest.raises(ValueError, match="call"):
        add_keyword_option(data, node, "k", "true")


def test_line_ending_detection() -> None:
    assert line_ending(b"a\nb") == "\n"
    assert line_ending(b"a\r\nb\n") == "\r\n"
    assert line_ending(b"a\rb") == "\r"
    assert line_ending(b"one line") == "\n"


def test_insert_module_attributes_after_a_line() -> None:
    source = b"defmodule M do\n  use Ecto.Migration\n\n  def change, do: :ok\nend\n"
    at = source.index(b"\n", source.index(b"use"))
    edit = insert_module_attributes(source, at, "  ", [("a", "true"), ("b", "true")])
    assert apply_edits(source, [edit]) == (
        b"defmodule M do\n  use Ecto.Migration\n  @a true\n  @b true\n\n"
        b"  def change, do: :ok\nend\n"
    )


def test_insert_module_attributes_keeps_crlf_pairs_whole() -> None:
    source = b"defmodule M do\r\n  use Ecto.Migration\r\nend\r\n"
    at = source.index(b"\n", source.index(b"use"))  # the \n of a \r\n pair
    edit = insert_module_attributes(source, at, "  ", [("a", "true")])
    assert apply_edits(source, [edit]) == (
        b"defmodule M do\r\n  use Ecto.Migration\r\n  @a true\r\nend\r\n"
    )


def test_insert_module_attributes_before_a_line() -> None:
    source = b"defmodule M do\n  def change, do: :ok\nend\n"
    at = source.index(b"  def")
    edit = insert_module_attributes(source, at, "  ", [("a", "true")])
    assert apply_edits(source, [edit]) == b"defmodule M do\n  @a true\n  def change, do: :ok\nend\n"


def test_insert_module_attributes_at_end_of_file() -> None:
    source = b"use Ecto.Migration"
    edit = insert_module_attributes(source, len(source), "", [("a", "true")])
    assert apply_edits(source, [edit]) == b"use Ecto.Migration\n@a true"


def test_insert_module_attributes_needs_attributes() -> None:
    with pytest.raises(ValueError):
        insert_module_attributes(b"x\n", 1, "", [])


def test_identical_requests_give_identical_edits() -> None:
    source = b"defmodule M do\n  use Ecto.Migration\nend\n"
    at = source.index(b"\n", source.index(b"use"))
    first = insert_module_attributes(source, at, "  ", [("a", "true")])
    second = insert_module_attributes(source, at, "  ", [("a", "true")])
    assert first == second


_ARGUMENT = st.sampled_from([":posts", "[:a, :b]", '"posts"', "x", "%{a: 1}", "{1, 2}", "[]"])
_OPTION = st.sampled_from(["name: :idx", 'where: "x > 1"', "k: false", "unique: true", "k: nil"])


@settings(max_examples=150, deadline=None)
@given(
    args=st.lists(_ARGUMENT, min_size=0, max_size=3),
    options=st.lists(_OPTION, max_size=3, unique_by=lambda o: o.split(":")[0]),
    parens=st.booleans(),
    bracketed=st.booleans(),
    multiline=st.booleans(),
)
def test_add_keyword_option_always_sets_the_key_once(
    elixir_parser: ElixirParser,
    args: list[str],
    options: list[str],
    parens: bool,
    bracketed: bool,
    multiline: bool,
) -> None:
    if not args and not parens:
        args = [":posts"]
    written_options = ", ".join(options)
    if options and bracketed:
        written_options = f"[{written_options}]"
    parts = [*args, written_options] if options else args
    separator = ",\n  " if multiline and parens else ", "
    inner = separator.join(parts)
    source = f"f({inner})" if parens else f"f {inner}"
    if multiline and parens:
        source = f"f(\n  {inner}\n)"
    result = _with_option(source, "f", "k", "true").encode()
    tree = parse_elixir(result)
    assert not tree.root_node.has_error, result
    assert elixir_parser.check(result.decode()) is None, result
    call = _first_call(result, "f")
    pairs = syntax.keyword_pairs(syntax.options_node(call))
    assert [syntax.text(v) for name, _p, v in pairs if name == "k"] == ["true"]
    others = [syntax.text(p) for name, p, _v in pairs if name != "k"]
    assert others == [o for o in options if not o.startswith("k:")]
    assert len(syntax.positional_args(call)) == len(args)
