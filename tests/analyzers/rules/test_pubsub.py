"""PS001 broadcast-large-payload, PS002 channel-join-unauthorized, PS003 requery-on-broadcast."""

from __future__ import annotations

import pytest

from analyzers.model import Severity
from analyzers.project import ProjectFacts, RepoFacts
from tests.ruletools import dedent, flagged_text, only

CONTEXT = "lib/my_app/blog.ex"
CHANNEL = "lib/my_app_web/channels/user_channel.ex"
LIVE = "lib/my_app_web/live/post_live/index.ex"


def module(name: str, header: str, body: str) -> str:
    """``defmodule name`` with ``header`` lines, a blank line, then ``body`` (unindented)."""
    lines = [f"defmodule {name} do"]
    lines += ["  " + line if line else "" for line in dedent(header).splitlines()]
    lines.append("")
    lines += ["  " + line if line else "" for line in dedent(body).splitlines()]
    lines.append("end")
    return "\n".join(lines) + "\n"


def context(body: str) -> str:
    return module("MyApp.Blog", "alias MyApp.Repo\nalias MyApp.Blog.Post", body)


# --- PS001 broadcast-large-payload -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "payload", "reason"),
    [
        (
            """
            def refresh do
              posts = Repo.all(Post)
              Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {:posts_changed, posts})
            end
            """,
            "{:posts_changed, posts}",
            "`posts` (a whole `Repo.all` result)",
        ),
        (
            """
            def refresh do
              Phoenix.PubSub.broadcast!(MyApp.PubSub, "posts", {:posts, Post |> Repo.all()})
            end
            """,
            "{:posts, Post |> Repo.all()}",
            "a whole `Repo.all` result",
        ),
        (
            """
            def update_post(post, attrs) do
              {:ok, post} = post |> Post.changeset(attrs) |> Repo.update()
              post = Repo.preload(post, [:comments, :author])
              MyAppWeb.Endpoint.broadcast("post:#{post.id}", "updated", %{post: post})
            end
            """,
            "%{post: post}",
            "a record with preloaded associations",
        ),
        (
            """
            def announce do
              Phoenix.PubSub.broadcast_from(MyApp.PubSub, self(), "posts", list_posts())
            end
            """,
            "list_posts()",
            "the whole `list_posts` collection",
        ),
    ],
)
def test_ps001_flags_collections_and_preloaded_records(
    body: str, payload: str, reason: str
) -> None:
    source = context(body)
    findings = only("PS001", source, CONTEXT)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == payload
    assert reason in findings[0].message
    assert "ids or a minimal map" in findings[0].message
    assert findings[0].severity is Severity.WARNING


@pytest.mark.parametrize(
    "body",
    [
        # What phx.gen.live's context does: one record, no associations.
        """
        def create_post(attrs) do
          with {:ok, post} <- %Post{} |> Post.changeset(attrs) |> Repo.insert() do
            Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {:post_created, post})
            {:ok, post}
          end
        end
        """,
        # Ids and minimal maps.
        """
        def refresh do
          ids = Post |> Repo.all() |> Enum.map(& &1.id)
          Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {:posts_changed, ids})
        end
        """,
        """
        def notify(post) do
          MyAppWeb.Endpoint.broadcast("posts", "new", %{id: post.id, title: post.title})
        end
        """,
        """
        def refresh do
          ids = Repo.all(from p in Post, select: p.id)
          Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {:posts_changed, ids})
        end
        """,
        """
        def refresh do
          query = Post |> where(published: true) |> select([p], map(p, [:id, :title]))
          Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {:posts_changed, Repo.all(query)})
        end
        """,
        # A helper forwarding whatever it was given: the call site decides.
        """
        defp broadcast({:ok, post}, event) do
          Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {event, post})
          {:ok, post}
        end
        """,
        # Not a PubSub broadcast.
        """
        def refresh do
          posts = Repo.all(Post)
          MyApp.Notifier.broadcast(:admins, posts)
        end
        """,
    ],
)
def test_ps001_ignores_single_records_ids_and_other_broadcasts(body: str) -> None:
    assert only("PS001", context(body), CONTEXT) == []


def test_ps001_uses_the_workspace_repos() -> None:
    body = """
    def refresh do
      posts = Repo.all(Post)
      Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {:posts, posts})
    end
    """
    facts = ProjectFacts(root=".", repos={"MyApp.Repo": RepoFacts("MyApp.Repo")})
    assert len(only("PS001", context(body), CONTEXT, facts=facts)) == 1
    other = ProjectFacts(root=".", repos={"MyApp.OtherRepo": RepoFacts("MyApp.OtherRepo")})
    assert only("PS001", context(body), CONTEXT, facts=other) == []


# --- PS002 channel-join-unauthorized ---------------------------------------------------------


def channel(body: str, header: str = "use MyAppWeb, :channel") -> str:
    return module("MyAppWeb.UserChannel", header, body)


@pytest.mark.parametrize(
    ("body", "head", "var"),
    [
        (
            'def join("user:" <> user_id, _params, socket), do: {:ok, socket}',
            'join("user:" <> user_id, _params, socket)',
            "user_id",
        ),
        (
            """
            def join("room:" <> room_id, _params, socket) do
              send(self(), :after_join)
              {:ok, assign(socket, :room_id, room_id)}
            end
            """,
            'join("room:" <> room_id, _params, socket)',
            "room_id",
        ),
        (
            """
            def join("user:" <> user_id, _params, socket) do
              Presence.track(socket, user_id, %{online_at: System.system_time()})
              {:ok, socket |> assign(:user_id, user_id)}
            end
            """,
            'join("user:" <> user_id, _params, socket)',
            "user_id",
        ),
        (
            """
            def join("document:" <> _id, _params, socket) do
              {:ok, %{status: "joined"}, socket}
            end
            """,
            'join("document:" <> _id, _params, socket)',
            "_id",
        ),
    ],
)
def test_ps002_flags_per_id_topics_joined_without_a_check(body: str, head: str, var: str) -> None:
    source = channel(body)
    findings = only("PS002", source, CHANNEL)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == head
    assert f"`{var}`" in findings[0].message


def test_ps002_reads_phoenix_channel_modules_too() -> None:
    source = channel(
        'def join("user:" <> id, _params, socket), do: {:ok, socket}', "use Phoenix.Channel"
    )
    assert len(only("PS002", source, CHANNEL)) == 1


@pytest.mark.parametrize(
    "body",
    [
        # Compared with the socket's user.
        """
        def join("user:" <> user_id, _params, socket) do
          if user_id == to_string(socket.assigns.user_id) do
            {:ok, socket}
          else
            {:error, %{reason: "unauthorized"}}
          end
        end
        """,
        # Matched against the assigns in the head.
        'def join("user:" <> id, _p, %{assigns: %{user_id: id}} = socket), do: {:ok, socket}',
        # Guarded.
        'def join("user:" <> id, _p, socket) when id == "1", do: {:ok, socket}',
        # An access-deciding helper.
        """
        def join("room:" <> room_id, _params, socket) do
          case Chat.authorize_join(room_id, socket) do
            :ok -> {:ok, socket}
            error -> error
          end
        end
        """,
        # A token in the params, verified.
        """
        def join("doc:" <> id, %{"token" => token}, socket) do
          case Phoenix.Token.verify(socket, "doc", token) do
            {:ok, ^id} -> {:ok, socket}
            _ -> {:error, %{reason: "unauthorized"}}
          end
        end
        """,
        # The user read from the socket by a helper, matched with a pin.
        """
        def join("user:" <> user_id, _payload, socket) do
          current_user_id = get_user_id(socket)

          user_id
          |> Integer.parse()
          |> case do
            {^current_user_id, _} -> {:ok, socket}
            _ -> {:error, %{reason: "unauthorized"}}
          end
        end
        """,
        # Compared with a resource authenticated another way.
        """
        def join("user:" <> user_id, %{resource: resource}, socket) do
          if user_id == "#{resource.id}", do: {:ok, socket}, else: {:error, %{}}
        end
        """,
        # Fixed topics and refusals are not per-id grants.
        'def join("room:lobby", _params, socket), do: {:ok, socket}',
        'def join("room:" <> _private, _params, _socket), do: {:error, %{reason: "unauthorized"}}',
    ],
)
def test_ps002_ignores_checked_fixed_or_refused_joins(body: str) -> None:
    assert only("PS002", channel(body), CHANNEL) == []


def test_ps002_ignores_modules_that_are_not_channels() -> None:
    source = module("MyApp.Room", "", 'def join("room:" <> id, _params, socket), do: {:ok, socket}')
    assert only("PS002", source, CONTEXT) == []


# --- PS003 requery-on-broadcast --------------------------------------------------------------

LIVE_HEADER = "use MyAppWeb, :live_view\nalias MyApp.Blog"
MOUNT = """
def mount(_params, _session, socket) do
  if connected?(socket), do: Blog.subscribe()
  {:ok, assign(socket, :posts, Blog.list_posts())}
end
"""


def live(body: str, mount: str = MOUNT) -> str:
    return module("MyAppWeb.PostLive.Index", LIVE_HEADER, dedent(mount) + "\n" + dedent(body))


@pytest.mark.parametrize(
    ("body", "flagged", "label"),
    [
        (
            """
            def handle_info({:post_created, _post}, socket) do
              {:noreply, assign(socket, :posts, Blog.list_posts())}
            end
            """,
            "Blog.list_posts()",
            "reloads `Blog.list_posts`",
        ),
        (
            """
            def handle_info(%{event: "post_updated"}, socket) do
              {:noreply, assign(socket, :posts, MyApp.Repo.all(MyApp.Blog.Post))}
            end
            """,
            "MyApp.Repo.all(MyApp.Blog.Post)",
            "reloads with `MyApp.Repo.all`",
        ),
        (
            """
            def handle_info({MyApp.Blog, %MyApp.Blog.Events.PostCreated{}}, socket) do
              {:noreply, assign(socket, :posts, Blog.list_posts())}
            end
            """,
            "Blog.list_posts()",
            "reloads `Blog.list_posts`",
        ),
        (
            """
            def handle_info({:post_deleted, _post}, socket), do: {:noreply, load_posts(socket)}

            defp load_posts(socket), do: assign(socket, :posts, Blog.list_posts())
            """,
            "load_posts(socket)",
            "calls `load_posts`, which reloads `Blog.list_posts`",
        ),
    ],
)
def test_ps003_flags_collection_reloads_on_broadcast(body: str, flagged: str, label: str) -> None:
    source = live(body)
    findings = only("PS003", source, LIVE)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == flagged
    assert label in findings[0].message
    assert "stream_insert" in findings[0].message


@pytest.mark.parametrize(
    "body",
    [
        # Applying the payload.
        """
        def handle_info({:post_created, post}, socket) do
          {:noreply, stream_insert(socket, :posts, post, at: 0)}
        end
        """,
        # Reloading one record is not a collection.
        """
        def handle_info({:post_updated, %{id: id}}, socket) do
          {:noreply, assign(socket, :post, Blog.get_post!(id))}
        end
        """,
        # A timer tick, not a broadcast.
        """
        def handle_info(:refresh, socket) do
          Process.send_after(self(), :refresh, 60_000)
          {:noreply, assign(socket, :posts, Blog.list_posts())}
        end
        """,
        """
        def handle_info(:tick, socket), do: {:noreply, assign(socket, :posts, Blog.list_posts())}
        """,
        # Debounced reload.
        """
        def handle_info({:post_created, _}, socket) do
          Process.send_after(self(), :reload, 500)
          {:noreply, assign(socket, :posts, Blog.list_posts())}
        end
        """,
        # A component's message, not a broadcast.
        """
        def handle_info({MyAppWeb.PostLive.FormComponent, {:saved, _}}, socket) do
          {:noreply, assign(socket, :posts, Blog.list_posts())}
        end
        """,
        # A task's reply.
        """
        def handle_info({ref, _result}, socket) when is_reference(ref) do
          {:noreply, assign(socket, :posts, Blog.list_posts())}
        end
        """,
    ],
)
def test_ps003_ignores_payload_updates_timers_and_debounced_reloads(body: str) -> None:
    assert only("PS003", live(body), LIVE) == []


def test_ps003_needs_a_subscription_and_a_liveview() -> None:
    body = """
    def handle_info({:post_created, _}, socket) do
      {:noreply, assign(socket, :posts, Blog.list_posts())}
    end
    """
    unsubscribed = "def mount(_params, _session, socket), do: {:ok, socket}"
    assert only("PS003", live(body, unsubscribed), LIVE) == []
    genserver = module(
        "MyApp.Indexer",
        "use GenServer\nalias MyApp.Blog",
        "def init(_) do\n  Blog.subscribe()\n  {:ok, []}\nend\n" + dedent(body),
    )
    assert only("PS003", genserver, CONTEXT) == []


def test_safe_patterns_in_the_hover_are_not_flagged() -> None:
    from analyzers.engine import analyze
    from analyzers.registry import all_rules

    rules = [r for r in all_rules() if r.meta.family == "PS" and r.code != "SC003"]
    assert rules
    for rule in rules:
        result = analyze(rule.meta.safe_pattern.encode(), "lib/my_app/example.ex")
        assert [f.code for f in result.findings if f.code[:2] == "PS"] == [], rule.code
