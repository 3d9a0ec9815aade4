defmodule SampleApp.Repo.Migrations.CreatePosts do
  use Ecto.Migration

  # A new table: indexes and constraints on it lock nothing that is in use.
  def change do
    create table(:posts) do
      add :title, :string, null: false
      add :body, :text
      add :slug, :string
      add :legacy_score, :integer
      timestamps()
    end

    create unique_index(:posts, [:slug])

    create table(:comments) do
      add :body, :text, null: false
      add :post_id, references(:posts, on_delete: :delete_all), null: false
      timestamps()
    end

    create index(:comments, [:post_id])
  end
end
