defmodule SampleApp.Repo.Migrations.AddReviewedConstraint do
  use Ecto.Migration

  def change do
    # Reviewed: the comments table is small and written only by an admin job.
    # excellent_migrations:safety-assured-for-next-line check_constraint_added
    create constraint(:comments, :content_not_blank, check: "char_length(content) > 0")

    create constraint(:posts, :slug_format, check: "slug ~ '^[a-z0-9-]+$'", validate: false)
  end
end
