import Config

config :sample_app, SampleApp.Repo,
  database: "sample_app_test#{System.get_env("MIX_TEST_PARTITION")}",
  pool: Ecto.Adapters.SQL.Sandbox
