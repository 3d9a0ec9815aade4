defmodule SampleApp.Blog do
  @moduledoc "The blog context: posts and their comments."

  import Ecto.Query
  alias SampleApp.Repo
  alias SampleApp.Blog.{Comment, Post}

  @topic "posts"

  def subscribe, do: Phoenix.PubSub.subscribe(SampleApp.PubSub, @topic)

  def list_posts do
    Repo.all(from p in Post, order_by: [desc: p.inserted_at])
  end

  def get_post!(id), do: Repo.get!(Post, id)

  def create_post(attrs) do
    with {:ok, post} <- %Post{} |> Post.changeset(attrs) |> Repo.insert() do
      Phoenix.PubSub.broadcast(SampleApp.PubSub, @topic, {:post_created, post})
      {:ok, post}
    end
  end

  # Moves a post's comments to another post, then deletes it. Two writes, no
  # transaction: a crash in between leaves orphaned state.
  def merge_posts(%Post{} = source, %Post{} = into) do
    Repo.update_all(from(c in Comment, where: c.post_id == ^source.id), set: [post_id: into.id])
    Repo.delete(source)
  end

  def comment_counts(posts) do
    Enum.map(posts, fn post ->
      {post.id, Repo.aggregate(from(c in Comment, where: c.post_id == ^post.id), :count)}
    end)
  end
end
