"""LV002 subscribe-without-connected, LV003 blocking-callback, LV007 expensive-mount."""

from __future__ import annotations

import pytest

from analyzers.edits import compatible_fixes
from analyzers.engine import analyze
from analyzers.registry import get_rule
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_fixed, assert_parses, dedent, flagged_text, only

PATH = "lib/my_app_web/live/post_live/index.ex"


def live(body: str, header: str = "") -> str:
    """A LiveView module with ``body`` (unindented) as its functions."""
    inner = "\n".join(("  " + line) if line else "" for line in dedent(body).splitlines())
    extra = "".join(f"  {line}\n" for line in dedent(header).splitlines())
    return (
        "defmodule MyAppWeb.PostLive.Index do\n"
        "  use MyAppWeb, :live_view\n\n"
        "  alias MyApp.Blog\n"
        f"{extra}\n"
        f"{inner}\n"
        "end\n"
    )


# --- LV002 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "Blog.subscribe()",
        'Phoenix.PubSub.subscribe(MyApp.PubSub, "posts")',
        'MyAppWeb.Endpoint.subscribe("posts")',
        "Blog.subscribe_to_post(id)",
    ],
)
def test_lv002_flags_subscribe_in_mount(call: str) -> None:
    source = live(
        f"""
        def mount(%{{"id" => id}}, _session, socket) do
          {call}
          {{:ok, assign(socket, :id, id)}}
        end
        """
    )
    [finding] = only("LV002", source, PATH)
    assert flagged_text(source, finding) == call


def test_lv002_resolves_aliased_pubsub() -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          PubSub.subscribe(MyApp.PubSub, "posts")
          {:ok, socket}
        end
        """,
        header="alias Phoenix.PubSub",
    )
    assert len(only("LV002", source, PATH)) == 1


@pytest.mark.parametrize(
    "body",
    [
        "if connected?(socket), do: Blog.subscribe()",
        "if connected?(socket) do\n    Blog.subscribe()\n  end",
        "connected?(socket) && Blog.subscribe()",
        "if Phoenix.LiveView.connected?(socket), do: Blog.subscribe()",
        "case connected?(socket) do\n    true -> Blog.subscribe()\n    false -> :ok\n  end",
        "if not connected?(socket), do: :ok, else: Blog.subscribe()",
        "unless connected?(socket), do: :ok, else: Blog.subscribe()",
        "with true <- connected?(socket) do\n    Blog.subscribe()\n  end",
        "live? = connected?(socket)\n  if live?, do: Blog.subscribe()",
    ],
)
def test_lv002_quiet_when_connected_guarded(body: str) -> None:
    source = live(
        f"""
        def mount(_params, _session, socket) do
          {body}
          {{:ok, socket}}
        end
        """
    )
    assert only("LV002", source, PATH) == []


def test_lv002_quiet_outside_mount_and_outside_liveviews() -> None:
    in_handle_info = live(
        """
        def handle_info(:resubscribe, socket) do
          Blog.subscribe()
          {:noreply, socket}
        end
        """
    )
    assert only("LV002", in_handle_info, PATH) == []
    plain_module = """
    defmodule MyApp.Worker do
      use GenServer

      def init(state) do
        Phoenix.PubSub.subscribe(MyApp.PubSub, "posts")
        {:ok, state}
      end

      def mount(_params, _session, socket) do
        MyApp.Blog.subscribe()
        {:ok, socket}
      end
    end
    """
    assert only("LV002", plain_module, "lib/my_app/worker.ex") == []


def test_lv002_fix_wraps_in_connected(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          Blog.subscribe()
          {:ok, assign(socket, :count, 0)}
        end
        """
    )
    expected = live(
        """
        def mount(_params, _session, socket) do
          if connected?(socket), do: Blog.subscribe()
          {:ok, assign(socket, :count, 0)}
        end
        """
    )
    assert_fixed("LV002", source, expected, elixir_parser, path=PATH)


def test_lv002_fix_moves_into_existing_connected_block(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          Blog.subscribe()

          if connected?(socket) do
            :timer.send_interval(1000, :tick)
          end

          {:ok, assign(socket, :count, 0)}
        end
        """
    )
    expected = live(
        """
        def mount(_params, _session, socket) do

          if connected?(socket) do
            Blog.subscribe()
            :timer.send_interval(1000, :tick)
          end

          {:ok, assign(socket, :count, 0)}
        end
        """
    )
    assert_fixed("LV002", source, expected, elixir_parser, path=PATH)


def test_lv002_fix_keeps_a_checked_result(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          :ok = Blog.subscribe()
          {:ok, socket}
        end
        """
    )
    expected = live(
        """
        def mount(_params, _session, socket) do
          if connected?(socket), do: :ok = Blog.subscribe()
          {:ok, socket}
        end
        """
    )
    assert_fixed("LV002", source, expected, elixir_parser, path=PATH)


def test_lv002_no_fix_when_socket_is_unnamed() -> None:
    source = live(
        """
        def mount(_params, _session, _socket) do
          Blog.subscribe()
          {:ok, _socket}
        end
        """
    )
    [finding] = only("LV002", source, PATH)
    assert finding.fixes == ()


# --- LV003 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "described"),
    [
        ("Req.get!(url)", "HTTP request `Req.get!`"),
        ("HTTPoison.get(url)", "HTTP request `HTTPoison.get`"),
        ("Tesla.post(client, url, %{})", "HTTP request `Tesla.post`"),
        ("Finch.request(req, MyApp.Finch)", "HTTP request `Finch.request`"),
        (":httpc.request(url)", "HTTP request `:httpc.request`"),
        ("Process.sleep(500)", "`Process.sleep`"),
        (":timer.sleep(500)", "`:timer.sleep`"),
        ("Task.await(task)", "`Task.await`"),
        ("Task.await_many(tasks)", "`Task.await_many`"),
        ('System.cmd("convert", [url])', "`System.cmd`"),
        ("GenServer.call(MyApp.Renderer, {:render, url}, :infinity)", "`GenServer.call`"),
    ],
)
def test_lv003_flags_blocking_calls_in_handle_event(call: str, described: str) -> None:
    source = live(
        f"""
        def handle_event("go", %{{"url" => url}}, socket) do
          task = nil
          client = nil
          req = nil
          tasks = []
          _ = {{task, client, req, tasks}}
          {call}
          {{:noreply, socket}}
        end
        """
    )
    [finding] = only("LV003", source, PATH)
    assert flagged_text(source, finding) == call
    assert described in finding.message and "handle_event" in finding.message


@pytest.mark.parametrize(
    "head",
    ["handle_info({:fetch, url}, socket)", 'handle_params(%{"url" => url}, _uri, socket)'],
)
def test_lv003_flags_other_callbacks(head: str) -> None:
    source = live(
        f"""
        def {head} do
          body = Req.get!(url).body
          {{:noreply, assign(socket, :body, body)}}
        end
        """
    )
    assert len(only("LV003", source, PATH)) == 1


@pytest.mark.parametrize(
    "body",
    [
        "start_async(socket, :preview, fn -> Req.get!(url).body end)",
        "assign_async(socket, :preview, fn -> {:ok, %{preview: Req.get!(url).body}} end)",
        "Task.Supervisor.async_nolink(MyApp.TaskSupervisor, fn -> Req.get!(url) end)\n  socket",
        "Task.start(fn -> Req.post!(url, json: %{}) end)\n  socket",
    ],
)
def test_lv003_quiet_inside_async_work(body: str) -> None:
    source = live(
        f"""
        def handle_event("go", %{{"url" => url}}, socket) do
          socket = {body}
          {{:noreply, socket}}
        end
        """
    )
    assert only("LV003", source, PATH) == []


def test_lv003_quiet_when_the_callback_already_uses_start_async() -> None:
    source = live(
        """
        def handle_event("go", %{"url" => url}, socket) do
          Req.get!(url <> "/warmup")
          {:noreply, start_async(socket, :preview, fn -> Req.get!(url).body end)}
        end
        """
    )
    assert only("LV003", source, PATH) == []


def test_lv003_quiet_for_non_blocking_calls_and_plain_modules() -> None:
    source = live(
        """
        def handle_event("go", _params, socket) do
          req = Req.new(base_url: "https://example.com")
          Process.send_after(self(), :tick, 500)
          GenServer.call(MyApp.Counter, :bump)
          {:noreply, assign(socket, :req, req)}
        end
        """
    )
    assert only("LV003", source, PATH) == []
    controller = """
    defmodule MyAppWeb.PreviewController do
      use MyAppWeb, :controller

      def handle_event("go", %{"url" => url}, conn) do
        Req.get!(url)
        conn
      end
    end
    """
    assert only("LV003", controller, "lib/my_app_web/controllers/preview_controller.ex") == []


def test_lv003_fix_moves_the_work_to_start_async(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        @impl true
        def handle_event("refresh_preview", %{"url" => url}, socket) do
          preview = Req.get!(url).body
          {:noreply, assign(socket, :preview, preview)}
        end

        def handle_event("clear", _params, socket) do
          {:noreply, assign(socket, :preview, nil)}
        end
        """
    )
    expected = live(
        """
        @impl true
        def handle_event("refresh_preview", %{"url" => url}, socket) do
          {:noreply, start_async(socket, :preview, fn -> Req.get!(url).body end)}
        end

        def handle_event("clear", _params, socket) do
          {:noreply, assign(socket, :preview, nil)}
        end

        @impl true
        def handle_async(:preview, {:ok, preview}, socket) do
          {:noreply, assign(socket, :preview, preview)}
        end

        def handle_async(:preview, {:exit, _reason}, socket) do
          {:noreply, put_flash(socket, :error, "Could not load preview")}
        end
        """
    )
    assert_fixed("LV003", source, expected, elixir_parser, path=PATH)
    [finding] = only("LV003", source, PATH)
    assert "start_async(socket, :preview, fn -> Req.get!(url).body end)" in finding.note


def test_lv003_fix_for_a_directly_assigned_call(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        def handle_info({:weather, city}, socket) do
          {:noreply, assign(socket, weather: Weather.fetch!(city) |> then(fn _ -> HTTPoison.get!(city) end))}
        end

        def handle_async(:other, {:ok, value}, socket) do
          {:noreply, assign(socket, :other, value)}
        end
        """
    )
    expected = live(
        """
        def handle_info({:weather, city}, socket) do
          {:noreply, start_async(socket, :weather, fn -> Weather.fetch!(city) |> then(fn _ -> HTTPoison.get!(city) end) end)}
        end

        def handle_async(:other, {:ok, value}, socket) do
          {:noreply, assign(socket, :other, value)}
        end

        def handle_async(:weather, {:ok, weather}, socket) do
          {:noreply, assign(socket, :weather, weather)}
        end

        def handle_async(:weather, {:exit, _reason}, socket) do
          {:noreply, put_flash(socket, :error, "Could not load weather")}
        end
        """
    )
    assert_fixed("LV003", source, expected, elixir_parser, path=PATH)


@pytest.mark.parametrize(
    "body",
    [
        # The result is used for more than the assign.
        "preview = Req.get!(url).body\n"
        "{:noreply, socket |> assign(:preview, preview) |> assign(:size, byte_size(preview))}",
        # The closure would capture the socket.
        "{:noreply, assign(socket, :preview, Req.get!(socket.assigns.url).body)}",
        # Not the callback's result.
        "Process.sleep(100)\n{:noreply, socket}",
    ],
)
def test_lv003_no_fix_when_the_shape_is_not_clear(body: str) -> None:
    inner = body.replace("\n", "\n  ")
    source = live(
        f"""
        def handle_event("go", %{{"url" => url}}, socket) do
          {inner}
        end
        """
    )
    [finding] = only("LV003", source, PATH)
    assert finding.fixes == ()
    assert "start_async" in finding.note


def test_lv003_in_connected_branch_of_mount_is_not_lv007() -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          if connected?(socket) do
            Process.sleep(100)
          end

          {:ok, socket}
        end
        """
    )
    assert len(only("LV003", source, PATH)) == 1
    assert only("LV007", source, PATH) == []


# --- LV007 ----------------------------------------------------------------------------------


def test_lv007_flags_blocking_mount_once(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        def mount(%{"url" => url}, _session, socket) do
          {:ok, assign(socket, :preview, Req.get!(url).body)}
        end
        """
    )
    codes = [f.code for f in analyze(dedent(source).encode(), PATH).findings]
    assert codes == ["LV007"]
    expected = live(
        """
        def mount(%{"url" => url}, _session, socket) do
          {:ok, assign_async(socket, :preview, fn -> {:ok, %{preview: Req.get!(url).body}} end)}
        end
        """
    )
    assert_fixed("LV007", source, expected, elixir_parser, path=PATH)
    [finding] = only("LV007", source, PATH)
    assert "async_result" in finding.note
    # The template must change too, so fix-all / --fix never apply it unasked.
    assert not finding.fixes[0].preferred
    assert compatible_fixes([finding]) == []


def test_lv007_flags_three_unbounded_loads() -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          {:ok,
           socket
           |> assign(:posts, Blog.list_posts())
           |> assign(:authors, Blog.list_authors())
           |> assign(:tags, Repo.all(Tag))}
        end
        """,
        header="alias MyApp.Repo",
    )
    [finding] = only("LV007", source, PATH)
    assert flagged_text(source, finding) == "Repo.all(Tag)"
    assert "3 whole collections" in finding.message


@pytest.mark.parametrize(
    "mount_body",
    [
        # Two loads are what most pages need.
        "{:ok, socket |> assign(:posts, Blog.list_posts()) |> assign(:tags, Blog.list_tags())}",
        # Bounded loads.
        "{:ok, socket |> assign(:posts, Blog.list_posts(limit: 20))"
        " |> assign(:a, Blog.list_authors(page: 1)) |> assign(:tags, Blog.list_recent_tags())}",
        # Async already.
        "{:ok, assign_async(socket, :preview, fn -> {:ok, %{preview: Req.get!(url).body}} end)}",
        # Only in the connected mount.
        "if connected?(socket), do: send(self(), :load)\n{:ok, socket}",
    ],
)
def test_lv007_quiet(mount_body: str) -> None:
    inner = mount_body.replace("\n", "\n  ")
    source = live(
        f"""
        def mount(%{{"url" => url}}, _session, socket) do
          _ = url
          {inner}
        end
        """
    )
    assert only("LV007", source, PATH) == []


@pytest.mark.parametrize("code", ["LV001", "LV002", "LV003", "LV006", "LV007"])
def test_safe_pattern_parses_and_is_not_flagged(code: str, elixir_parser: ElixirParser) -> None:
    rule = get_rule(code)
    assert rule is not None
    sample = rule.meta.safe_pattern
    assert_parses(sample, elixir_parser)
    inside_liveview = live(sample, header="alias MyApp.Repo")
    assert only(code, inside_liveview, PATH) == []


def test_lv003_fix_inside_a_pipe(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        def handle_event("go", %{"url" => url}, socket) do
          {:noreply, socket |> assign(:loading, true) |> assign(:preview, Req.get!(url).body)}
        end
        """
    )
    expected = live(
        """
        def handle_event("go", %{"url" => url}, socket) do
          {:noreply, socket |> assign(:loading, true) |> start_async(:preview, fn -> Req.get!(url).body end)}
        end

        def handle_async(:preview, {:ok, preview}, socket) do
          {:noreply, assign(socket, :preview, preview)}
        end

        def handle_async(:preview, {:exit, _reason}, socket) do
          {:noreply, put_flash(socket, :error, "Could not load preview")}
        end
        """
    )
    assert_fixed("LV003", source, expected, elixir_parser, path=PATH)


def test_lv007_fix_inside_a_pipe(elixir_parser: ElixirParser) -> None:
    source = live(
        """
        def mount(_params, _session, socket) do
          {:ok,
           socket
           |> assign(:now, DateTime.utc_now())
           |> assign(:banner, Req.get!("https://status.example.com/banner.txt").body)}
        end
        """
    )
    expected = live(
        """
        def mount(_params, _session, socket) do
          {:ok,
           socket
           |> assign(:now, DateTime.utc_now())
           |> assign_async(:banner, fn -> {:ok, %{banner: Req.get!("https://status.example.com/banner.txt").body}} end)}
        end
        """
    )
    assert_fixed("LV007", source, expected, elixir_parser, path=PATH)
