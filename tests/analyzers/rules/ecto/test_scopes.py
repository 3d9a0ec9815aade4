"""Per-file lookups of the Ecto rules answer what climbing parents or resolving afresh answers."""

from __future__ import annotations

import gc
import weakref

from hypothesis import given, settings
from tree_sitter import Node

from analyzers import syntax
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from analyzers.registry import all_rules
from analyzers.rules.ecto import scopes, writes
from analyzers.rules.ecto.calls import (
    _resolve,
    aliases_for,
    in_transaction,
    repo_calls,
    resolve,
    transaction_helpers,
    transaction_scope_climbing,
)
from tests.analyzers.test_syntax import sources
from tests.ruletools import dedent


def _context(source: bytes) -> FileContext:
    tree = parse_elixir(source)
    return FileContext(
        source, "lib/my_app/blog.ex", "elixir", tree, config=Config(), facts=ProjectFacts()
    )


def _nodes(ctx: FileContext) -> list[Node]:
    return list(syntax.walk(ctx.root))


@settings(max_examples=150, deadline=None)
@given(sources())
def test_enclosing_def_and_module_match_climbing(source: bytes) -> None:
    ctx = _context(source)
    for node in _nodes(ctx):
        assert scopes.enclosing_def(ctx, node) == syntax.enclosing_def(node)
        assert scopes.enclosing_module(ctx, node) == syntax.enclosing_module(node)
        module = syntax.enclosing_module(node)
        expected = syntax.module_name(module) if module is not None else None
        assert scopes.module_name_at(ctx, node) == expected
        assert writes.in_mix_task(node, ctx) == writes.in_mix_task(node)


def _in_transaction_climbing(ctx: FileContext, node: Node) -> bool:
    if transaction_scope_climbing(ctx, node) is not None:
        return True
    definition = syntax.enclosing_def(node)
    named = syntax.def_name(definition) if definition is not None else None
    return named is not None and named[1] in transaction_helpers(ctx)


@settings(max_examples=150, deadline=None)
@given(sources())
def test_in_transaction_and_ensure_step_match_climbing(source: bytes) -> None:
    ctx = _context(source)
    for node in _nodes(ctx):
        assert in_transaction(ctx, node) == _in_transaction_climbing(ctx, node)
    for found in repo_calls(ctx):
        node = found.node
        assert writes._ensure_step(ctx, node) == writes._ensure_step_climbing(ctx, node)


def test_lookups_on_a_written_module() -> None:
    ctx = _context(
        dedent(
            """
            defmodule MyApp.Accounts do
              alias Ecto.Multi

              def create(attrs) do
                Repo.transaction(fn ->
                  Repo.insert!(attrs)
                  unless Repo.get(User, 1), do: Repo.insert!(%User{id: 1})
                end)
              end

              def plain(x), do: Repo.insert!(x)
            end
            """
        ).encode()
    )
    inserts = [c.node for c in repo_calls(ctx) if c.function == "insert!"]
    assert [in_transaction(ctx, n) for n in inserts] == [True, True, False]
    assert [writes._ensure_step(ctx, n) for n in inserts] == [False, True, False]
    definitions = [scopes.enclosing_def(ctx, n) for n in inserts]
    assert [syntax.def_name(d) for d in definitions if d is not None] == [
        ("def", "create"),
        ("def", "create"),
        ("def", "plain"),
    ]
    assert {scopes.module_name_at(ctx, n) for n in inserts} == {"MyApp.Accounts"}


@settings(max_examples=150, deadline=None)
@given(sources())
def test_cached_resolution_matches_resolving_each_call(source: bytes) -> None:
    ctx = _context(source)
    calls = [n for n in _nodes(ctx) if n.type == "call"]
    for call in calls + calls:  # the second round reads the cache
        assert resolve(ctx, call) == _resolve(call, aliases_for(ctx, call)), (source, call)


def test_resolution_is_cached_per_module_aliases() -> None:
    ctx = _context(
        dedent(
            """
            DB.insert(x)

            defmodule MyApp.A do
              alias MyApp.Repo, as: DB
              def a(x), do: DB.insert(x)
            end

            defmodule MyApp.B do
              alias Other.Store, as: DB
              def b(x), do: DB.insert(x)
            end
            """
        ).encode()
    )
    inserts = ctx.calls_named(["insert"])
    assert [resolve(ctx, c) for c in inserts * 2] == [
        ("DB", "insert"),
        ("MyApp.Repo", "insert"),
        ("Other.Store", "insert"),
    ] * 2


def test_a_context_is_freed_without_the_cyclic_collector() -> None:
    # What the rules memoise must not refer back to the context: a cycle would keep each
    # analysed tree alive (per keystroke, in the server) until the cyclic collector runs.
    source = dedent(
        """
        defmodule MyApp.Accounts do
          alias Ecto.Multi

          def get_user(id), do: Repo.get(User, id)

          def create(attrs) do
            unless Repo.get(User, 1), do: Repo.insert!(%User{id: 1})
            Repo.insert!(attrs)
            Repo.update!(attrs)
            Enum.map(attrs, fn a -> get_user(a) end)
            Multi.new() |> Multi.insert(:a, attrs) |> Repo.transaction()
          end
        end
        """
    ).encode()
    ctx = _context(source)
    reference = weakref.ref(ctx)
    gc.disable()
    try:
        for rule in all_rules():
            if rule.code.startswith("EC"):
                list(rule.check(ctx))
        del ctx
        assert reference() is None
    finally:
        gc.enable()
