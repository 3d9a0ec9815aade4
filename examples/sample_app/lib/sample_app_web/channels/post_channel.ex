defmodule SampleAppWeb.PostChannel do
  use SampleAppWeb, :channel

  # PS002: any connected client can follow any draft by guessing its id.
  def join("draft:" <> draft_id, _params, socket) do
    {:ok, assign(socket, :draft_id, draft_id)}
  end

  # Safe: only the post's author joins its private topic.
  def join("author:" <> author_id, _params, socket) do
    if author_id == to_string(socket.assigns.current_user_id) do
      {:ok, socket}
    else
      {:error, %{reason: "unauthorized"}}
    end
  end

  # OT002: every new reaction name is a new atom, for ever.
  def handle_in("react", %{"reaction" => reaction}, socket) do
    broadcast!(socket, "reacted", %{reaction: String.to_atom(reaction)})
    {:noreply, socket}
  end

  # OT004: a crafted draft blob can create atoms and smuggle in funs.
  def handle_in("restore", %{"blob" => blob}, socket) do
    draft = blob |> Base.decode64!() |> :erlang.binary_to_term()
    {:reply, {:ok, %{title: draft.title}}, socket}
  end
end
