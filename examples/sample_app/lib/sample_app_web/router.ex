defmodule SampleAppWeb.Router do
  use SampleAppWeb, :router

  pipeline :browser do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :fetch_live_flash
    plug :put_root_layout, html: {SampleAppWeb.Layouts, :root}
    plug :protect_from_forgery
    plug :put_secure_browser_headers
  end

  # The embeddable post widget dropped :put_secure_browser_headers so partner
  # sites can frame it, and lost CSRF protection along the way (SC001, SC002).
  pipeline :embed do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :put_root_layout, html: {SampleAppWeb.Layouts, :embed}
  end

  pipeline :api do
    plug :accepts, ["json"]
  end

  scope "/", SampleAppWeb do
    pipe_through :browser

    live "/posts", PostLive.Index, :index
    live "/dashboard", DashboardLive, :index
  end

  scope "/embed", SampleAppWeb do
    pipe_through :embed

    get "/posts/:id", EmbedController, :show
    post "/posts/:id/like", EmbedController, :like
  end
end
