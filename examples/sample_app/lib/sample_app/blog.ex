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

  # Preloads what the caller reads: no %Ecto.Association.NotLoaded{} surprises.
  def get_post_with_comments!(id) do
    Post
    |> Repo.get!(id)
    |> Repo.preload(:comments)
  end

  # The post is loaded without its comments: `post.comments` is NotLoaded here.
  def comment_bodies(id) do
    post = Repo.get!(Post, id)
    Enum.map(post.comments, & &1.body)
  end

  # One query for every post's count instead of one per post.
  def comment_counts_by_post(posts) do
    ids = Enum.map(posts, & &1.id)

    from(c in Comment,
      where: c.post_id in ^ids,
      group_by: c.post_id,
      select: {c.post_id, count(c.id)}
    )
    |> Repo.all()
    |> Map.new()
  end

  # Both writes commit together or not at all.
  def publish_with_comment(%Post{} = post, comment_attrs) do
    Ecto.Multi.new()
    |> Ecto.Multi.update(:post, Post.changeset(post, %{published_at: DateTime.utc_now()}))
    |> Ecto.Multi.insert(:comment, fn %{post: post} ->
      Comment.changeset(%Comment{post_id: post.id}, comment_attrs)
    end)
    |> Repo.transaction()
  end

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
