"""Module-name resolution as Elixir does it: alias, as:, multi-alias, __MODULE__, nesting."""

from __future__ import annotations

from analyzers import syntax
from analyzers.aliases import aliases_at
from analyzers.parsing import parse_elixir

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
