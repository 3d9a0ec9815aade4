defmodule SampleApp.Repo.Migrations.BackfillSlugs do
  use Ecto.Migration
  import Ecto.Query

  def up do
    execute "CREATE INDEX posts_published_at_index ON posts (published_at)"
    execute "UPDATE posts SET slug = lower(title)"

    from(p in "posts", where: is_nil(p.slug), update: [set: [slug: p.title]])
    |> repo().update_all([])
  end

  def down do
    execute "DROP INDEX posts_published_at_index"
  end
end
