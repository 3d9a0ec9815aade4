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
