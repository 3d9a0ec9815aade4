import Config

config :sample_app, SampleApp.Repo,
  username: "postgres",
  password: "postgres",
  hostname: "localhost",
  database: "sample_app_dev",
  pool_size: 10
