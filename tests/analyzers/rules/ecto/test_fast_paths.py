"""The Ecto rules' "cannot concern this file" exits answer as the full computation would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from tree_sitter import Node

from analyzers import aliases, summaries
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.engine import analyze
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts, RepoFacts
from analyzers.rules.ecto import associations, calls, iteration, queries, raw_sql
from tests.ruletools import check, dedent

CONTEXT_PATH = "lib/my_app/blog.ex"
WEB_PATH = "lib/my_app_web/controllers/post_controller.ex"

SOURCES = [
    """
    defmodule MyApp.Blog do
      alias MyApp.Repo, as: DB
      alias Enum, as: E

      def list_posts, do: DB.all(Post)
      def titles(ids), do: E.map(ids, fn id -> DB.get!(Post, id) end)
      def names(ids), do: for(id <- ids, do: list_posts() ++ [id])
    end
    """,
    """
    defmodule MyAppWeb.PostController do
      # the repo
      alias(MyApp.Repo)
      alias MyApp.Blog.{Post, Comment}

      def index(conn, _params) do
        posts = Repo.all(Post)
        post = Repo.get!(Post, 1)
        render(conn, :index, posts: posts, comments: post.comments)
      end

      defmodule Helper do
        alias MyApp.Accounts
        def users(ids), do: Stream.map(ids, &Accounts.get_user!/1)
      end
    end
    """,
    """
    defmodule MyApp.Blog.Post do
      use Ecto.Schema
      schema "posts" do
        has_many :comments, MyApp.Blog.Comment
      end
    end

    defmodule MyApp.Blog do
      alias MyApp.{Repo, Blog.Post}
      def get_post(id), do: Repo.get(Post, id)
      def show(id) do
        post = Repo.get!(Post, id)
        post.comments
      end
      def each(ids), do: Enum.each(ids, fn id -> get_post(id) end)
    end
    """,
    """
    defmodule MyApp.Repo do
      use Ecto.Repo, otp_app: :my_app
    end

    defmodule MyApp.Other do
      def all, do: MyApp.Repo.all(Web.Post)
      def one(xs), do: Enum.map(xs, fn x -> MyApp.Repo.one(x) end)
    end
    """,
    """
    defmodule MyApp.Loops do
      alias MyApp.Repo
      def run(ids) do
        for id <- ids, x <- [1, 2] do
          Enum.map(Repo.all(id), fn y -> Stream.each(y, &Repo.get!(&1, x)) end)
        end
        Enum.reduce(ids, 0, fn id, acc -> acc + Repo.aggregate(id, :count) end) |> Repo.one()
        Enum.map([1, 2], fn id -> Repo.get(X, id) end)
      end
    end
    """,
    """
    defmodule MyApp.Reports do
      alias MyApp.Repo
      alias Ecto.Adapters.SQL
      def by_name(name), do: Repo.query("SELECT * FROM users WHERE name = '#{name}'")
      def by_kind(kind), do: SQL.query!(Repo, "SELECT * FROM t WHERE kind = " <> kind, [])
      def many(q), do: Repo.query_many(q <> " LIMIT 1")
    end
    """,
    """
    defmodule MyApp.Tasks do
      alias MyApp.Repo
      def run(ids), do: for(id <- ids, do: Repo.one(id))
      def touch(ids), do: Repo.update_all(ids, set: [seen: true])
    end
    """,
]


def ecto_findings(source: str, path: str) -> list[tuple[str, int, str, int]]:
    """The Ecto findings of ``source`` at ``path`` as (code, start, message, fixes)."""
    return [
        (f.code, f.start, f.message, len(f.fixes))
        for f in check(source, path)
        if f.code.startswith("EC")
    ]


@pytest.mark.parametrize("path", [CONTEXT_PATH, WEB_PATH])
@pytest.mark.parametrize("source", SOURCES)
def test_exits_change_no_finding(source: str, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = ecto_findings(source, path)
    monkeypatch.setattr(queries, "_may_be_web", lambda ctx: True)
    monkeypatch.setattr(queries, "_may_define_lookup", lambda ctx: True)
    monkeypatch.setattr(queries, "may_be_in_iteration", lambda ctx, calls: True)
    monkeypatch.setattr(iteration, "_mentions_iteration_module", lambda ctx: True)
    monkeypatch.setattr(associations, "_may_load", lambda ctx: True)
    monkeypatch.setattr(raw_sql, "_calls_query", lambda ctx: True)
    monkeypatch.setattr(aliases, "_SourceText", lambda root: None)
    aliases._recent = ()
    assert ecto_findings(source, path) == fast


@pytest.mark.parametrize("source", SOURCES)
def test_aliases_found_by_text_are_those_of_every_statement(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = parse_elixir(dedent(source).encode()).root_node
    aliases._recent = ()
    fast = [(m.start_byte, a) for m, a in aliases.aliases_by_module(root)]
    monkeypatch.setattr(aliases, "_SourceText", lambda root: None)
    aliases._recent = ()
    assert [(m.start_byte, a) for m, a in aliases.aliases_by_module(root)] == fast
    assert any(a.names for _, a in fast) == ("alias" in source)


@pytest.mark.parametrize("source", SOURCES)
def test_calls_outside_iteration_calls_are_in_no_body(source: str) -> None:
    data = dedent(source).encode()
    ctx = FileContext(
        data, CONTEXT_PATH, "elixir", parse_elixir(data), config=Config(), facts=ProjectFacts()
    )
    calls = ctx.nodes("call")
    inside = [c for c in calls if iteration.innermost_iteration(ctx, c) is not None]
    assert all(iteration.may_be_in_iteration(ctx, [c]) for c in inside)
    assert iteration.may_be_in_iteration(ctx, calls) == bool(
        [c for c in calls if iteration.may_be_in_iteration(ctx, [c])]
    )
    if "Enum." in source or "for(" in source:
        assert inside


def _ecto_context(source: str, path: str = CONTEXT_PATH) -> FileContext:
    data = dedent(source).encode()
    return FileContext(
        data, path, "elixir", parse_elixir(data), config=Config(), facts=ProjectFacts()
    )


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    "functions",
    [calls.READS, calls.WRITES, calls.TRANSACTIONS, calls.QUERIES, associations.LOADS],
)
def test_repo_calls_of_some_functions_are_those_of_all_repo_calls(
    source: str, functions: frozenset[str]
) -> None:
    ctx = _ecto_context(source)
    some = calls.repo_calls_of(ctx, functions)
    assert some == [c for c in calls.repo_calls(ctx) if c.function in functions]


LOOPLESS = """
defmodule MyApp.Blog do
  alias MyApp.Repo
  def get_post(id), do: Repo.get(Post, id)
  def titles, do: Repo.all(Post) |> Enum.map(& &1.title)
  def rename(post, title), do: Map.update(post, :title, title, &String.trim/1)
end
"""


@pytest.mark.parametrize("source", [LOOPLESS, *SOURCES])
def test_a_one_off_analysis_gathers_a_summary_only_where_a_finding_needs_it(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gathered: list[str] = []
    original = summaries.unit_summary

    def recording(ctx: FileContext, key: str, contributions: Mapping[int, Iterable[str]]) -> Any:
        gathered.append(key)
        return original(ctx, key, contributions)

    monkeypatch.setattr(summaries, "unit_summary", recording)
    text = dedent(source).encode()
    one_off = analyze(text, CONTEXT_PATH)
    one_off_gathered = list(gathered)
    gathered.clear()
    incremental = analyze(text, CONTEXT_PATH, incremental=True)
    assert sorted(gathered) == ["ecto.local_lookups", "ecto.transaction_helpers"]
    assert [(f.code, f.start, f.message) for f in one_off.findings] == [
        (f.code, f.start, f.message) for f in incremental.findings
    ]
    if source is LOOPLESS:
        # No read in a loop asks which local functions read, and no write asks which
        # functions run in a transaction.
        assert one_off_gathered == []


RENAMING = [
    """
    defmodule MyApp.Store do
      alias MyApp.Repo, as: Map
      def touch(post), do: Map.update(post)
    end
    """,
    """
    defmodule MyApp.Store do
      alias MyApp.Repo, "as": Store
      alias MyApp.ReadRepo
      def touch(post), do: Store.update(post) && ReadRepo.insert(post) && Keyword.delete(x, :a)
    end
    """,
    """
    defmodule MyApp.Database do
      use Ecto.Repo, otp_app: :my_app
      def save(x), do: __MODULE__.insert(x)
    end

    defmodule MyApp.Store do
      alias MyApp.Database
      def touch(post), do: Database.update(post) && __MODULE__.Repo.insert(post)
      def erase(x), do: :ets.delete(x) && Map.delete(x, :a) && repo().delete(x)
    end
    """,
]
FACTS = [
    ProjectFacts(),
    ProjectFacts(root=".", repos={"MyApp.Database": RepoFacts("MyApp.Database")}),
    ProjectFacts(root=".", repos={"MyApp.Repo": RepoFacts("MyApp.Repo")}),
]


@pytest.mark.parametrize("facts", FACTS)
@pytest.mark.parametrize("source", [*SOURCES, *RENAMING])
def test_receivers_that_cannot_name_a_repo_are_not_resolved(
    source: str, facts: ProjectFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    def repo_calls_at(ctx: FileContext) -> list[tuple[int, str, str]]:
        return [(c.node.start_byte, c.module, c.function) for c in calls.repo_calls(ctx)]

    data = dedent(source).encode()
    tree = parse_elixir(data)
    fast = FileContext(data, CONTEXT_PATH, "elixir", tree, config=Config(), facts=facts)
    expected = repo_calls_at(fast)
    monkeypatch.setattr(calls, "_may_name_repo", lambda ctx, target: True)
    slow = FileContext(data, CONTEXT_PATH, "elixir", tree, config=Config(), facts=facts)
    assert repo_calls_at(slow) == expected
    if source in RENAMING and not facts.repos:
        assert expected, "each renaming example calls a repo through a name not ending in Repo"


CHAINED = """
defmodule MyApp.Chains do
  def run(ids), do: Enum.map(ids, fn id -> Repo.get(X, id) end).all(Repo.all(q)) |> Enum.each(& &1.a.b())
end
"""


def _function_identifier(call: Node) -> Node:
    target = call.child_by_field_name("target")
    assert target is not None
    right = target.child_by_field_name("right") if target.type == "dot" else target
    assert right is not None
    return right


@pytest.mark.parametrize("source", [*SOURCES, CHAINED])
def test_calls_and_their_identifiers_lie_in_the_same_iterations(source: str) -> None:
    ctx = _ecto_context(source)
    for name in sorted(ctx.call_names()):
        calls_ = ctx.calls_named([name])
        targets = ctx.call_targets([name])
        assert sorted(t.start_byte for t in targets) == sorted(
            _function_identifier(c).start_byte for c in calls_
        )
        for call in calls_:
            alone = iteration.may_be_in_iteration(ctx, [call])
            assert iteration.may_be_in_iteration(ctx, [_function_identifier(call)]) == alone
