defmodule SampleApp.Repo.Migrations.IndexCommentAuthors do
  use Ecto.Migration

  def change do
    create index(:comments, [:post_id, :inserted_at], concurrently: true)
  end
end
