defmodule SampleAppWeb.PostController do
  use SampleAppWeb, :controller

  import Ecto.Query
  alias SampleApp.Repo
  alias SampleApp.Blog.Post

  @per_page 20

  # Every post on every request: fine at 100 rows, not at 100,000 (EC004, info).
  def index(conn, _params) do
    posts = Repo.all(from p in Post, order_by: [desc: p.inserted_at])
    render(conn, :index, posts: posts)
  end

  # One page at a time.
  def recent(conn, params) do
    page = String.to_integer(params["page"] || "1")

    posts =
      Repo.all(
        from p in Post,
          order_by: [desc: p.inserted_at],
          limit: @per_page,
          offset: ^((page - 1) * @per_page)
      )

    render(conn, :index, posts: posts)
  end
end
