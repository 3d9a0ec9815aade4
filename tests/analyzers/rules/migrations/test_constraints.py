"""MG003 not-null-on-existing-table, MG004 reference-validates-immediately,
MG005 check-constraint-validates-immediately."""

from __future__ import annotations

import pytest

from analyzers.model import Severity
from analyzers.registry import get_rule
from tests.elixir_parser import ElixirParser
from tests.ruletools import adapter_facts, assert_fixed, dedent, flagged_text, only


def migration(body: str) -> str:
    """A migration module with ``body`` (unindented) inside ``def change``."""
    inner = "\n".join(("    " + line) if line else "" for line in dedent(body).splitlines())
    return (
        "defmodule MyApp.Repo.Migrations.Change do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        f"{inner}\n"
        "  end\n"
        "end\n"
    )


def alter(*lines: str, table: str = ":posts") -> str:
    """``alter table(table) do ... end`` with ``lines`` inside, in a migration."""
    inside = "\n".join(f"  {line}" for line in lines)
    return migration(f"alter table({table}) do\n{inside}\nend")


# --- MG003 --------------------------------------------------------------------------------


def test_mg003_flags_modify_null_false() -> None:
    source = alter("modify :title, :string, null: false")
    [finding] = only("MG003", source)
    assert flagged_text(source, finding) == "modify :title, :string, null: false"
    assert finding.severity is Severity.WARNING
    assert "`title`" in finding.message and "`posts`" in finding.message
    assert finding.fixes == ()


@pytest.mark.parametrize(
    "line",
    [
        "modify :title, :string, null: false, from: :string",
        "modify :title, :string, null: false, from: {:string, null: true}",
        "modify :title, :text, null: false, from: {:string, size: 100}",
    ],
)
def test_mg003_flags_modify_when_from_does_not_show_not_null(line: str) -> None:
    assert len(only("MG003", alter(line))) == 1


@pytest.mark.parametrize(
    "line",
    [
        "modify :title, :text, null: false, from: {:string, null: false}",
        "modify :title, :text, null: false, from: {:string, [null: false, size: 80]}",
    ],
)
def test_mg003_ignores_modify_already_not_null(line: str) -> None:
    assert only("MG003", alter(line)) == []


@pytest.mark.parametrize(
    "line",
    [
        "add :status, :string, null: false",
        "add :status, :string, null: false, default: nil",
        "add_if_not_exists :status, :string, null: false",
        "add :author_id, references(:users, validate: false), null: false",
    ],
)
def test_mg003_flags_add_not_null_without_default(line: str) -> None:
    source = alter(line)
    [finding] = only("MG003", source)
    assert flagged_text(source, finding) == line
    assert finding.severity is Severity.ERROR
    assert "fails" in finding.message


@pytest.mark.parametrize(
    "line",
    [
        'add :status, :string, null: false, default: "draft"',
        "add :count, :integer, default: 0, null: false",
        "add :active, :boolean, null: false, default: false",
        "add :status, :string",
        "add :status, :string, null: true",
        "modify :title, :string, null: true",
        "modify :title, :string, null: @nullable",
    ],
)
def test_mg003_ignores_safe_column_changes(line: str) -> None:
    assert only("MG003", alter(line)) == []


def test_mg003_leaves_volatile_defaults_to_mg009() -> None:
    source = alter('add :token, :uuid, null: false, default: fragment("gen_random_uuid()")')
    assert only("MG003", source) == []


def test_mg003_ignores_new_tables() -> None:
    source = migration(
        """
        create table(:posts) do
          add :title, :string, null: false
        end

        alter table(:posts) do
          add :body, :text, null: false
          modify :title, :text, null: false
        end
        """
    )
    assert only("MG003", source) == []


def test_mg003_ignores_rollback_code_and_other_adapters() -> None:
    down_only = dedent(
        """
        defmodule MyApp.Repo.Migrations.Down do
          use Ecto.Migration

          def up, do: :ok

          def down do
            alter table(:posts) do
              modify :title, :string, null: false
            end
          end
        end
        """
    )
    assert only("MG003", down_only) == []
    source = alter("modify :title, :string, null: false")
    assert only("MG003", source, facts=adapter_facts("Ecto.Adapters.SQLite3")) == []


def test_mg003_has_expand_contract_hover() -> None:
    rule = get_rule("MG003")
    assert rule is not None
    assert "validate: false" in rule.meta.safe_pattern
    assert "VALIDATE CONSTRAINT" in rule.meta.safe_pattern
    assert "SET NOT NULL" in rule.meta.safe_pattern
    assert rule.meta.fix_title is None


def test_mg003_excellent_migrations_alias() -> None:
    source = alter(
        "# excellent_migrations:safety-assured-for-next-line not_null_added",
        "modify :title, :string, null: false",
    )
    assert only("MG003", source) == []


# --- MG004 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "add :user_id, references(:users)",
        "add :user_id, references(:users, on_delete: :delete_all)",
        "add :user_id, references(:users, validate: true)",
        "add_if_not_exists :user_id, references(:users)",
        "modify :user_id, references(:users, on_delete: :nilify_all), "
        "from: references(:users, on_delete: :nothing)",
    ],
)
def test_mg004_flags_references_on_existing_tables(line: str) -> None:
    source = alter(line)
    [finding] = only("MG004", source)
    assert flagged_text(source, finding) == line
    assert finding.severity is Severity.WARNING
    assert "`users`" in finding.message and "`posts`" in finding.message


@pytest.mark.parametrize(
    "line",
    [
        "add :user_id, references(:users, validate: false)",
        "add :user_id, references(:users, validate: @validate)",
        "add :user_id, :bigint",
        "modify :user_id, :bigint, from: references(:users)",
    ],
)
def test_mg004_ignores_non_validating_references(line: str) -> None:
    assert only("MG004", alter(line)) == []


def test_mg004_ignores_new_tables_and_other_adapters() -> None:
    source = migration(
        """
        create table(:comments) do
          add :post_id, references(:posts)
        end

        alter table(:comments) do
          add :user_id, references(:users)
        end
        """
    )
    assert only("MG004", source) == []
    existing = alter("add :user_id, references(:users)")
    assert only("MG004", existing, facts=adapter_facts("Ecto.Adapters.MyXQL")) == []


def test_mg004_fix_adds_validate_false(elixir_parser: ElixirParser) -> None:
    assert_fixed(
        "MG004",
        alter("add :user_id, references(:users, on_delete: :delete_all), null: true"),
        alter(
            "add :user_id, references(:users, on_delete: :delete_all, validate: false), null: true"
        ),
        elixir_parser,
    )


def test_mg004_fix_without_options(elixir_parser: ElixirParser) -> None:
    assert_fixed(
        "MG004",
        alter("add :user_id, references(:users)"),
        alter("add :user_id, references(:users, validate: false)"),
        elixir_parser,
    )


def test_mg004_fix_replaces_validate_true(elixir_parser: ElixirParser) -> None:
    assert_fixed(
        "MG004",
        alter("modify :user_id, references(:users, validate: true, type: :uuid)"),
        alter("modify :user_id, references(:users, validate: false, type: :uuid)"),
        elixir_parser,
    )


def test_mg004_hover_shows_follow_up_validation() -> None:
    rule = get_rule("MG004")
    assert rule is not None
    assert 'VALIDATE CONSTRAINT posts_user_id_fkey", ""' in rule.meta.safe_pattern


def test_mg004_excellent_migrations_alias() -> None:
    source = alter(
        "# excellent_migrations:safety-assured-for-next-line column_reference_added",
        "add :user_id, references(:users)",
        "add :team_id, references(:teams)",
    )
    [finding] = only("MG004", source)
    assert "team_id" in flagged_text(source, finding)


# --- MG005 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        'create constraint(:products, :price_positive, check: "price > 0")',
        'create constraint("products", :price_positive, check: "price > 0", validate: true)',
        'create_if_not_exists constraint(:products, :price_positive, check: "price > 0")',
    ],
)
def test_mg005_flags_check_constraints_on_existing_tables(statement: str) -> None:
    source = migration(statement)
    [finding] = only("MG005", source)
    assert flagged_text(source, finding) == statement
    assert "`price_positive`" in finding.message and "`products`" in finding.message


def test_mg005_flags_piped_and_bound_constraints() -> None:
    source = migration(
        """
        :products |> constraint(:price_positive, check: "price > 0") |> create()
        c = constraint(:products, :stock_positive, check: "stock >= 0")
        create c
        """
    )
    found = only("MG005", source)
    assert [flagged_text(source, f) for f in found] == [
        ':products |> constraint(:price_positive, check: "price > 0") |> create()',
        "create c",
    ]


@pytest.mark.parametrize(
    "statement",
    [
        'create constraint(:products, :price_positive, check: "price > 0", validate: false)',
        "create constraint(:products, :no_overlap, exclude: ~s|gist (room WITH =, during WITH &&)|)",
        "drop constraint(:products, :price_positive)",
        'create constraint(:products, :p, check: "price > 0", validate: @validate)',
    ],
)
def test_mg005_ignores_safe_constraints(statement: str) -> None:
    assert only("MG005", migration(statement)) == []


def test_mg005_ignores_new_tables_rollback_and_other_adapters() -> None:
    new_table = migration(
        """
        create table(:products) do
          add :price, :integer
        end

        create constraint(:products, :price_positive, check: "price > 0")
        """
    )
    assert only("MG005", new_table) == []
    down_only = dedent(
        """
        defmodule MyApp.Repo.Migrations.Down do
          use Ecto.Migration

          def up, do: :ok

          def down do
            create constraint(:products, :price_positive, check: "price > 0")
          end
        end
        """
    )
    assert only("MG005", down_only) == []
    existing = migration('create constraint(:products, :price_positive, check: "price > 0")')
    assert only("MG005", existing, facts=adapter_facts("Ecto.Adapters.SQLite3")) == []


def test_mg005_fix_adds_validate_false(elixir_parser: ElixirParser) -> None:
    assert_fixed(
        "MG005",
        migration('create constraint(:products, :price_positive, check: "price > 0")'),
        migration(
            'create constraint(:products, :price_positive, check: "price > 0", validate: false)'
        ),
        elixir_parser,
    )


def test_mg005_fix_multiline_and_piped(elixir_parser: ElixirParser) -> None:
    source = migration(
        """
        create constraint(:products, :price_positive,
          check: "price > 0",
          comment: "no free lunch"
        )
        :products |> constraint(:stock, check: "stock >= 0") |> create()
        """
    )
    first = migration(
        """
        create constraint(:products, :price_positive,
          check: "price > 0",
          comment: "no free lunch",
          validate: false
        )
        :products |> constraint(:stock, check: "stock >= 0") |> create()
        """
    )
    assert_fixed("MG005", source, first, elixir_parser)
    second = migration(
        """
        create constraint(:products, :price_positive,
          check: "price > 0",
          comment: "no free lunch"
        )
        :products |> constraint(:stock, check: "stock >= 0", validate: false) |> create()
        """
    )
    assert_fixed("MG005", source, second, elixir_parser, finding_index=1)


def test_mg005_suppressions() -> None:
    source = migration(
        """
        # excellent_migrations:safety-assured-for-next-line check_constraint_added
        create constraint(:products, :a, check: "price > 0")
        # phxguard:disable-next-line MG005 -- products is tiny
        create constraint(:products, :b, check: "price > 0")
        """
    )
    assert only("MG005", source) == []


def test_mg003_timestamps_added_to_an_existing_table() -> None:
    source = """
    defmodule MyApp.Repo.Migrations.AddTimestamps do
      use Ecto.Migration

      def change do
        alter table(:posts) do
          timestamps()
        end

        alter table(:tags) do
          timestamps(default: fragment("now()"))
        end

        alter table(:labels) do
          timestamps(null: true)
        end

        create table(:widgets) do
          timestamps()
        end
      end
    end
    """
    findings = only("MG003", source)
    assert [flagged_text(source, f) for f in findings] == ["timestamps()"]
    assert findings[0].severity is Severity.ERROR
