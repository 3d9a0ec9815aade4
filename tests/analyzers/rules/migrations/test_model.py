"""The migration model's per-file caches answer exactly what the syntax helpers and walks would.

The MG rules read each call's name and arguments once per file
(``name_of``/``shape_of``), cut each module's forward calls out of the file's
calls instead of walking, and share DSL-call lists between rules. These tests
hold each fast path to the slow computation it replaces, on generated
migrations (with syntax errors too), and the whole family to the findings each
rule gives on a fresh context of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from analyzers import syntax
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.parsing import parse_elixir
from analyzers.presence import Presence
from analyzers.project import ProjectFacts
from analyzers.registry import all_rules
from analyzers.rules.migrations import data, sql
from analyzers.rules.migrations.model import (
    MigrationModule,
    in_data_migrations_dir,
    in_migrations_dir,
    may_hold_migrations,
    migration_modules,
    name_of,
    option,
    positional,
    shape_of,
)
from tests.ruletools import MIGRATION_PATH, migration

STATEMENTS = [
    "create table(:posts) do\n  add :title, :string, null: false\n  timestamps()\nend",
    'alter table(:posts, prefix: "app") do\n  add :slug, :string, default: "x"\n'
    "  modify :body, :text, from: :string\n  remove :legacy\nend",
    "alter table(:users) do\n  add :org_id, references(:orgs)\n  add :data, :json\n"
    "  add_if_not_exists :n, :integer, null: false\n  timestamps()\nend",
    "create index(:posts, [:title])",
    "create unique_index(:users, [:email], concurrently: true)",
    ":posts |> index([:user_id]) |> create()",
    "idx = index(:comments, [:post_id])\ncreate idx",
    "drop index(:posts, [])",
    "drop table(:old)",
    "drop_if_exists constraint(:posts, :c)",
    'create constraint(:posts, :positive, check: "n > 0")',
    'create constraint(:posts, :nn, check: "n IS NOT NULL", validate: false)',
    "rename table(:posts), :title, to: :name",
    "rename table(:a), to: table(:b)",
    'execute "CREATE INDEX i ON posts (title)"',
    'execute "UPDATE posts SET n = 1", "SELECT 1"',
    'execute_file "x.sql"',
    'Ecto.Migration.execute "DROP TABLE old"',
    'alter table(:users) do\n  add :uid, :uuid, default: fragment("gen_random_uuid()")\n'
    "  add :n, :integer, default: 0\nend",
    'repo().update_all("posts", set: [n: 1])',
    "MyApp.Repo.insert!(%{})",
    'Accounts.create_user(%{name: "a"})',
    "backfill()",
    "flush()",
    "create table(:t, primary_key: false) do\n  add :id, :binary_id, primary_key: true\nend",
    'alter table("events") do\n  modify :at, :utc_datetime_usec\n  add :tags, {:array, :json}\nend',
    'create index(:posts, [:a], [concurrently: false, prefix: "p"])',
]

HELPERS = """
  defp backfill do
    repo().all(\"posts\")
    Enum.each([1], fn _ -> MyApp.Repo.delete_all(\"x\") end)
  end
"""


def _source(statements: list[str], definition: str, helpers: bool) -> str:
    source = migration("\n".join(statements) or ":ok", definition=definition)
    if helpers:
        source = source[: source.rindex("end\n")] + HELPERS + "end\n"
    return source


@st.composite
def migrations(draw: st.DrawFn) -> bytes:
    """A generated migration; sometimes cut or spliced so the tree has syntax errors."""
    source = b""
    # One module, or several in one file (each with its own forward code).
    for _ in range(draw(st.integers(1, 3))):
        statements = draw(st.lists(st.sampled_from(STATEMENTS), max_size=8))
        definition = draw(st.sampled_from(["change", "up"]))
        source += _source(statements, definition, draw(st.booleans())).encode()
    if draw(st.integers(0, 2)) == 0:
        at = draw(st.integers(0, len(source)))
        width = draw(st.integers(1, 12))
        source = source[:at] + source[at + width :]
    return source


def _context(
    source: bytes, path: str = MIGRATION_PATH, config: Config | None = None
) -> FileContext:
    return FileContext(
        source,
        path,
        "elixir",
        parse_elixir(source),
        config=config or Config(),
        facts=ProjectFacts(),
    )


def _every_node(node: Node) -> Iterator[Node]:
    yield from syntax.walk(node)


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(migrations())
def test_call_shapes_and_names_equal_the_syntax_helpers(source: bytes) -> None:
    ctx = _context(source)
    for node in _every_node(ctx.root):
        assert name_of(ctx, node) == syntax.call_name(node)
        shape = shape_of(ctx, node)
        assert shape.args == syntax.call_args(node)
        assert shape.options_node == syntax.options_node(node)
        assert positional(ctx, node) == syntax.positional_args(node)
        for key in ("null", "default", "from", "prefix", "concurrently", "validate", "check"):
            assert option(ctx, node, key) == syntax.option(node, key)
        # Asked again: the same (cached) answers.
        assert shape_of(ctx, node) is shape


@SETTINGS
@given(migrations())
def test_forward_calls_equal_a_walk_of_the_forward_definitions(source: bytes) -> None:
    ctx = _context(source)
    for module in migration_modules(ctx):
        walked = dataclasses.replace(module, _forward_calls=None, _call_index=None)
        assert module.forward_calls() == walked.forward_calls()
        for name in ("create", "add", "drop", "execute", "alter", "index", "timestamps"):
            assert module.local_calls(name) == walked.local_calls(name)


@SETTINGS
@given(migrations())
def test_local_call_index_and_helpers_equal_call_names(source: bytes) -> None:
    """Local calls are those whose call_name is undotted; the others are all the rest, in order."""
    ctx = _context(source)
    for module in migration_modules(ctx):
        calls = module.forward_calls()
        local = [c for c in calls if "." not in (syntax.call_name(c) or ".")]
        for name in {syntax.call_name(c) for c in local}:
            assert module.local_calls(name or "") == [
                c for c in local if syntax.call_name(c) == name
            ]
        assert module.other_calls() == [c for c in calls if c not in local]
        helpers: dict[str, list[Node]] = {}
        for statement in syntax.block_statements(syntax.do_block(module.node)):
            named = syntax.def_name(statement)
            if named and named[0] in {"def", "defp"} and named[1] not in {"change", "up", "down"}:
                helpers.setdefault(named[1], []).append(statement)
        assert module.helpers == helpers


@SETTINGS
@given(migrations())
def test_the_mg010_and_mg011_exits_hide_no_finding(source: bytes) -> None:
    """Without the 'only local calls (and no helpers)' exits, MG010 and MG011 find the same."""
    expected = [list(rule(_context(source))) for rule in (data.check, sql.check)]
    with pytest.MonkeyPatch.context() as patch:
        # Each exit turned off: the rule reads every call as before.
        patch.setattr(data, "_may_access_data", lambda module: True)
        patch.setattr(sql, "_may_execute", lambda module: True)
        assert [list(rule(_context(source))) for rule in (data.check, sql.check)] == expected


@SETTINGS
@given(migrations(), st.sampled_from([10, 16]))
def test_the_rules_word_exits_hide_no_finding(source: bytes, pg_version: int) -> None:
    """Each MG rule finds the same when every "does the source spell ...?" test answers yes."""
    _assert_word_exits_hide_nothing(source, pg_version)


@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("definition", ["change", "up"])
@pytest.mark.parametrize("pg_version", [10, 16])
def test_the_word_exits_hide_no_finding_of_one_statement(
    statement: str, definition: str, pg_version: int
) -> None:
    """One statement alone: the one word its rule asks for is the only one in the file."""
    source = _source([statement], definition, helpers=False).encode()
    _assert_word_exits_hide_nothing(source, pg_version)


def _assert_word_exits_hide_nothing(source: bytes, pg_version: int) -> None:
    config = Config(pg_version=pg_version)
    rules = [rule for rule in all_rules() if rule.code.startswith("MG")]

    def findings() -> list[list[object]]:
        return [
            list(rule.check(_context(source, config=config)))
            for rule in rules
            if rule.applies is None or rule.applies(_context(source, config=config))
        ]

    expected = findings()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Presence, "contains", lambda self, needle: True)
        assert findings() == expected


def _reachable_calls_by_query(ctx: FileContext, module: MigrationModule) -> Iterator[Node]:
    """What ``data._reachable_calls`` did before forward code reused the module's calls."""
    helpers: dict[str, list[Node]] = {}
    for statement in syntax.block_statements(syntax.do_block(module.node)):
        named = syntax.def_name(statement)
        if (
            named is not None
            and named[0] in {"def", "defp"}
            and named[1]
            not in {
                "change",
                "up",
                "down",
            }
        ):
            helpers.setdefault(named[1], []).append(statement)
    seen: set[str] = set()
    pending = list(module.forward_defs)
    while pending:
        definition = pending.pop(0)
        for node in syntax.descendants_of_type(definition, "call", ctx.tree.language):
            if node == definition:
                continue
            name = syntax.call_name(node)
            if name in syntax.DEF_KEYWORDS and syntax.def_name(node) is not None:
                continue
            yield node
            if name is not None and name in helpers and name not in seen:
                seen.add(name)
                pending.extend(helpers[name])


@SETTINGS
@given(migrations())
def test_reachable_calls_equal_the_query_per_definition(source: bytes) -> None:
    ctx = _context(source)
    for module in migration_modules(ctx):
        expected = list(_reachable_calls_by_query(_context(source), module))
        assert list(data._reachable_calls(ctx, module)) == expected


@SETTINGS
@given(migrations(), st.permutations(range(13)))
def test_shared_caches_give_each_rule_its_fresh_findings(source: bytes, order: list[int]) -> None:
    """Rules sharing one context (any order, each run twice) = each rule on a fresh context."""
    rules = [rule for rule in all_rules() if rule.code.startswith("MG")]
    assert len(rules) == len(order)
    fresh = {rule.code: list(rule.check(_context(source))) for rule in rules}
    shared = _context(source)
    for index in order:
        rule = rules[index]
        assert list(rule.check(shared)) == fresh[rule.code]
        assert list(rule.check(shared)) == fresh[rule.code]


def test_a_non_migration_file_reads_no_module() -> None:
    source = b"defmodule MyApp.Accounts do\n  def create_user(a), do: Repo.insert(a)\nend\n"
    ctx = _context(source, "lib/my_app/accounts.ex")
    assert migration_modules(ctx) == []
    assert all(list(rule.check(ctx)) == [] for rule in all_rules() if rule.code.startswith("MG"))


@SETTINGS
@given(
    migrations(),
    st.sampled_from([MIGRATION_PATH, "lib/my_app/accounts.ex", "priv/repo/data/1_a.exs"]),
    st.booleans(),
)
def test_the_shared_exit_skips_only_files_without_migrations(
    source: bytes, path: str, keep_use: bool
) -> None:
    """``may_hold_migrations`` is the plain path-or-text test, and false only where no rule reports."""
    if not keep_use:
        source = source.replace(b"Ecto.Migration", b"Ecto.Schema")
    ctx = _context(source, path)
    plain = in_migrations_dir(path) or b"Ecto.Migration" in source
    assert may_hold_migrations(ctx) == plain
    if migration_modules(ctx):
        assert plain
    if not plain:
        # The exit must hide nothing: each rule on a context asked nothing else first.
        for rule in all_rules():
            if rule.code.startswith("MG"):
                assert list(rule.check(_context(source, path))) == []


def test_path_prechecks_agree_with_the_full_path_reading() -> None:
    assert in_migrations_dir("priv/repo/migrations/1_a.exs")
    assert in_migrations_dir("apps/x/priv/other_repo/migrations/1_a.exs")
    assert not in_migrations_dir("lib/migrations/a.ex")
    assert not in_migrations_dir("lib/my_app/accounts.ex")
    assert in_data_migrations_dir("priv/repo/data_migrations/1_a.exs")
    assert in_data_migrations_dir("priv/repo/data/1_a.exs")
    assert not in_data_migrations_dir("priv/repo/migrations/1_data.exs")
    assert not in_data_migrations_dir("lib/my_app/accounts.ex")
