"""The workspace the state-machine test edits: a tiny Phoenix project with findings in every family.

Migrations (MG), a LiveView with ``handle_event`` and a ``~H`` template (LV,
PS), a LiveView whose colocated ``.heex`` template depends on it and on the
context module (cross-file facts), a context module with ``Repo`` calls inside
``Enum.map`` and two writes (EC), and the project facts around them
(``mix.exs``, the repo's adapter, ``migration_lock`` in ``config/config.exs``).
Some texts carry CRLF, a lone CR, U+2028, ``é`` and emoji from the start.
"""

from __future__ import annotations

MIGRATIONS = "priv/repo/migrations"

FILES: dict[str, str] = {
    "mix.exs": """defmodule Shop.MixProject do
  use Mix.Project

  def project, do: [app: :shop, version: "0.1.0", deps: []]
end
""",
    "config/config.exs": """import Config

config :shop, ecto_repos: [Shop.Repo]
config :shop, Shop.Repo, migration_lock: :pg_advisory_lock
""",
    "lib/shop/repo.ex": """defmodule Shop.Repo do
  use Ecto.Repo, otp_app: :shop, adapter: Ecto.Adapters.Postgres
end
""",
    f"{MIGRATIONS}/20240101000000_create_orders.exs": """defmodule Shop.Repo.Migrations.CreateOrders do
  use Ecto.Migration

  def change do
    create table(:orders) do
      add :total, :integer, null: false
      add :note, :text
      timestamps()
    end

    create index(:orders, [:total])
  end
end
""",
    f"{MIGRATIONS}/20240301000000_tune_orders.exs": (
        "defmodule Shop.Repo.Migrations.TuneOrders do\r\n"
        "  use Ecto.Migration\r\n"
        "\r\n"
        "  # Tuning — « orders » 😀\r\n"
        "  def change do\r\n"
        "    alter table(:orders) do\r\n"
        "      add :customer_id, references(:customers)\r\n"
        "      add :meta, :json\r\n"
        "      modify :note, :string, null: false\r\n"
        "    end\r\n"
        "\r\n"
        "    create index(:orders, [:customer_id])\r\n"
        "    rename table(:orders), :note, to: :comment\r\n"
        "  end\r\n"
        "end\r\n"
    ),
    "lib/shop/orders.ex": """defmodule Shop.Orders do
  @moduledoc "Orders: the context module (café ☕)."

  alias Shop.Repo
  alias Shop.Orders.{Order, Line}

  def totals(ids) do
    Enum.map(ids, fn id -> Repo.get!(Order, id).total end)
  end

  def place(attrs) do
    {:ok, order} = Repo.insert(Order.changeset(%Order{}, attrs))
    {:ok, _line} = Repo.insert(%Line{order_id: order.id, label: "a\u2028b"})
    {:ok, order}
  end

  def list_orders, do: Repo.all(Order)

  def create_order(attrs), do: Repo.insert(Order.changeset(%Order{}, attrs))
end
""",
    "lib/shop_web/live/order_live.ex": """defmodule ShopWeb.OrderLive do
  use ShopWeb, :live_view

  alias Shop.Orders

  def mount(_params, _session, socket) do
    Phoenix.PubSub.subscribe(Shop.PubSub, "orders")
    {:ok, assign(socket, :orders, Orders.list_orders())}
  end

  def handle_event("create", params, socket) do
    {:ok, order} = Orders.create_order(params)
    {:noreply, update(socket, :orders, fn orders -> [order | orders] end)}
  end

  def handle_info({:order_created, _order}, socket) do
    {:noreply, assign(socket, :orders, Orders.list_orders())}
  end

  def render(assigns) do
    ~H\"\"\"
    <button phx-click="create">New order</button>
    <p :for={order <- @orders}>{order.total} — é 😀</p>
    \"\"\"
  end
end
""",
    "lib/shop_web/live/cart_live.ex": """defmodule ShopWeb.CartLive do
  use ShopWeb, :live_view

  alias Shop.Orders

  def mount(_params, _session, socket) do
    if connected?(socket), do: Phoenix.PubSub.subscribe(Shop.PubSub, "carts")
    {:ok, assign(socket, :items, [])}
  end

  def handle_event("checkout", params, socket) do
    {:ok, _order} = Orders.create_order(params)
    {:noreply, socket}
  end
end
""",
    "lib/shop_web/live/cart_live.html.heex": (
        "<h1>Cart</h1>\r\n"
        '<button phx-click="checkout">Check out\u2028now</button>\r'
        "<li :for={item <- @items}>{item.name}</li>\n"
    ),
}

# Files an editor may create: opened before they exist on disk.
NEW_FILES: dict[str, str] = {
    f"{MIGRATIONS}/20240401000000_add_status.exs": """defmodule Shop.Repo.Migrations.AddStatus do
  use Ecto.Migration

  def change do
    alter table(:orders) do
      add :status, :string, null: false, default: "new"
      remove :meta
    end

    create index(:orders, [:status], concurrently: true)
  end
end
""",
    "lib/shop/reports.ex": """defmodule Shop.Reports do
  alias Shop.Repo

  def by_customer(customers) do
    for c <- customers, do: Repo.all(Ecto.assoc(c, :orders))
  end

  def broadcast_all do
    Phoenix.PubSub.broadcast(Shop.PubSub, "orders", {:all, Repo.all(Shop.Orders.Order)})
  end
end
""",
}

# Pieces typed into documents: code that adds or removes findings, and awkward characters.
FRAGMENTS: tuple[str, ...] = (
    "",
    "x",
    " ",
    "é",
    "😀",
    "𝔘",
    "\u00a0",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\u2028",
    "do",
    "end",
    "#",
    '"',
    "(",
    ")",
    "Repo.all(Order)",
    "Enum.map(ids, fn id -> Repo.get!(Order, id) end)\n",
    "Repo.insert(%Order{})\n",
    "create index(:orders, [:note])\n",
    "add :blob, :json\n",
    'Phoenix.PubSub.subscribe(Shop.PubSub, "x")\n',
    "if connected?(socket), do: ",
    ' phx-disable-with="Saving…"',
    '<button phx-click="create">+</button>\n',
    "# phxguard:disable-next-line MG001\n",
    "# phxguard:disable-file EC\n",
    '~H"""\n',
    '"""\n',
    "<%= @orders %>",
)

# Settings the editor may send (section ``phxguard``); the last ones are invalid.
SETTINGS: tuple[dict[str, object], ...] = (
    {},
    {"select": ["MG"]},
    {"ignore": ["LV", "EC001"]},
    {"severity": {"MG": "error", "EC002": "info", "LV005": "info"}},
    {"select": ["MG001", "LV", "EC", "PS"], "ignore": ["LV005"], "severity": {"LV": "info"}},
    {"ignore": ["MG"], "select": ["MG001", "MG012"]},
    {"pgVersion": 10, "severity": {"MG007": "warning"}},
    {"exclude": ["lib/shop/**"]},
    {"workspaceDiagnostics": False, "select": ["EC", "LV"]},
    {"select": ["ZZ999"]},
    {"severity": {"MG001": "fatal"}},
)
INVALID_SETTINGS = frozenset({9, 10})

# The editor settings' keys in ``.phxguard.toml`` spelling.
FILE_KEYS = {
    "select": "select",
    "ignore": "ignore",
    "severity": "severity",
    "pgVersion": "pg_version",
    "exclude": "exclude",
}

BASE_TOML = """pg_version = 15

[severity]
MG007 = "info"
"""
BASE_CONFIG: dict[str, object] = {"pg_version": 15, "severity": {"MG007": "info"}}


def effective_config(*layers: dict[str, object]) -> dict[str, object]:
    """The effective settings of ``.phxguard.toml``, then each editor layer in turn.

    A key a layer sets replaces the one before, except ``severity``, which is
    merged code by code; this is what the server's settings promise.
    """
    config: dict[str, object] = {
        k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE_CONFIG.items()
    }
    for layer in layers:
        for key, file_key in FILE_KEYS.items():
            if key not in layer:
                continue
            value = layer[key]
            if file_key == "severity":
                merged = dict(config.get("severity", {}))  # type: ignore[call-overload]
                merged.update(value)  # type: ignore[call-overload]
                config["severity"] = merged
            else:
                config[file_key] = value
    return config
