import Config

config :sample_app, ecto_repos: [SampleApp.Repo]

config :sample_app, SampleApp.Repo,
  migration_primary_key: [type: :binary_id],
  migration_timestamps: [type: :utc_datetime]

config :sample_app, SampleAppWeb.Endpoint,
  url: [host: "localhost"],
  pubsub_server: SampleApp.PubSub,
  live_view: [signing_salt: "sample-salt"]

import_config "#{config_env()}.exs"
