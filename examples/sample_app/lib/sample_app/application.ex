defmodule SampleApp.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      SampleApp.Repo,
      {Phoenix.PubSub, name: SampleApp.PubSub},
      {Task.Supervisor, name: SampleApp.TaskSupervisor},
      SampleApp.PostCache,
      SampleAppWeb.Endpoint
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: SampleApp.Supervisor)
  end
end
