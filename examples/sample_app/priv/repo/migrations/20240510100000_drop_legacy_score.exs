defmodule SampleApp.Repo.Migrations.DropLegacyScore do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      remove :legacy_score
    end

    rename table(:comments), :body, to: :content
  end
end
