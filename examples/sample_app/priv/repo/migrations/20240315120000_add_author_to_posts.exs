defmodule SampleApp.Repo.Migrations.AddAuthorToPosts do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :author_id, references(:users, on_delete: :nilify_all)
      add :metadata, :json
    end

    create index(:posts, [:author_id])
  end
end
