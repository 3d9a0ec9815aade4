"""Generated Elixir sources for benchmarks and large-project tests (deterministic)."""

from __future__ import annotations

import random
from pathlib import Path

_MIGRATION = """defmodule Bench.Repo.Migrations.Change{n} do
  use Ecto.Migration

  def change do
    create table(:items_{n}) do
      add :name, :string, null: false
      add :payload, :map
      timestamps()
    end

    create index(:items_{n}, [:name])

    alter table(:accounts) do
      add :flag_{n}, :boolean, default: false
      add :owner_{n}_id, references(:users)
    end

    create index(:accounts, [:flag_{n}])
  end
end
"""

_FUNCTION = """  @doc "Lists records of kind {n}."
  def list_kind_{n}(filters \\\\ %{{}}) do
    query =
      from r in Record,
        where: r.kind == {n} and r.active == true,
        order_by: [desc: r.inserted_at],
        limit: 50

    query
    |> apply_filters(filters)
    |> Repo.all()
    |> Enum.map(fn record -> %{{record | label: "kind-{n}-" <> record.name}} end)
  end

  defp normalise_{n}(%{{"name" => name}} = attrs) when is_binary(name) do
    attrs
    |> Map.put("name", String.trim(name))
    |> Map.update("tags", [], &Enum.uniq/1)
  end

"""


def migration_source(n: int) -> str:
    """A migration with one safe and one unsafe index, a reference and a new table."""
    return _MIGRATION.format(n=n)


def context_source(lines: int, seed: int = 0) -> str:
    """A context module of about ``lines`` lines (the size of a large real module)."""
    rng = random.Random(seed)
    head = "defmodule Bench.Records do\n  import Ecto.Query\n  alias Bench.{Record, Repo}\n\n"
    parts = [head]
    total = head.count("\n")
    n = 0
    while total < lines - 2:
        chunk = _FUNCTION.format(n=n + rng.randrange(1000) * 1000)
        parts.append(chunk)
        total += chunk.count("\n")
        n += 1
    parts.append("end\n")
    return "".join(parts)


def write_corpus(root: Path, files: int) -> list[Path]:
    """A project of ``files`` files: one migration in five, the rest context modules."""
    (root / "mix.exs").write_text("defmodule Bench.MixProject do\nend\n")
    written: list[Path] = []
    for i in range(files):
        if i % 5 == 0:
            path = root / "priv" / "repo" / "migrations" / f"{20240101000000 + i}_change_{i}.exs"
            text = migration_source(i)
        else:
            path = root / "lib" / "bench" / f"records_{i}.ex"
            text = context_source(120, seed=i).replace("Bench.Records", f"Bench.Records{i}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


_WRITES = """  @doc "Fetches, creates and updates entries of kind {n}."
  def get_entry_{n}!(id), do: Repo.get!(Entry, id)

  def create_entry_{n}(attrs \\\\ %{{}}) do
    %Entry{{kind: {n}}}
    |> Entry.changeset(attrs)
    |> Repo.insert()
  end

  def update_entry_{n}(%Entry{{}} = entry, attrs) do
    entry
    |> Entry.changeset(attrs)
    |> Repo.update()
  end

  def totals_{n}(entries) do
    entries
    |> Enum.filter(& &1.active)
    |> Enum.group_by(& &1.owner_id)
    |> Map.new(fn {{owner, list}} -> {{owner, Enum.sum(Enum.map(list, & &1.amount))}} end)
  end

"""


def context_module(name: str, lines: int, seed: int = 0) -> str:
    """A context module named ``name`` of about ``lines`` lines: Repo calls, Enum pipelines."""
    rng = random.Random(seed)
    head = f"defmodule {name} do\n  import Ecto.Query\n  alias Bench.{{Entry, Record, Repo}}\n\n"
    parts = [head]
    total = head.count("\n")
    n = 0
    while total < lines - 2:
        template = _FUNCTION if n % 2 == 0 else _WRITES
        chunk = template.format(n=n + rng.randrange(1000) * 1000)
        parts.append(chunk)
        total += chunk.count("\n")
        n += 1
    parts.append("end\n")
    return "".join(parts)


def long_migration(lines: int, n: int) -> str:
    """One migration of about ``lines`` lines: a wide new table, columns and indexes added."""
    parts = [
        f"defmodule Bench.Repo.Migrations.Widen{n} do\n  use Ecto.Migration\n\n  def change do\n",
        f"    create table(:wide_{n}) do\n",
    ]
    total = 6
    column = 0
    while total < lines // 2:
        parts.append(f"      add :field_{column}, :string\n")
        column += 1
        total += 1
    parts.append("      timestamps()\n    end\n\n    alter table(:accounts) do\n")
    total += 4
    while total < lines - 8:
        parts.append(f"      add :extra_{n}_{column}, :integer, default: 0\n")
        column += 1
        total += 1
    parts.append(
        "    end\n\n"
        f"    create index(:wide_{n}, [:field_0])\n"
        f"    create index(:accounts, [:extra_{n}_{column - 1}], concurrently: true)\n"
        "  end\nend\n"
    )
    return "".join(parts)


_LIVE_HEAD = """defmodule {app}Web.{name}Live do
  use {app}Web, :live_view

  alias {app}.{{Catalog, Repo}}

  @impl true
  def mount(_params, _session, socket) do
    if connected?(socket), do: Phoenix.PubSub.subscribe({app}.PubSub, "items")
    {{:ok, assign(socket, items: Catalog.list_items(), filter: "", page: 1)}}
  end

  @impl true
  def handle_info({{:item_created, item}}, socket) do
    {{:noreply, update(socket, :items, &[item | &1])}}
  end

  @impl true
  def render(assigns) do
    ~H\"\"\"
    <div id="items-{n}">
      <form phx-change="filter"><input name="q" value={{@filter}} /></form>
      <ul>
        <li :for={{item <- @items}} id={{"item-#{{item.id}}"}}>
          {{item.name}} <.badge item={{item}} />
          <button phx-click="delete" phx-value-id={{item.id}}>Delete</button>
        </li>
      </ul>
      <button phx-click="create">New</button>
    </div>
    \"\"\"
  end

"""

_LIVE_EVENT = """  @impl true
  def handle_event("action_{k}", %{{"id" => id}}, socket) do
    item = Repo.get!(Catalog.Item, id)
    {{:ok, _}} = Catalog.update_item(item, %{{step: {k}}})
    {{:noreply, assign(socket, :items, Enum.map(socket.assigns.items, &touch(&1, item.id)))}}
  end

  attr :item, :map, required: true

  def badge_{k}(assigns) do
    ~H\"\"\"
    <span class={{["badge", @item.active && "badge-on"]}} title="step {k}">
      {{@item.name}} <%= if @item.count > {k} do %>many<% end %>
    </span>
    \"\"\"
  end

"""


def liveview_source(lines: int, n: int, app: str = "Bench") -> str:
    """A LiveView of about ``lines`` lines: mount, PubSub, events and ~H templates."""
    parts = [_LIVE_HEAD.format(app=app, name=f"Page{n}", n=n)]
    total = parts[0].count("\n")
    k = 0
    while total < lines - 4:
        chunk = _LIVE_EVENT.format(k=k)
        parts.append(chunk)
        total += chunk.count("\n")
        k += 1
    parts.append("  defp touch(item, id), do: if(item.id == id, do: item, else: item)\nend\n")
    return "".join(parts)


def mixed_documents(
    count: int, root: Path, min_lines: int = 200, max_lines: int = 800
) -> list[tuple[Path, str]]:
    """``count`` (path, text) pairs: migrations, contexts and LiveViews of 200-800 lines."""
    rng = random.Random(count)
    docs: list[tuple[Path, str]] = []
    for i in range(count):
        lines = rng.randrange(min_lines, max_lines + 1)
        kind = i % 3
        if kind == 0:
            path = root / "priv" / "repo" / "migrations" / f"{20240101000000 + i}_widen_{i}.exs"
            text = long_migration(lines, i)
        elif kind == 1:
            path = root / "lib" / "bench" / f"context_{i}.ex"
            text = context_module(f"Bench.Context{i}", lines, seed=i)
        else:
            path = root / "lib" / "bench_web" / "live" / f"page_{i}_live.ex"
            text = liveview_source(lines, i)
        docs.append((path, text))
    return docs


_CONFIG = {
    "config.exs": """import Config

config :bench, ecto_repos: [Bench.Repo]

config :bench, Bench.Repo, migration_lock: :pg_advisory_lock

import_config "#{config_env()}.exs"
""",
    "dev.exs": 'import Config\n\nconfig :bench, Bench.Repo, database: "bench_dev"\n',
    "test.exs": "import Config\n\nconfig :bench, Bench.Repo, pool: Ecto.Adapters.SQL.Sandbox\n",
    "prod.exs": "import Config\n",
    "runtime.exs": 'import Config\n\nconfig :bench, Bench.Repo, url: System.get_env("DATABASE_URL")\n',
}

_SCHEMA = """defmodule Bench.Schemas.Item{n} do
  use Ecto.Schema
  import Ecto.Changeset

  schema "items_{n}" do
    field :name, :string
    field :count, :integer, default: 0
    belongs_to :owner, Bench.Accounts.User
    has_many :tags, Bench.Schemas.Tag{n}
    timestamps()
  end

  def changeset(item, attrs) do
    item
    |> cast(attrs, [:name, :count, :owner_id])
    |> validate_required([:name])
    |> unique_constraint(:name)
  end
end
"""


def write_project(root: Path, files: int) -> list[Path]:
    """A Phoenix-shaped project of ``files`` source files under ``root`` (deterministic).

    config/*.exs with a Repo, lib/bench/repo.ex, then in turn migrations
    (priv/repo/migrations), LiveViews (lib/bench_web/live), schemas and context
    modules of 60-250 lines in sub-directories of 200 files each.
    """
    rng = random.Random(files)
    (root / "mix.exs").write_text(
        "defmodule Bench.MixProject do\n  use Mix.Project\n\n"
        '  def project, do: [app: :bench, version: "0.1.0"]\nend\n'
    )
    written: list[Path] = []

    def put(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)

    for name, text in _CONFIG.items():
        put(root / "config" / name, text)
    put(
        root / "lib" / "bench" / "repo.ex",
        "defmodule Bench.Repo do\n  use Ecto.Repo, otp_app: :bench, "
        "adapter: Ecto.Adapters.Postgres\nend\n",
    )
    i = 0
    while len(written) < files:
        group = f"part_{i // 200}"
        kind = i % 10
        if kind < 2:
            put(
                root / "priv" / "repo" / "migrations" / f"{20200101000000 + i}_change_{i}.exs",
                migration_source(i),
            )
        elif kind < 4:
            put(
                root / "lib" / "bench_web" / "live" / group / f"page_{i}_live.ex",
                liveview_source(rng.randrange(60, 200), i),
            )
        elif kind < 5:
            put(root / "lib" / "bench" / "schemas" / group / f"item_{i}.ex", _SCHEMA.format(n=i))
        else:
            put(
                root / "lib" / "bench" / group / f"context_{i}.ex",
                context_module(f"Bench.Context{i}", rng.randrange(60, 250), seed=i),
            )
        i += 1
    return written
