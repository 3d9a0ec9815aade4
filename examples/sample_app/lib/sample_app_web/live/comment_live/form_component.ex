defmodule SampleAppWeb.CommentLive.FormComponent do
  use SampleAppWeb, :live_component

  alias SampleApp.{Blog, Repo}
  alias SampleApp.Blog.Comment

  @impl true
  def update(assigns, socket) do
    {:ok,
     socket
     |> assign(assigns)
     |> assign(:form, to_form(Comment.changeset(%Comment{}, %{})))}
  end

  @impl true
  def render(assigns) do
    ~H"""
    <div id={"comment-form-#{@post_id}"}>
      <%!-- LV004: a query on every render of the component --%>
      <h3>Replying to {Blog.get_post!(@post_id).title}</h3>

      <%!-- SC003: the preview shows what the user typed, unescaped --%>
      <div :if={@preview} class="preview">{raw(@preview)}</div>

      <%!-- Safe: LiveView locks a phx-submit form while the event is in flight --%>
      <.form for={@form} phx-submit="save" phx-target={@myself}>
        <.input field={@form[:body]} type="textarea" />
        <button type="submit">Post comment</button>
      </.form>

      <%!-- LV005: a double click posts the canned reply twice --%>
      <button phx-click="quick_reply" phx-value-body="+1" phx-target={@myself}>+1</button>

      <%!-- Safe: disabled until the server answers --%>
      <button phx-click="quick_reply" phx-value-body="Thanks!" phx-target={@myself}
        phx-disable-with="Posting...">Thanks!</button>
    </div>
    """
  end

  @impl true
  def handle_event("save", %{"comment" => params}, socket) do
    {:noreply, save_comment(socket, params)}
  end

  def handle_event("quick_reply", %{"body" => body}, socket) do
    {:noreply, save_comment(socket, %{"body" => body})}
  end

  defp save_comment(socket, params) do
    attrs = Map.put(params, "post_id", socket.assigns.post_id)

    case Repo.insert(Comment.changeset(%Comment{}, attrs)) do
      {:ok, comment} ->
        send(self(), {:comment_posted, comment})
        assign(socket, :form, to_form(Comment.changeset(%Comment{}, %{})))

      {:error, changeset} ->
        assign(socket, :form, to_form(changeset))
    end
  end
end
