"""Module-name resolution as Elixir does it: alias, as:, multi-alias, __MODULE__, nesting."""

from __future__ import annotations

from hypothesis import given, settings
from tree_sitter import Node

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_at, aliases_by_module, module_aliases
from analyzers.parsing import parse_elixir
from tests.analyzers.test_syntax import sources

SOURCE = b"""defmodule MyApp.Blog do
  alias MyApp.Repo
  alias MyApp.{Accounts, Blog.Post}
  alias MyApp.Accounts.User, as: U
  alias __MODULE__.Comment

  def x(post) do
    Repo.insert(%Post{})
    U.get(1)
    Comment.new()
    Accounts.Token.build()
    post.comments
    :ets.new(:a, [])
    __MODULE__.list()
    Other.Repo.all()
  end

  defmodule Inner do
    def y, do: Repo.all(Inner)
  end
end

defmodule Elsewhere do
  def z, do: Repo.all()
end
"""


def targets() -> dict[str, tuple[str, str] | None]:
    tree = parse_elixir(SOURCE)
    out: dict[str, tuple[str, str] | None] = {}
    for node in syntax.walk(tree.root_node):
        if node.type == "call" and "." in (syntax.call_name(node) or ""):
            aliases = aliases_at(tree.root_node, node)
            assert aliases is not None
            out[syntax.text(node)] = aliases.call_target(node)
    return out


def test_calls_resolve_to_full_module_names() -> None:
    found = targets()
    assert found["Repo.insert(%Post{})"] == ("MyApp.Repo", "insert")
    assert found["U.get(1)"] == ("MyApp.Accounts.User", "get")
    assert found["Comment.new()"] == ("MyApp.Blog.Comment", "new")
    assert found["Accounts.Token.build()"] == ("MyApp.Accounts.Token", "build")
    assert found[":ets.new(:a, [])"] == (":ets", "new")
    assert found["__MODULE__.list()"] == ("MyApp.Blog", "list")
    assert found["Other.Repo.all()"] == ("Other.Repo", "all")


def test_nested_modules_inherit_aliases_and_others_do_not() -> None:
    found = targets()
    assert found["Repo.all(Inner)"] == ("MyApp.Repo", "all")
    assert found["Repo.all()"] == ("Repo", "all")


def test_field_access_is_not_a_module_call() -> None:
    assert targets()["post.comments"] is None


def _aliases_by_module_reference(root: Node) -> list[tuple[Node, ModuleAliases]]:
    """Every module with its aliases, one ``module_aliases`` call per module (pre-order)."""
    found: list[tuple[Node, ModuleAliases]] = []

    def visit(node: Node, parent: ModuleAliases | None) -> None:
        for child in node.named_children:
            if syntax.identifier_target(child) == b"defmodule":
                aliases = module_aliases(child, parent)
                found.append((child, aliases))
                visit(syntax.do_block(child) or child, aliases)

    visit(root, None)
    return found


NESTED = (
    b"defmodule A do\n  alias X.Y\n  defmodule B do\n    alias Z.W, as: Q\n"
    b"    defmodule C, do: (alias R.S)\n  end\n  alias Late.One\n  # defmodule D\nend\n"
    b"defmodule E, do: defmodule(F, do: 1)\ndefmodule G do\nrescue\n  defmodule H do end\nend\n"
)


@settings(max_examples=150, deadline=None)
@given(sources())
def test_aliases_by_module_matches_one_module_at_a_time(source: bytes) -> None:
    for text in (source, NESTED, SOURCE):
        root = parse_elixir(text).root_node
        found = [(m, a.module, a.names) for m, a in aliases_by_module(root)]
        expected = [(m, a.module, a.names) for m, a in _aliases_by_module_reference(root)]
        assert found == expected, text
