defmodule SampleApp.Accounts do
  @moduledoc "Users, and the welcome post each new user starts with."

  alias Ecto.Multi
  alias SampleApp.Repo
  alias SampleApp.Accounts.User
  alias SampleApp.Blog.Post

  # Two writes, no transaction: when the post fails, the user stays without one (EC002).
  def register(attrs) do
    {:ok, user} = Repo.insert(User.changeset(%User{}, attrs))
    {:ok, _post} = Repo.insert(%Post{author_id: user.id, title: "Hello", body: "My first post"})
    {:ok, user}
  end

  # The same registration as one Multi: both rows or neither.
  def register_atomically(attrs) do
    Multi.new()
    |> Multi.insert(:user, User.changeset(%User{}, attrs))
    |> Multi.insert(:post, fn %{user: user} ->
      %Post{author_id: user.id, title: "Hello", body: "My first post"}
    end)
    |> Repo.transaction()
    |> case do
      {:ok, %{user: user}} -> {:ok, user}
      {:error, _step, changeset, _changes} -> {:error, changeset}
    end
  end

  def get_user_with_posts!(id) do
    User
    |> Repo.get!(id)
    |> Repo.preload(:posts)
  end
end
