"""LV001 large-collection-assign and LV006 growing-list-update: what is flagged and what is not.

The fix they share (convert to a stream) is tested in ``test_streams.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.facts import FactIndex
from tests.ruletools import dedent, flagged_text, only

PATH = "lib/my_app_web/live/post_live/index.ex"


def live(body: str, header: str = "", use: str = "use MyAppWeb, :live_view") -> str:
    """A LiveView module with ``body`` (unindented) as its functions."""
    inner = "\n".join(("  " + line) if line else "" for line in dedent(body).splitlines())
    extra = "".join(f"  {line}\n" for line in dedent(header).splitlines())
    return (
        "defmodule MyAppWeb.PostLive.Index do\n"
        f"  {use}\n\n"
        "  alias MyApp.{Blog, Repo}\n"
        f"{extra}\n"
        f"{inner}\n"
        "end\n"
    )


def mount_assigning(expression: str, header: str = "") -> str:
    return live(
        f"""
        def mount(_params, _session, socket) do
          {{:ok, {expression}}}
        end
        """,
        header,
    )


# --- LV001: flagged -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "flagged"),
    [
        ("assign(socket, :posts, Blog.list_posts())", "Blog.list_posts()"),
        ("assign(socket, :posts, Repo.all(Post))", "Repo.all(Post)"),
        ("assign(socket, :posts, MyApp.Repo.all(Post))", "MyApp.Repo.all(Post)"),
        ('assign(socket, posts: Blog.list_posts(), page_title: "Posts")', "Blog.list_posts()"),
        ("socket |> assign(:posts, Blog.list_posts())", "Blog.list_posts()"),
        ("assign_new(socket, :posts, fn -> Blog.list_posts() end)", "Blog.list_posts()"),
        (
            "assign(socket, :posts, Post |> where(published: true) |> Repo.all())",
            "Post |> where(published: true) |> Repo.all()",
        ),
        (
            "assign(socket, :posts, Repo.preload(Repo.all(Post), :author))",
            "Repo.preload(Repo.all(Post), :author)",
        ),
        (
            "assign(socket, :posts, Blog.list_posts() |> Enum.sort_by(& &1.title))",
            "Blog.list_posts() |> Enum.sort_by(& &1.title)",
        ),
        (
            "assign(socket, :posts, Enum.to_list(Repo.stream(Post)))",
            "Enum.to_list(Repo.stream(Post))",
        ),
        ("assign(socket, :posts, Post.all())", "Post.all()"),
    ],
)
def test_lv001_flags_collections(expression: str, flagged: str) -> None:
    source = mount_assigning(expression)
    [finding] = only("LV001", source, PATH)
    assert flagged_text(source, finding) == flagged
    assert "@posts" in finding.message


def test_lv001_follows_a_bound_variable_in_any_callback() -> None:
    source = live(
        """
        def handle_params(%{"tag" => tag}, _uri, socket) do
          posts = Blog.list_posts_tagged(tag)
          {:noreply, assign(socket, :posts, posts)}
        end
        """
    )
    [finding] = only("LV001", source, PATH)
    assert flagged_text(source, finding) == "posts"
    assert "Blog.list_posts_tagged" in finding.message


def test_lv001_in_a_live_component() -> None:
    source = live(
        """
        def update(assigns, socket) do
          {:ok, socket |> assign(assigns) |> assign(:comments, Blog.list_comments(assigns.post))}
        end
        """,
        use="use MyAppWeb, :live_component",
    )
    assert len(only("LV001", source, PATH)) == 1


# --- LV001: not flagged ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        # Bounded or paginated.
        "assign(socket, :posts, Blog.list_posts(limit: 20))",
        "assign(socket, :posts, Blog.list_posts(%{page: 1, per_page: 25}))",
        "assign(socket, :posts, Blog.list_posts(10))",
        "assign(socket, :posts, Blog.list_recent_posts())",
        "assign(socket, :posts, Post |> limit(10) |> Repo.all())",
        "assign(socket, :posts, Repo.all(from p in Post, limit: 50))",
        "assign(socket, :page, Repo.paginate(Post, params))",
        "assign(socket, :posts, Flop.all(Post, flop))",
        # Counts and single records.
        "assign(socket, :post_count, Repo.aggregate(Post, :count))",
        "assign(socket, :post, Blog.get_post!(1))",
        "assign(socket, :post, Repo.preload(Blog.get_post!(1), :comments))",
        # Already a stream; not a database load.
        "stream(socket, :posts, Blog.list_posts())",
        "assign(socket, :tabs, [:posts, :drafts])",
        "assign(socket, :posts, Enum.map(params, & &1))",
    ],
)
def test_lv001_quiet(expression: str) -> None:
    source = mount_assigning(expression.replace("params", "%{}").replace("flop", "%{}"))
    assert only("LV001", source, PATH) == []


def test_lv001_quiet_for_a_bounded_bound_query() -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          query = from p in Post, order_by: [desc: :inserted_at], limit: 20
          {:ok, assign(socket, :posts, Repo.all(query))}
        end
        """
    )
    assert only("LV001", source, PATH) == []


def test_lv001_quiet_for_temporary_assigns() -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :posts, Blog.list_posts()), temporary_assigns: [posts: []]}
        end
        """
    )
    assert only("LV001", source, PATH) == []


def test_lv001_quiet_for_select_options() -> None:
    source = live(
        '''
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :categories, Blog.list_categories())}
        end

        def render(assigns) do
          ~H"""
          <.input type="select" field={@form[:category_id]} options={@categories} />
          """
        end
        '''
    )
    assert only("LV001", source, PATH) == []


def test_lv001_quiet_outside_liveviews_and_in_function_components() -> None:
    context = """
    defmodule MyApp.Blog do
      def list_posts, do: Repo.all(Post)
      def cached(socket), do: assign(socket, :posts, list_posts())
    end
    """
    assert only("LV001", context, "lib/my_app/blog.ex") == []
    component = live(
        '''
        def post_list(assigns) do
          assigns = assign(assigns, :posts, Blog.list_posts())

          ~H"""
          <p>{length(@posts)}</p>
          """
        end
        ''',
        use="use Phoenix.LiveView",
    )
    assert only("LV001", component, PATH) == []


# --- LV006 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("update", "where"),
    [
        ("update(socket, :messages, fn messages -> [message | messages] end)", "prepends"),
        ("update(socket, :messages, fn messages -> messages ++ [message] end)", "appends"),
        ("update(socket, :messages, &[message | &1])", "prepends"),
        ("update(socket, :messages, &(&1 ++ [message]))", "appends"),
        ("socket |> update(:messages, &[message | &1])", "prepends"),
        ("assign(socket, :messages, [message | socket.assigns.messages])", "prepends"),
        ("assign(socket, messages: socket.assigns.messages ++ [message])", "appends"),
    ],
)
def test_lv006_flags_growing_lists(update: str, where: str) -> None:
    source = live(
        f"""
        def handle_info({{:new_message, message}}, socket) do
          {{:noreply, {update}}}
        end
        """
    )
    [finding] = only("LV006", source, PATH)
    assert where in finding.message and "@messages" in finding.message
    assert "handle_info" in finding.message


@pytest.mark.parametrize(
    "update",
    [
        "update(socket, :messages, fn messages -> Enum.take([message | messages], 50) end)",
        "socket |> update(:messages, &[message | &1]) |> update(:messages, &Enum.take(&1, 100))",
        "update(socket, :messages, fn messages -> [message | Enum.reject(messages, &(&1.id == message.id))] end)",
        "update(socket, :count, &(&1 + 1))",
        "update(socket, :messages, fn _ -> [message] end)",
        "stream_insert(socket, :messages, message, at: 0)",
    ],
)
def test_lv006_quiet(update: str) -> None:
    source = live(
        f"""
        def handle_info({{:new_message, message}}, socket) do
          {{:noreply, {update}}}
        end
        """
    )
    assert only("LV006", source, PATH) == []


def test_lv006_quiet_in_mount_and_with_temporary_assigns() -> None:
    in_mount = live(
        """
        def mount(_params, _session, socket) do
          {:ok, socket |> assign(:steps, []) |> update(:steps, &[:start | &1])}
        end
        """
    )
    assert only("LV006", in_mount, PATH) == []
    temporary = live(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :messages, []), temporary_assigns: [messages: []]}
        end

        def handle_info({:new_message, message}, socket) do
          {:noreply, update(socket, :messages, &[message | &1])}
        end
        """
    )
    assert only("LV006", temporary, PATH) == []


def test_lv001_context_lists_need_an_ecto_project(tmp_path: Path) -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :sessions, Sessions.list_sessions())}
        end
        """
    )
    without_ecto = FactIndex.scan(tmp_path).facts()
    assert only("LV001", source, PATH, facts=without_ecto) == []
    (tmp_path / "repo.ex").write_text(
        "defmodule MyApp.Repo do\n  use Ecto.Repo, otp_app: :my_app\nend\n"
    )
    with_ecto = FactIndex.scan(tmp_path).facts()
    assert len(only("LV001", source, PATH, facts=with_ecto)) == 1
    # A file analysed alone (no project) is flagged.
    assert len(only("LV001", source, PATH)) == 1


def test_lv001_quiet_for_looped_select_options() -> None:
    source = live(
        '''
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :sources, Sources.list_sources())}
        end

        def render(assigns) do
          ~H"""
          <select name="source">
            <option :for={source <- @sources} value={source.id}>{source.name}</option>
          </select>
          """
        end
        '''
    )
    assert only("LV001", source, PATH) == []


def test_lv001_quiet_when_the_template_uses_it_as_a_lookup() -> None:
    source = live(
        '''
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :org_keys, Accounts.list_org_keys())}
        end

        def render(assigns) do
          ~H"""
          <p :for={archive <- @archives}>{key_name(archive, @org_keys)}</p>
          """
        end
        '''
    )
    assert only("LV001", source, PATH) == []


@pytest.mark.parametrize(
    "markup",
    [
        "<ul><li :for={post <- @posts}>{post.title}</li></ul>",
        "<ul><li :for={{post, i} <- Enum.with_index(@posts)}>{i}: {post.title}</li></ul>",
        "<%= for post <- @posts do %><p>{post.title}</p><% end %>",
        '<.table id="posts" rows={@posts}><:col :let={p}>{p.title}</:col></.table>',
    ],
)
def test_lv001_flagged_when_the_template_renders_the_list(markup: str) -> None:
    source = live(
        f'''
        def mount(_params, _session, socket) do
          {{:ok, assign(socket, :posts, Blog.list_posts())}}
        end

        def render(assigns) do
          ~H"""
          {markup}
          """
        end
        '''
    )
    assert len(only("LV001", source, PATH)) == 1


def test_lv006_quiet_for_a_toggled_selection() -> None:
    source = live(
        """
        def handle_event("toggle", %{"opt" => opt}, socket) do
          if Enum.member?(socket.assigns.selected, opt) do
            {:noreply, assign(socket, :selected, Enum.reject(socket.assigns.selected, &(&1 == opt)))}
          else
            {:noreply, assign(socket, :selected, [opt | socket.assigns.selected])}
          end
        end
        """
    )
    assert only("LV006", source, PATH) == []
    removed_elsewhere = live(
        """
        def handle_event("pick", %{"tag" => tag}, socket) do
          {:noreply, update(socket, :tags, &[tag | &1])}
        end

        def handle_event("unpick", %{"tag" => tag}, socket) do
          {:noreply, update(socket, :tags, &List.delete(&1, tag))}
        end
        """
    )
    assert only("LV006", removed_elsewhere, PATH) == []


def test_lv001_reported_once_per_assign() -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :posts, Blog.list_posts())}
        end

        def handle_params(_params, _uri, socket) do
          {:noreply, assign(socket, :posts, Blog.list_posts())}
        end

        def handle_info(:reload, socket) do
          {:noreply, assign(socket, :posts, Repo.all(Post))}
        end
        """
    )
    [finding] = only("LV001", source, PATH)
    assert source.index("Blog.list_posts()") == finding.start


def test_lv001_follows_a_local_list_function() -> None:
    """The phx.gen.live shape of Phoenix 1.6: ``assign(socket, :posts, list_posts())``."""
    source = live(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :posts, list_posts())}
        end

        defp list_posts do
          Blog.list_posts()
        end
        """
    )
    [finding] = only("LV001", source, PATH)
    assert flagged_text(source, finding) == "list_posts()"
    bounded = source.replace("Blog.list_posts()\n", "Blog.list_posts(limit: 10)\n")
    assert only("LV001", bounded, PATH) == []
    helper = source.replace("Blog.list_posts()\n", "[:draft, :published]\n")
    assert only("LV001", helper, PATH) == []
