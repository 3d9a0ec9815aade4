defmodule SampleAppWeb.DashboardLive do
  use SampleAppWeb, :live_view

  alias SampleApp.Blog

  @impl true
  def mount(_params, _session, socket) do
    if connected?(socket), do: Blog.subscribe()
    {:ok, assign(socket, :posts, Blog.list_posts())}
  end

  # PS003: one new post makes every open dashboard re-run the full query at once.
  @impl true
  def handle_info({:post_created, _post}, socket) do
    {:noreply, assign(socket, :posts, Blog.list_posts())}
  end

  @impl true
  def render(assigns) do
    ~H"""
    <ul>
      <li :for={post <- @posts}>{post.title}</li>
    </ul>
    """
  end
end
