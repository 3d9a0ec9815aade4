"""EC005 unloaded-association, with schema facts from other files."""

from __future__ import annotations

import pytest

from analyzers.project import ProjectFacts, facts_from_sources
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_fixed, dedent, flagged_text, only

PATH = "lib/my_app/blog.ex"
POST = dedent(
    """
    defmodule MyApp.Blog.Post do
      use Ecto.Schema
      alias MyApp.Blog.Comment

      schema "posts" do
        field :title, :string
        belongs_to :author, MyApp.Accounts.User
        has_many :comments, Comment
        timestamps()
      end
    end
    """
)
REPO = "defmodule MyApp.Repo do\n  use Ecto.Repo, otp_app: :my_app\nend\n"


def facts() -> ProjectFacts:
    """A workspace with a repo and the Post schema."""
    return facts_from_sources(
        ".", {"lib/my_app/blog/post.ex": POST.encode(), "lib/my_app/repo.ex": REPO.encode()}
    )


def blog(body: str) -> str:
    """A context module whose body is ``body``."""
    lines = "\n".join(f"  {line}" if line else "" for line in body.strip("\n").split("\n"))
    return (
        "defmodule MyApp.Blog do\n"
        "  import Ecto.Query\n"
        "  alias MyApp.Repo\n"
        "  alias MyApp.Blog.Post\n"
        "\n"
        f"{lines}\n"
        "end\n"
    )


def ec005(source: str, workspace: ProjectFacts | None = None) -> list[str]:
    """Texts flagged by EC005."""
    found = only("EC005", source, PATH, facts=workspace or facts())
    return [flagged_text(source, f) for f in found]


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        (
            "def comment_count(id) do\n  post = Repo.get!(Post, id)\n  length(post.comments)\nend",
            ["post.comments"],
        ),
        (
            "def author_name(slug) do\n"
            "  post = Repo.get_by!(Post, slug: slug)\n"
            "  post.author.name\n"
            "end",
            ["post.author"],
        ),
        (
            "def latest_comments do\n"
            "  post = Repo.one(from p in Post, order_by: [desc: p.id], limit: 1)\n"
            "  Enum.map(post.comments, & &1.body)\n"
            "end",
            ["post.comments"],
        ),
        (
            "def titles(id) do\n"
            "  post = Post |> where(id: ^id) |> Repo.one!()\n"
            "  {post.title, post.comments, post.comments}\n"
            "end",
            ["post.comments"],
        ),
        (
            # Preloading another association does not load this one.
            "def comments(id) do\n"
            "  post = Repo.one!(from p in Post, where: p.id == ^id, preload: [:author])\n"
            "  post.comments\n"
            "end",
            ["post.comments"],
        ),
    ],
)
def test_association_read_without_preload(body: str, flagged: list[str]) -> None:
    assert ec005(blog(body)) == flagged


def test_message_names_record_association_and_load() -> None:
    source = blog("def f(id) do\n  post = Repo.get!(Post, id)\n  post.comments\nend")
    [finding] = only("EC005", source, PATH, facts=facts())
    assert finding.message == (
        "`post.comments` is not loaded: `post` comes from `Repo.get!` without preloading `:comments`"
    )


@pytest.mark.parametrize(
    "body",
    [
        "def f(id) do\n  post = Repo.get!(Post, id) |> Repo.preload(:comments)\n  post.comments\nend",
        "def f(id) do\n"
        "  post = Repo.one!(from p in Post, where: p.id == ^id, preload: [comments: :author])\n"
        "  post.comments\n"
        "end",
        "def f(id) do\n  post = Post |> preload(:comments) |> Repo.get!(id)\n  post.comments\nend",
        "def f(id) do\n"
        "  post = Repo.get!(Post, id)\n"
        "  post = Repo.preload(post, [:comments, :author])\n"
        "  {post.comments, post.author}\n"
        "end",
        "def f(id, preloads) do\n"
        "  post = Repo.one!(from p in Post, where: p.id == ^id, preload: ^preloads)\n"
        "  post.comments\n"
        "end",
        # Fields and foreign keys are loaded.
        "def f(id) do\n  post = Repo.get!(Post, id)\n  {post.title, post.author_id}\nend",
        # Guarded by Ecto.assoc_loaded?/1.
        "def f(id) do\n"
        "  post = Repo.get!(Post, id)\n"
        "  if Ecto.assoc_loaded?(post.comments), do: post.comments, else: []\n"
        "end",
        # A different function's variable of the same name.
        "def f(id), do: Repo.get!(Post, id)\ndef g(post), do: post.comments",
        # A schema the workspace does not declare.
        "def f(id) do\n  user = Repo.get!(MyApp.Accounts.User, id)\n  user.posts\nend",
    ],
)
def test_not_flagged(body: str) -> None:
    assert ec005(blog(body)) == []


def test_without_schema_facts_nothing_is_known() -> None:
    source = blog("def f(id) do\n  post = Repo.get!(Post, id)\n  post.comments\nend")
    assert only("EC005", source, PATH) == []


def test_schema_in_the_same_file_is_enough() -> None:
    source = POST + "\n" + blog("def f(id) do\n  post = Repo.get!(Post, id)\n  post.comments\nend")
    assert [flagged_text(source, f) for f in only("EC005", source, PATH)] == ["post.comments"]


def test_fix_pipes_into_repo_preload(elixir_parser: ElixirParser) -> None:
    before = blog("def f(id) do\n  post = Repo.get!(Post, id)\n  post.comments\nend")
    after = blog(
        "def f(id) do\n  post = Repo.get!(Post, id) |> Repo.preload(:comments)\n  post.comments\nend"
    )
    assert_fixed("EC005", before, after, elixir_parser, path=PATH, facts=facts())


def test_fix_extends_the_pipeline(elixir_parser: ElixirParser) -> None:
    before = blog(
        "def f(id) do\n  post = Post |> where(id: ^id) |> Repo.one!()\n  post.author\nend"
    )
    after = blog(
        "def f(id) do\n"
        "  post = Post |> where(id: ^id) |> Repo.one!() |> Repo.preload(:author)\n"
        "  post.author\n"
        "end"
    )
    assert_fixed("EC005", before, after, elixir_parser, path=PATH, facts=facts())


def test_fix_adds_preload_to_the_from_query(elixir_parser: ElixirParser) -> None:
    before = blog(
        "def f(id) do\n  post = Repo.one!(from p in Post, where: p.id == ^id)\n  post.comments\nend"
    )
    after = blog(
        "def f(id) do\n"
        "  post = Repo.one!(from p in Post, where: p.id == ^id, preload: [:comments])\n"
        "  post.comments\n"
        "end"
    )
    assert_fixed("EC005", before, after, elixir_parser, path=PATH, facts=facts())


def test_fix_extends_an_existing_preload(elixir_parser: ElixirParser) -> None:
    before = blog(
        "def f(id) do\n"
        "  post = Repo.one!(from p in Post, where: p.id == ^id, preload: [:author])\n"
        "  post.comments\n"
        "end"
    )
    after = blog(
        "def f(id) do\n"
        "  post = Repo.one!(from p in Post, where: p.id == ^id, preload: [:author, :comments])\n"
        "  post.comments\n"
        "end"
    )
    assert_fixed("EC005", before, after, elixir_parser, path=PATH, facts=facts())
