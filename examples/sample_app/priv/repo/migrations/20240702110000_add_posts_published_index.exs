defmodule SampleApp.Repo.Migrations.AddPostsPublishedIndex do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true

  # The safe recipe: a concurrent build outside the migration transaction.
  def change do
    create index(:posts, [:published_at], concurrently: true)
  end
end
