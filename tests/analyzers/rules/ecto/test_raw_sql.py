"""EC003 raw-sql-interpolation."""

from __future__ import annotations

import pytest

from analyzers.model import Severity
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_fixed, flagged_text, only

PATH = "lib/my_app/reports.ex"


def reports(body: str) -> str:
    """A module whose body is ``body``."""
    lines = "\n".join(f"  {line}" if line else "" for line in body.strip("\n").split("\n"))
    return f"defmodule MyApp.Reports do\n  alias MyApp.Repo\n\n{lines}\nend\n"


def ec003(source: str) -> list[str]:
    """Texts flagged by EC003."""
    return [flagged_text(source, f) for f in only("EC003", source, PATH)]


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        (
            'def by_author(id), do: Repo.query!("SELECT * FROM posts WHERE author_id = #{id}")',
            '"SELECT * FROM posts WHERE author_id = #{id}"',
        ),
        (
            "def search(term) do\n"
            '  sql = "SELECT id FROM posts WHERE title LIKE \'%" <> term <> "%\'"\n'
            "  Repo.query(sql)\n"
            "end",
            "sql",
        ),
        (
            "def by_name(name) do\n"
            "  Ecto.Adapters.SQL.query!(Repo, ~s(SELECT * FROM users WHERE name = '#{name}'))\n"
            "end",
            "~s(SELECT * FROM users WHERE name = '#{name}')",
        ),
        (
            "def find(name, params) do\n"
            "  Repo.query(\"SELECT * FROM users WHERE org = $1 AND name = '#{name}'\", params)\n"
            "end",
            "\"SELECT * FROM users WHERE org = $1 AND name = '#{name}'\"",
        ),
        (
            "alias Ecto.Adapters.SQL\n"
            'def count(table), do: SQL.query(Repo, "SELECT count(*) FROM #{table}", [])',
            '"SELECT count(*) FROM #{table}"',
        ),
    ],
)
def test_interpolated_sql_is_flagged(body: str, flagged: str) -> None:
    source = reports(body)
    assert ec003(source) == [flagged]
    [finding] = only("EC003", source, PATH)
    assert finding.severity is Severity.ERROR


@pytest.mark.parametrize(
    "body",
    [
        'def by_author(id), do: Repo.query!("SELECT * FROM posts WHERE author_id = $1", [id])',
        '@table "posts"\ndef count, do: Repo.query!("SELECT count(*) FROM #{@table}")',
        # Values the code chooses itself.
        "def count(schema) do\n"
        "  table = schema.__schema__(:source)\n"
        '  Repo.query!("SELECT count(*) FROM #{table}")\n'
        "end",
        "def lock(opts) do\n"
        '  mode = if opts[:share], do: "SHARE", else: "EXCLUSIVE"\n'
        '  Repo.query!("SELECT * FROM jobs FOR #{mode}")\n'
        "end",
        # Utility statements cannot take parameters.
        'def timeout(ms), do: Repo.query!("SET LOCAL lock_timeout = #{ms}")',
        'def refresh(view), do: Repo.query!(~s(REFRESH MATERIALIZED VIEW "#{view}"))',
        # Fragments assembled around $n parameters.
        "def filter(conditions, params) do\n"
        '  Repo.query!("SELECT id FROM posts WHERE #{Enum.join(conditions, " AND ")}", params)\n'
        "end",
        # Not a repo query.
        'def log(id), do: Logger.info("SELECT * FROM posts WHERE id = #{id}")',
    ],
)
def test_not_flagged(body: str) -> None:
    assert ec003(reports(body)) == []


def test_fix_binds_values_as_parameters(elixir_parser: ElixirParser) -> None:
    before = reports(
        "def find(email, limit) do\n"
        "  Repo.query!(\"SELECT id FROM users WHERE email = '#{email}' LIMIT #{limit}\")\n"
        "end"
    )
    after = reports(
        "def find(email, limit) do\n"
        '  Repo.query!("SELECT id FROM users WHERE email = $1 LIMIT $2", [email, limit])\n'
        "end"
    )
    assert_fixed("EC003", before, after, elixir_parser, path=PATH)


def test_fix_keeps_field_access_values(elixir_parser: ElixirParser) -> None:
    before = reports(
        'def posts(user), do: Repo.query("SELECT * FROM posts WHERE author_id = #{user.id}")'
    )
    after = reports(
        'def posts(user), do: Repo.query("SELECT * FROM posts WHERE author_id = $1", [user.id])'
    )
    assert_fixed("EC003", before, after, elixir_parser, path=PATH)


@pytest.mark.parametrize(
    "body",
    [
        # An identifier position: parameters cannot name tables.
        'def count(table), do: Repo.query!("SELECT count(*) FROM #{table}")',
        # A computed value, an IN list, existing parameters, a concatenation.
        'def f(ids), do: Repo.query!("SELECT * FROM posts WHERE id IN (#{Enum.join(ids, ",")})")',
        'def f(id, t), do: Repo.query!("SELECT * FROM posts WHERE id = #{id} AND t = $1", [t])',
        'def f(id), do: Repo.query!("SELECT * FROM posts WHERE id = " <> id)',
    ],
)
def test_no_fix_where_parameters_do_not_fit(body: str) -> None:
    [finding] = only("EC003", reports(body), PATH)
    assert finding.fixes == ()
