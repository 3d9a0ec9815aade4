defmodule SampleApp.Workers.Digest do
  @moduledoc "Sends the daily digest and tells dashboards about it."

  import Ecto.Query
  alias SampleApp.Blog.Post
  alias SampleApp.Repo

  def send_daily(recipients) do
    posts = Repo.all(from p in Post, where: p.inserted_at > ago(1, "day"), preload: :comments)

    # OT001: lost if it crashes, killed mid-send on deploy.
    Task.start(fn -> Enum.each(recipients, &deliver(&1, posts)) end)

    # PS001: every dashboard gets its own copy of every post and comment.
    Phoenix.PubSub.broadcast(SampleApp.PubSub, "digest", {:digest_sent, posts})
  end

  # Safe: supervised, and the broadcast carries ids only.
  def send_daily_supervised(recipients) do
    posts = Repo.all(from p in Post, where: p.inserted_at > ago(1, "day"))

    Task.Supervisor.start_child(SampleApp.TaskSupervisor, fn ->
      Enum.each(recipients, &deliver(&1, posts))
    end)

    Phoenix.PubSub.broadcast(SampleApp.PubSub, "digest", {:digest_sent, Enum.map(posts, & &1.id)})
  end

  defp deliver(recipient, posts), do: SampleApp.Mailer.deliver_digest(recipient, posts)
end
