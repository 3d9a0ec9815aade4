"""EC001 n-plus-one and EC004 unbounded-query."""

from __future__ import annotations

import pytest

from analyzers.model import Severity
from analyzers.project import ProjectFacts, RepoFacts, facts_from_sources
from tests.ruletools import flagged_text, only

CONTEXT_PATH = "lib/my_app/blog.ex"
WEB_PATH = "lib/my_app_web/controllers/post_controller.ex"
REPO_FACTS = ProjectFacts(root=".", repos={"MyApp.Repo": RepoFacts("MyApp.Repo")})


def blog(body: str, *, header: str = "") -> str:
    """A context module whose body is ``body`` (indented two spaces)."""
    lines = "\n".join(f"  {line}" if line else "" for line in body.strip("\n").split("\n"))
    return (
        "defmodule MyApp.Blog do\n"
        "  import Ecto.Query\n"
        "  alias MyApp.Repo\n"
        "  alias MyApp.Blog.{Comment, Post}\n"
        f"{header}"
        "\n"
        f"{lines}\n"
        "end\n"
    )


def ec001(source: str, path: str = CONTEXT_PATH, **kwargs: object) -> list[str]:
    """Texts flagged by EC001."""
    return [flagged_text(source, f) for f in only("EC001", source, path, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        (
            "def counts(posts) do\n"
            "  Enum.map(posts, fn post ->\n"
            "    Repo.aggregate(from(c in Comment, where: c.post_id == ^post.id), :count)\n"
            "  end)\n"
            "end",
            "Repo.aggregate(from(c in Comment, where: c.post_id == ^post.id), :count)",
        ),
        (
            "def posts(ids), do: Enum.map(ids, &Repo.get!(Post, &1))",
            "Repo.get!(Post, &1)",
        ),
        (
            "def with_comments(posts) do\n"
            "  for post <- posts do\n"
            "    Repo.preload(post, :comments)\n"
            "  end\n"
            "end",
            "Repo.preload(post, :comments)",
        ),
        (
            "def titles(ids) do\n"
            "  ids\n"
            "  |> Stream.map(fn id -> Post |> where(id: ^id) |> Repo.one() end)\n"
            "  |> Enum.to_list()\n"
            "end",
            "Repo.one()",
        ),
        (
            "def authors(posts) do\n"
            "  Enum.reduce(posts, %{}, fn post, acc ->\n"
            "    Map.put(acc, post.id, MyApp.Accounts.get_user!(post.author_id))\n"
            "  end)\n"
            "end",
            "MyApp.Accounts.get_user!(post.author_id)",
        ),
        (
            "def get_post(id), do: Repo.get(Post, id)\n"
            "def posts(ids), do: for(id <- ids, do: get_post(id))",
            "get_post(id)",
        ),
    ],
)
def test_queries_per_element_are_flagged(body: str, flagged: str) -> None:
    source = blog(body)
    assert ec001(source) == [flagged]
    finding = only("EC001", source, CONTEXT_PATH)[0]
    assert finding.severity is Severity.WARNING
    assert "one query per element" in finding.message


def test_message_names_the_call_the_iteration_and_the_collection() -> None:
    source = blog("def posts(ids), do: Enum.map(ids, &Repo.get!(Post, &1))")
    [finding] = only("EC001", source, CONTEXT_PATH)
    assert finding.message.startswith(
        "`Repo.get!` inside `Enum.map` runs one query per element of `ids`"
    )


def test_web_module_calling_a_context_per_element() -> None:
    source = (
        "defmodule MyAppWeb.PostController do\n"
        "  use MyAppWeb, :controller\n"
        "  alias MyApp.Blog\n"
        "\n"
        '  def index(conn, %{"ids" => ids}) do\n'
        "    posts = Enum.map(ids, &Blog.get_post!/1)\n"
        "    render(conn, :index, posts: Enum.map(posts, &Blog.list_comments(&1)))\n"
        "  end\n"
        "end\n"
    )
    assert ec001(source, WEB_PATH) == ["Blog.get_post!", "Blog.list_comments(&1)"]


@pytest.mark.parametrize(
    "body",
    [
        # A literal list or range: a fixed, small number of queries.
        "def stats do\n"
        "  for status <- [:draft, :published], do: Repo.aggregate(where(Post, status: ^status), :count)\n"
        "end",
        "def pages, do: Enum.map(1..3, fn page -> Repo.all(limit(Post, ^page)) end)",
        "@statuses [:draft, :published]\n"
        "def stats, do: Enum.map(@statuses, &Repo.aggregate(where(Post, status: ^&1), :count))",
        # Writes belong to EC002, not to the N+1 rule.
        "def import(rows), do: Enum.each(rows, &Repo.insert!(Post.changeset(%Post{}, &1)))",
        # The query runs once, before the iteration.
        "def titles do\n  posts = Repo.all(Post)\n  Enum.map(posts, & &1.title)\nend",
        # Preloaded once for the whole list.
        "def with_comments(posts), do: posts |> Repo.preload(:comments) |> Enum.map(& &1.comments)",
        # Standard-library and Map lookups named get_*.
        "def envs(keys), do: Enum.map(keys, &System.get_env/1)",
        "def values(maps), do: Enum.map(maps, &Map.get_lazy(&1, :a, fn -> 1 end))",
        # A local get_ helper that does not touch the database.
        "defp get_title(post), do: post.title\n"
        "def titles(posts), do: Enum.map(posts, &get_title/1)",
        # Another application's module (not this project's context).
        "def users(ids), do: Enum.map(ids, &OtherLib.Client.get_user/1)",
    ],
)
def test_not_flagged(body: str) -> None:
    assert ec001(blog(body)) == []


def test_a_module_named_repo_that_is_not_a_repo() -> None:
    source = (
        "defmodule MyApp.Cache.Repo do\n"
        "  def get(key), do: :persistent_term.get(key)\n"
        "end\n"
        "\n"
        "defmodule MyApp.Cache do\n"
        "  alias MyApp.Cache.Repo\n"
        "  def values(keys), do: Enum.map(keys, &Repo.get/1)\n"
        "end\n"
    )
    assert ec001(source) == []
    assert ec001(source, facts=REPO_FACTS) == []


def test_scripts_and_tests_are_not_checked() -> None:
    source = blog("def posts(ids), do: Enum.map(ids, &Repo.get!(Post, &1))")
    assert ec001(source, "priv/repo/seeds.exs") == []
    assert ec001(source, "test/my_app/blog_test.exs") == []
    assert ec001(source, "test/support/data_case.ex") == []
    task = source.replace("defmodule MyApp.Blog do", "defmodule Mix.Tasks.MyApp.Reindex do")
    assert ec001(task, "lib/mix/tasks/my_app.reindex.ex") == []


def controller(action: str) -> str:
    """A controller with the given action body."""
    lines = "\n".join(f"  {line}" if line else "" for line in action.strip("\n").split("\n"))
    return (
        "defmodule MyAppWeb.PostController do\n"
        "  use MyAppWeb, :controller\n"
        "  import Ecto.Query\n"
        "  alias MyApp.Repo\n"
        "  alias MyApp.Blog.Post\n"
        "\n"
        f"{lines}\n"
        "end\n"
    )


def ec004(source: str, path: str = WEB_PATH) -> list[str]:
    """Texts flagged by EC004."""
    return [flagged_text(source, f) for f in only("EC004", source, path)]


@pytest.mark.parametrize(
    ("action", "flagged"),
    [
        (
            "def index(conn, _params) do\n  render(conn, :index, posts: Repo.all(Post))\nend",
            "Repo.all(Post)",
        ),
        (
            "def index(conn, _params) do\n"
            "  posts = Repo.all(from p in Post, order_by: [desc: p.inserted_at])\n"
            "  render(conn, :index, posts: posts)\n"
            "end",
            "Repo.all(from p in Post, order_by: [desc: p.inserted_at])",
        ),
        (
            "def index(conn, _params) do\n"
            "  posts = Post |> where([p], not is_nil(p.published_at)) |> Repo.all()\n"
            "  render(conn, :index, posts: posts)\n"
            "end",
            "Repo.all()",
        ),
        (
            "def index(conn, _params) do\n"
            "  render(conn, :index, posts: Repo.all_by(Post, published: true))\n"
            "end",
            "Repo.all_by(Post, published: true)",
        ),
        (
            "def index(conn, _params) do\n"
            "  query = from p in Post, where: p.published\n"
            "  render(conn, :index, posts: Repo.all(query))\n"
            "end",
            "Repo.all(query)",
        ),
    ],
)
def test_unbounded_listing_in_web_module_is_info(action: str, flagged: str) -> None:
    source = controller(action)
    assert ec004(source) == [flagged]
    [finding] = only("EC004", source, WEB_PATH)
    assert finding.severity is Severity.INFO
    assert "`Post`" in finding.message


@pytest.mark.parametrize(
    "action",
    [
        "def index(conn, _params), do: render(conn, :index, posts: Repo.all(from p in Post, limit: 50))",
        "def index(conn, _params) do\n"
        "  posts = Post |> order_by(desc: :id) |> limit(20) |> Repo.all()\n"
        "  render(conn, :index, posts: posts)\n"
        "end",
        'def index(conn, %{"ids" => ids}) do\n'
        "  render(conn, :index, posts: Repo.all(from p in Post, where: p.id in ^ids))\n"
        "end",
        # One parent's rows.
        "def index(conn, _params) do\n"
        "  user = conn.assigns.current_user\n"
        "  render(conn, :index, keys: Repo.all(from k in Post, where: k.author_id == ^user.id))\n"
        "end",
        'def index(conn, %{"user_id" => id}) do\n'
        "  render(conn, :index, posts: Post |> where(author_id: ^id) |> Repo.all())\n"
        "end",
        'def index(conn, %{"user_id" => id}) do\n'
        "  render(conn, :index, posts: Repo.all_by(Post, author_id: id))\n"
        "end",
        # The query is built elsewhere (a context function decides its bound).
        "def index(conn, params), do: render(conn, :index, posts: Repo.all(MyApp.Blog.query(params)))",
        "def index(conn, _params, query), do: render(conn, :index, posts: Repo.all(query))",
    ],
)
def test_bounded_or_opaque_queries_are_not_flagged(action: str) -> None:
    assert ec004(controller(action)) == []


def test_context_modules_are_not_web_modules() -> None:
    source = blog("def list_posts, do: Repo.all(Post)")
    assert ec004(source, CONTEXT_PATH) == []


ACCOUNTS = """
defmodule MyApp.Accounts do
  import Ecto.Query
  alias MyApp.Repo
  alias MyApp.Accounts.User

  def get_user!(id), do: Repo.get!(User, id)
  def list_admins, do: admins_query() |> fetch_all()
  def get_setting(key), do: Application.get_env(:my_app, key)
  defdelegate get_team(id), to: MyApp.Accounts.Teams, as: :fetch_team

  defp admins_query, do: where(User, admin: true)
  defp fetch_all(query), do: Repo.all(query)
end
"""
TEAMS = """
defmodule MyApp.Accounts.Teams do
  alias MyApp.Repo
  def fetch_team(id), do: Repo.get(MyApp.Accounts.Team, id)
end
"""


def workspace() -> ProjectFacts:
    """A workspace whose Accounts context queries in some functions and not others."""
    return facts_from_sources(
        ".",
        {
            "lib/my_app/accounts.ex": ACCOUNTS.encode(),
            "lib/my_app/accounts/teams.ex": TEAMS.encode(),
            "lib/my_app/repo.ex": b"defmodule MyApp.Repo do\n  use Ecto.Repo, otp_app: :a\nend\n",
        },
    )


def test_workspace_facts_tell_which_context_lookups_query() -> None:
    source = blog(
        "def enrich(posts) do\n"
        "  Enum.map(posts, fn post ->\n"
        "    {MyApp.Accounts.get_user!(post.author_id), MyApp.Accounts.list_admins(),\n"
        "     MyApp.Accounts.get_setting(:theme), MyApp.Accounts.get_team(post.team_id)}\n"
        "  end)\n"
        "end"
    )
    assert ec001(source, facts=workspace()) == [
        "MyApp.Accounts.get_user!(post.author_id)",
        "MyApp.Accounts.list_admins()",
        "MyApp.Accounts.get_team(post.team_id)",
    ]
    # Without the workspace, the module name decides (same application).
    assert len(ec001(source)) == 4
