defmodule SampleApp.PostCache do
  @moduledoc "Caches rendered posts. One process for the whole node."
  use GenServer

  alias SampleApp.Blog.Post
  alias SampleApp.Repo

  def start_link(_opts), do: GenServer.start_link(__MODULE__, %{}, name: __MODULE__)

  # OT003: a slow database makes every reader wait for ever.
  def fetch(id), do: GenServer.call(__MODULE__, {:fetch, id}, :infinity)

  def rendered(id), do: GenServer.call(__MODULE__, {:rendered, id})

  @impl true
  def init(cache), do: {:ok, cache}

  # OT006: every reader in the node queues behind this query.
  @impl true
  def handle_call({:fetch, id}, _from, cache) do
    case Map.fetch(cache, id) do
      {:ok, post} ->
        {:reply, post, cache}

      :error ->
        post = Repo.get!(Post, id)
        {:reply, post, Map.put(cache, id, post)}
    end
  end

  # Safe: state only, no I/O.
  def handle_call({:rendered, id}, _from, cache) do
    {:reply, Map.get(cache, id), cache}
  end
end
