defmodule SampleAppWeb.CommentLive.Show do
  use SampleAppWeb, :live_view

  import Ecto.Query
  alias SampleApp.Repo
  alias SampleApp.Blog.Comment

  @impl true
  def mount(%{"id" => id}, _session, socket) do
    comment = Repo.get!(Comment, id)
    {:ok, assign(socket, comment: comment, body_html: render_markdown(comment.body))}
  end

  # Safe for LV005: a repeated "pin" is absorbed by the upsert.
  @impl true
  def handle_event("pin", _params, socket) do
    Repo.insert_all("pinned_comments", [%{comment_id: socket.assigns.comment.id}],
      on_conflict: :nothing
    )

    {:noreply, put_flash(socket, :info, "Pinned")}
  end

  def handle_event("hide", _params, socket) do
    from(c in Comment, where: c.id == ^socket.assigns.comment.id)
    |> Repo.update_all(set: [hidden: true])

    {:noreply, socket}
  end

  defp render_markdown(body), do: Earmark.as_html!(body)
end
