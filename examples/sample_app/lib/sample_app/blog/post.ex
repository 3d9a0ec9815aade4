defmodule SampleApp.Blog.Post do
  use Ecto.Schema
  import Ecto.Changeset

  schema "posts" do
    field :title, :string
    field :body, :string
    field :slug, :string
    field :published_at, :utc_datetime
    belongs_to :author, SampleApp.Accounts.User
    has_many :comments, SampleApp.Blog.Comment

    timestamps()
  end

  def changeset(post, attrs) do
    post
    |> cast(attrs, [:title, :body, :slug, :author_id])
    |> validate_required([:title, :body])
    |> unique_constraint(:slug)
  end
end
