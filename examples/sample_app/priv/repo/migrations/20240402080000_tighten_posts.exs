defmodule SampleApp.Repo.Migrations.TightenPosts do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      modify :body, :text, null: false
      modify :legacy_score, :bigint
      add :public_id, :uuid, default: fragment("gen_random_uuid()")
    end

    create constraint(:posts, :title_not_blank, check: "char_length(title) > 0")
  end
end
