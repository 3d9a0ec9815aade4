defmodule SampleApp.Blog.Search do
  @moduledoc "Full-text search over posts, in raw SQL."

  alias SampleApp.Repo

  # The term is pasted into the SQL: a quote in it ends the string (EC003).
  def search_unsafe(term) do
    Repo.query!("SELECT id, title FROM posts WHERE title ILIKE '#{term}'")
  end

  # The term travels as a bound parameter.
  def search(term) do
    Repo.query!("SELECT id, title FROM posts WHERE title ILIKE $1", ["%" <> term <> "%"])
  end
end
