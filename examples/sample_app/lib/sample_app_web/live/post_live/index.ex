defmodule SampleAppWeb.PostLive.Index do
  use SampleAppWeb, :live_view

  alias SampleApp.Blog

  @impl true
  def mount(_params, _session, socket) do
    Blog.subscribe()

    # Safe: the clock only ticks in the connected LiveView.
    if connected?(socket), do: :timer.send_interval(60_000, :tick)

    {:ok,
     socket
     |> assign(:posts, Blog.list_posts())
     |> assign(:announcement, Req.get!("https://status.example.com/banner.txt").body)
     |> assign(:now, DateTime.utc_now())}
  end

  @impl true
  def handle_event("create", %{"post" => params}, socket) do
    case Blog.create_post(params) do
      {:ok, _post} -> {:noreply, put_flash(socket, :info, "Post created")}
      {:error, _changeset} -> {:noreply, put_flash(socket, :error, "Could not create post")}
    end
  end

  def handle_event("refresh_preview", %{"url" => url}, socket) do
    preview = Req.get!(url).body
    {:noreply, assign(socket, :preview, preview)}
  end

  # Safe: the request runs in a task; the result arrives in handle_async/3.
  def handle_event("check_links", %{"url" => url}, socket) do
    {:noreply, start_async(socket, :link_report, fn -> Req.get!(url).status end)}
  end

  @impl true
  def handle_async(:link_report, {:ok, status}, socket) do
    {:noreply, assign(socket, :link_status, status)}
  end

  def handle_async(:link_report, {:exit, _reason}, socket) do
    {:noreply, put_flash(socket, :error, "Could not check the links")}
  end

  @impl true
  def handle_info({:post_created, post}, socket) do
    {:noreply, update(socket, :posts, fn posts -> [post | posts] end)}
  end

  # Safe: replaces a single value, nothing accumulates.
  def handle_info(:tick, socket) do
    {:noreply, assign(socket, :now, DateTime.utc_now())}
  end
end
