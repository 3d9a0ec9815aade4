"""Ecto schema facts and repo-call resolution."""

from __future__ import annotations

from analyzers import syntax
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.facts import FactIndex
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts, RepoFacts, facts_from_sources
from analyzers.rules.ecto.calls import in_transaction, is_repo_module, repo_calls
from analyzers.rules.ecto.facts import SCHEMAS, Association
from tests.ruletools import dedent

POST = dedent(
    """
    defmodule MyApp.Blog.Post do
      use Ecto.Schema
      alias MyApp.Accounts.User
      alias MyApp.Blog.{Comment, Tag}

      schema "posts" do
        field :title, :string
        belongs_to :author, User
        has_many :comments, Comment
        many_to_many :tags, Tag, join_through: "posts_tags"
        has_one :cover, MyApp.Blog.Image
        timestamps()
      end
    end
    """
)


def context(source: str, facts: ProjectFacts | None = None) -> FileContext:
    """A file context for ``source`` (dedented) in a context module path."""
    data = dedent(source).encode("utf-8")
    return FileContext(
        data,
        "lib/my_app/blog.ex",
        "elixir",
        parse_elixir(data),
        config=Config(),
        facts=facts or ProjectFacts(),
    )


def test_schema_facts_resolve_aliases_and_follow_edits() -> None:
    index = FactIndex(".")
    index.update("lib/my_app/blog/post.ex", POST.encode())
    post = index.facts().get(SCHEMAS)["MyApp.Blog.Post"]
    assert post.source == "posts"
    assert post.fields == ("title", "author_id", "inserted_at", "updated_at")
    assert post.associations == (
        Association("author", "belongs_to", "MyApp.Accounts.User"),
        Association("comments", "has_many", "MyApp.Blog.Comment"),
        Association("tags", "many_to_many", "MyApp.Blog.Tag"),
        Association("cover", "has_one", "MyApp.Blog.Image"),
    )
    # The schema block is removed in the editor: the facts follow.
    index.update("lib/my_app/blog/post.ex", b"defmodule MyApp.Blog.Post do\nend\n")
    assert index.facts().get(SCHEMAS) == {}


def test_embedded_schema_has_no_table() -> None:
    source = dedent(
        """
        defmodule MyApp.Address do
          use Ecto.Schema
          embedded_schema do
            field :city, :string
          end
        end
        """
    )
    index = FactIndex(".")
    index.update("lib/my_app/address.ex", source.encode())
    address = index.facts().get(SCHEMAS)["MyApp.Address"]
    assert address.source is None
    assert address.fields == ("city",)


ALIASED = """
defmodule MyApp.Blog do
  alias MyApp.{Repo, Accounts}
  alias MyApp.Repo, as: DB
  alias MyApp.Cache.Repo, as: CacheRepo

  def run(post) do
    Repo.insert(post)
    DB.update(post)
    MyApp.Repo.delete(post)
    CacheRepo.insert(post)
    Accounts.get_user(1)
  end
end
"""


def test_repo_calls_resolve_aliases_against_workspace_repos() -> None:
    facts = ProjectFacts(root=".", repos={"MyApp.Repo": RepoFacts("MyApp.Repo")})
    ctx = context(ALIASED, facts)
    found = [(syntax.text(c.node.child_by_field_name("target")), c.module) for c in repo_calls(ctx)]
    assert found == [
        ("Repo.insert", "MyApp.Repo"),
        ("DB.update", "MyApp.Repo"),
        ("MyApp.Repo.delete", "MyApp.Repo"),
    ]


def test_without_workspace_repo_names_decide_unless_the_file_says_otherwise() -> None:
    ctx = context(ALIASED)
    assert is_repo_module(ctx, "MyApp.Repo")
    assert is_repo_module(ctx, "MyApp.Cache.Repo")
    assert not is_repo_module(ctx, "MyApp.Accounts")
    not_a_repo = context(
        """
        defmodule MyApp.Repo do
          def insert(x), do: x
        end
        """
    )
    assert not is_repo_module(not_a_repo, "MyApp.Repo")


def test_in_transaction_covers_transact_multi_and_local_helpers() -> None:
    ctx = context(
        """
        defmodule MyApp.Blog do
          alias MyApp.Repo
          alias Ecto.Multi

          def a(x), do: Repo.transaction(fn -> Repo.insert!(x) end)
          def b(x), do: Repo.transact(fn -> {:ok, Repo.insert!(x)} end)
          def c(x), do: Multi.new() |> Multi.run(:x, fn repo, _ -> Repo.insert(x) end)
          def d(x), do: Repo.transaction(fn -> helper(x) end)
          defp helper(x), do: Repo.insert!(x)
          def e(x), do: Repo.insert!(x)
        end
        """
    )
    inserts = [c for c in repo_calls(ctx) if c.function == "insert!" or c.function == "insert"]
    assert [in_transaction(ctx, c.node) for c in inserts] == [True, True, True, True, False]


def test_delegating_wrappers_and_macro_aliased_repos_are_repos() -> None:
    facts = facts_from_sources(
        ".",
        {
            "lib/my_app/repo.ex": dedent(
                """
                defmodule MyApp.RepoBase do
                  use Ecto.Repo, otp_app: :my_app, adapter: Ecto.Adapters.Postgres
                end

                defmodule MyApp.Repo do
                  alias MyApp.RepoBase
                  defdelegate all(queryable, opts \\\\ []), to: RepoBase
                  defdelegate insert(changeset, opts \\\\ []), to: RepoBase
                end
                """
            ).encode(),
            "config/config.exs": b"import Config\nconfig :my_app, MyApp.Mailer, adapter: Swoosh.Adapters.Local\n",
        },
    )
    ctx = context(
        """
        defmodule MyApp.Accounts do
          use MyApp.Context

          def create(cs), do: Repo.insert(cs)
          def send(email), do: MyApp.Mailer.deliver(email)
        end
        """,
        facts,
    )
    assert is_repo_module(ctx, "MyApp.Repo")
    assert is_repo_module(ctx, "MyApp.RepoBase")
    assert not is_repo_module(ctx, "MyApp.Mailer")
    # ``use MyApp.Context`` aliased Repo inside a macro: the one workspace repo of that name.
    assert [(c.module, c.function) for c in repo_calls(ctx)] == [("MyApp.Repo", "insert")]


def test_a_generated_repo_facade_beside_real_repos_is_a_repo() -> None:
    facade = dedent(
        """
        defmodule MyApp.Database.Repo do
          @moduledoc "An Ecto.Repo facade: picks the configured repo at run time."
          for {name, arity} <- [insert: 1, all: 1] do
            def unquote(name)(arg), do: impl().unquote(name)(arg)
          end
          defp impl, do: Application.fetch_env!(:my_app, :repo)
        end
        """
    )
    postgres = "defmodule MyApp.Database.RepoPostgres do\n  use Ecto.Repo, otp_app: :a\nend\n"
    other = dedent(
        """
        defmodule MyApp.Git.Repo do
          @moduledoc "Not an Ecto.Repo: a git repository."
          def insert(path), do: path
        end
        """
    )
    facts = facts_from_sources(
        ".",
        {
            "lib/database/repo.ex": facade.encode(),
            "lib/database/repo_postgres.ex": postgres.encode(),
            "lib/git/repo.ex": other.encode(),
        },
    )
    ctx = context("defmodule MyApp.X do\nend\n", facts)
    assert is_repo_module(ctx, "MyApp.Database.Repo")
    assert not is_repo_module(ctx, "MyApp.Git.Repo")
