"""The "Convert @items to a stream" fix of LV001/LV006: module and template, one fix."""

from __future__ import annotations

import pytest

from analyzers import heex
from analyzers.edits import apply_edits, compatible_fixes
from analyzers.parsing import parse_elixir
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_parses, dedent, fixed, only

PATH = "lib/my_app_web/live/post_live/index.ex"


def assert_heex_parses(elixir_source: str) -> None:
    """Every ``~H`` sigil of the source parses as HEEx without error."""
    data = elixir_source.encode()
    templates = heex.templates_in_elixir(data, parse_elixir(data).root_node)
    assert templates and not any(t.has_error for t in templates)


SIGIL_VIEW = '''
defmodule MyAppWeb.PostLive.Index do
  use MyAppWeb, :live_view

  alias MyApp.Blog

  def mount(_params, _session, socket) do
    if connected?(socket), do: Blog.subscribe()
    {:ok, assign(socket, :posts, Blog.list_posts())}
  end

  def handle_info({:post_created, post}, socket) do
    {:noreply, update(socket, :posts, fn posts -> [post | posts] end)}
  end

  def render(assigns) do
    ~H"""
    <ul class="posts">
      <li :for={post <- @posts} id={"post-#{post.id}"}>{post.title}</li>
    </ul>
    """
  end
end
'''

SIGIL_VIEW_FIXED = '''
defmodule MyAppWeb.PostLive.Index do
  use MyAppWeb, :live_view

  alias MyApp.Blog

  def mount(_params, _session, socket) do
    if connected?(socket), do: Blog.subscribe()
    {:ok, stream(socket, :posts, Blog.list_posts())}
  end

  def handle_info({:post_created, post}, socket) do
    {:noreply, stream_insert(socket, :posts, post, at: 0)}
  end

  def render(assigns) do
    ~H"""
    <ul class="posts" phx-update="stream" id="posts">
      <li :for={{dom_id, post} <- @streams.posts} id={dom_id}>{post.title}</li>
    </ul>
    """
  end
end
'''


def test_sigil_template_converted_with_the_module(elixir_parser: ElixirParser) -> None:
    [lv001] = only("LV001", SIGIL_VIEW, PATH)
    [lv006] = only("LV006", SIGIL_VIEW, PATH)
    assert lv001.fixes == lv006.fixes
    assert lv001.fixes[0].title == "Convert @posts to a stream"
    result = fixed(SIGIL_VIEW, lv001)
    assert result == dedent(SIGIL_VIEW_FIXED)
    assert_parses(result, elixir_parser)
    assert_heex_parses(result)
    assert only("LV001", result, PATH) == [] and only("LV006", result, PATH) == []
    # Both findings' fixes together (as --fix applies them) make the same change once.
    both = compatible_fixes([lv001, lv006])
    edits = [e for fix in both for e in fix.edits]
    assert apply_edits(dedent(SIGIL_VIEW).encode(), edits).decode() == dedent(SIGIL_VIEW_FIXED)


def view(body: str, template: str) -> str:
    """A LiveView with ``body`` functions (unindented) and a ``~H`` render of ``template``."""
    inner = "\n".join(("  " + line) if line else "" for line in dedent(body).splitlines())
    markup = "\n".join(("    " + line) if line else "" for line in dedent(template).splitlines())
    return (
        "defmodule MyAppWeb.PostLive.Index do\n"
        "  use MyAppWeb, :live_view\n\n"
        "  alias MyApp.Blog\n\n"
        f"{inner}\n\n"
        "  def render(assigns) do\n"
        '    ~H"""\n'
        f"{markup}\n"
        '    """\n'
        "  end\n"
        "end\n"
    )


LIST_TEMPLATE = """
<div id="feed" phx-update="stream">
  <article
    :for={post <- @posts}
    class="post"
  >
    {post.title}
  </article>
</div>
"""

LIST_TEMPLATE_FIXED = """
<div id="feed" phx-update="stream">
  <article
    :for={{dom_id, post} <- @streams.posts}
    class="post"
    id={dom_id}
  >
    {post.title}
  </article>
</div>
"""


@pytest.mark.parametrize(
    ("body", "expected_body"),
    [
        (
            """
            def mount(_params, _session, socket) do
              {:ok, socket |> assign(:posts, Blog.list_posts()) |> assign(:page_title, "Posts")}
            end
            """,
            """
            def mount(_params, _session, socket) do
              {:ok, socket |> stream(:posts, Blog.list_posts()) |> assign(:page_title, "Posts")}
            end
            """,
        ),
        (
            """
            def mount(_params, _session, socket) do
              {:ok, assign(socket, page_title: "Posts", posts: Blog.list_posts())}
            end
            """,
            """
            def mount(_params, _session, socket) do
              {:ok, stream(assign(socket, page_title: "Posts"), :posts, Blog.list_posts())}
            end
            """,
        ),
        (
            """
            def mount(_params, _session, socket) do
              {:ok, socket |> assign(posts: Blog.list_posts(), page_title: "Posts")}
            end
            """,
            """
            def mount(_params, _session, socket) do
              {:ok, socket |> assign(page_title: "Posts") |> stream(:posts, Blog.list_posts())}
            end
            """,
        ),
        (
            """
            def mount(_params, _session, socket) do
              {:ok, assign_new(socket, :posts, fn -> Blog.list_posts() end)}
            end
            """,
            """
            def mount(_params, _session, socket) do
              {:ok, stream(socket, :posts, Blog.list_posts())}
            end
            """,
        ),
        (
            """
            def mount(_params, _session, socket) do
              {:ok, assign(socket, :posts, [])}
            end

            def handle_params(%{"tag" => tag}, _uri, socket) do
              {:noreply, assign(socket, :posts, Blog.list_posts_tagged(tag))}
            end

            def handle_info({:post_created, post}, socket) do
              {:noreply, assign(socket, :posts, socket.assigns.posts ++ [post])}
            end
            """,
            """
            def mount(_params, _session, socket) do
              {:ok, stream(socket, :posts, [])}
            end

            def handle_params(%{"tag" => tag}, _uri, socket) do
              {:noreply, stream(socket, :posts, Blog.list_posts_tagged(tag), reset: true)}
            end

            def handle_info({:post_created, post}, socket) do
              {:noreply, stream_insert(socket, :posts, post)}
            end
            """,
        ),
    ],
)
def test_module_forms(body: str, expected_body: str, elixir_parser: ElixirParser) -> None:
    source = view(body, LIST_TEMPLATE)
    expected = view(expected_body, LIST_TEMPLATE_FIXED)
    finding = (only("LV001", source, PATH) or only("LV006", source, PATH))[0]
    result = fixed(source, finding)
    assert result == expected
    assert_parses(result, elixir_parser)
    assert_heex_parses(result)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        (
            """
            <p>{length(@posts)} posts</p>
            <ul id="posts"><li :for={post <- @posts} id={"p-#{post.id}"}>{post.title}</li></ul>
            """,
            "length(@posts)",
        ),
        (
            """
            <p :if={@posts == []}>No posts yet</p>
            <ul id="posts"><li :for={post <- @posts}>{post.title}</li></ul>
            """,
            "@posts == []",
        ),
        (
            """
            <ul id="a"><li :for={post <- @posts}>{post.title}</li></ul>
            <ol id="b"><li :for={post <- @posts}>{post.id}</li></ol>
            """,
            "more than once",
        ),
        (
            """
            <ul id="posts">
              <li>Header</li>
              <li :for={post <- @posts}>{post.title}</li>
            </ul>
            """,
            "other content",
        ),
        (
            """
            <div><.post_card :for={post <- @posts} post={post} /></div>
            """,
            "component",
        ),
        (
            """
            <.table id="posts" rows={@posts}><:col :let={post}>{post.title}</:col></.table>
            """,
            "has no loop over it",
        ),
        (
            """
            <ul id="posts" phx-update="ignore"><li :for={post <- @posts}>{post.title}</li></ul>
            """,
            'phx-update="ignore"',
        ),
    ],
)
def test_no_fix_when_the_template_needs_the_list(template: str, reason: str) -> None:
    source = view(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :posts, Blog.list_posts())}
        end
        """,
        template,
    )
    [finding] = only("LV001", source, PATH)
    assert finding.fixes == ()
    assert reason in finding.note and "no automatic fix" in finding.note


@pytest.mark.parametrize(
    "extra",
    [
        # The module reads the list back.
        """
        def handle_event("open", %{"id" => id}, socket) do
          post = Enum.find(socket.assigns.posts, &(&1.id == id))
          {:noreply, assign(socket, :open, post)}
        end
        """,
        # An update that is not one insert.
        """
        def handle_info({:deleted, id}, socket) do
          {:noreply, update(socket, :posts, fn posts -> Enum.reject(posts, &(&1.id == id)) end)}
        end
        """,
    ],
)
def test_no_fix_when_the_module_needs_the_list(extra: str) -> None:
    source = view(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :posts, Blog.list_posts())}
        end
        """
        + dedent(extra),
        LIST_TEMPLATE,
    )
    [finding] = only("LV001", source, PATH)
    assert finding.fixes == ()
    assert "no automatic fix" in finding.note


def test_no_fix_without_a_template() -> None:
    source = """
    defmodule MyAppWeb.PostLive.Index do
      use MyAppWeb, :live_view

      def mount(_params, _session, socket) do
        {:ok, assign(socket, :posts, MyApp.Blog.list_posts())}
      end
    end
    """
    [finding] = only("LV001", source, PATH)
    assert finding.fixes == ()
    assert "template was not found" in finding.note


def test_parent_id_avoids_an_id_already_on_the_page(elixir_parser: ElixirParser) -> None:
    body = """
    def handle_params(_params, _uri, socket) do
      {:noreply, assign(socket, :posts, Blog.list_posts())}
    end
    """
    source = view(
        body,
        """
        <section id="posts">
          <ul><li :for={post <- @posts}>{post.title}</li></ul>
        </section>
        """,
    )
    expected = view(
        """
        def handle_params(_params, _uri, socket) do
          {:noreply, stream(socket, :posts, Blog.list_posts(), reset: true)}
        end
        """,
        """
        <section id="posts">
          <ul phx-update="stream" id="posts-stream"><li :for={{dom_id, post} <- @streams.posts} id={dom_id}>{post.title}</li></ul>
        </section>
        """,
    )
    [finding] = only("LV001", source, PATH)
    result = fixed(source, finding)
    assert result == expected
    assert_parses(result, elixir_parser)
    assert_heex_parses(result)


GENERATED_16_TEMPLATE = """
<table>
  <tbody id="posts">
    <%= for post <- @posts do %>
      <tr id={"post-#{post.id}"}>
        <td>{post.title}</td>
      </tr>
    <% end %>
  </tbody>
</table>
"""

GENERATED_16_TEMPLATE_FIXED = """
<table>
  <tbody id="posts" phx-update="stream">
    <%= for {dom_id, post} <- @streams.posts do %>
      <tr id={dom_id}>
        <td>{post.title}</td>
      </tr>
    <% end %>
  </tbody>
</table>
"""


def test_eex_for_loop_of_the_phoenix_16_generator(elixir_parser: ElixirParser) -> None:
    body = """
    def mount(_params, _session, socket) do
      {:ok, assign(socket, :posts, list_posts())}
    end

    defp list_posts do
      Blog.list_posts()
    end
    """
    source = view(body, GENERATED_16_TEMPLATE)
    [finding] = only("LV001", source, PATH)
    result = fixed(source, finding)
    assert result == view(
        body.replace("assign(socket, :posts", "stream(socket, :posts"),
        GENERATED_16_TEMPLATE_FIXED,
    )
    assert_parses(result, elixir_parser)
    assert_heex_parses(result)


@pytest.mark.parametrize(
    "template",
    [
        # Two elements per item.
        """
        <div id="posts">
          <%= for post <- @posts do %>
            <h2>{post.title}</h2>
            <p>{post.body}</p>
          <% end %>
        </div>
        """,
        # Something else in the container.
        """
        <ul id="posts">
          <li>First</li>
          <%= for post <- @posts do %>
            <li>{post.title}</li>
          <% end %>
        </ul>
        """,
        # A filter in the comprehension.
        """
        <ul id="posts">
          <%= for post <- @posts, post.published do %>
            <li>{post.title}</li>
          <% end %>
        </ul>
        """,
    ],
)
def test_eex_for_loop_without_a_clear_shape_has_no_fix(template: str) -> None:
    source = view(
        """
        def mount(_params, _session, socket) do
          {:ok, assign(socket, :posts, Blog.list_posts())}
        end
        """,
        template,
    )
    [finding] = only("LV001", source, PATH)
    assert finding.fixes == ()
    assert "no automatic fix" in finding.note
