defmodule SampleAppWeb.PostLive.Index do
  use SampleAppWeb, :live_view

  alias SampleApp.Blog

  @impl true
  def mount(_params, _session, socket) do
    Blog.subscribe()
    {:ok, assign(socket, :posts, Blog.list_posts())}
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

  @impl true
  def handle_info({:post_created, post}, socket) do
    {:noreply, update(socket, :posts, fn posts -> [post | posts] end)}
  end
end
