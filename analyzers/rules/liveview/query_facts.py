"""Workspace facts: which functions of which modules query the database, and which creates are safe.

A function "queries" when its body calls a repo (a module whose last name
segment ends in ``Repo``, aliases applied) or a function of the same module
that does. LV004 uses this to tell ``Blog.list_posts()`` (a query) from
``Blog.list_categories()`` returning a constant list: for a module of the
workspace only its querying functions count. LV005 uses the creates: a
context's ``create_*`` guarded by an upsert or existence check, or writing a
schema whose module declares a ``unique_constraint``, is not a double-submit
risk. Available as ``ctx.facts.get(QUERY_FACTS)``: a mapping of module name to
:class:`ModuleQueries` (every module of the scanned files is a key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.facts import FactCollector, register_collector
from analyzers.parsing import parse_elixir
from analyzers.rules.liveview import event_writes

QUERY_FACTS = "liveview.querying_functions"


@dataclass(frozen=True)
class ModuleQueries:
    """One module: its querying public functions, its creates, its unique constraints."""

    querying: frozenset[str] = frozenset()
    unique_constraint: bool = False
    # Public functions that insert: (name, guarded locally, modules their code names).
    creates: tuple[tuple[str, bool, frozenset[str]], ...] = ()


def create_is_guarded(
    facts: Mapping[str, ModuleQueries], module: str, function: str, mentions: Iterable[str] = ()
) -> bool:
    """Whether a create is safe to repeat, as far as the workspace shows.

    True when ``mentions`` (or the create function's own code, if it is a
    workspace function) names a schema module with a ``unique_constraint``,
    or the workspace function is guarded (upsert, existence check).
    """
    if any(facts.get(m, _EMPTY).unique_constraint for m in mentions):
        return True
    for name, guarded, named in facts.get(module, _EMPTY).creates:
        if name == function:
            return guarded or any(facts.get(m, _EMPTY).unique_constraint for m in named)
    return False


def wants(path: str, source: bytes) -> bool:
    """Elixir modules outside the web layer (where contexts live)."""
    return path.endswith(".ex") and "_web/" not in path.replace("\\", "/")


def collect(path: str, source: bytes, tree: Tree | None) -> dict[str, ModuleQueries]:
    """Per module of the file: querying functions, creates, unique constraints."""
    tree = tree if tree is not None else parse_elixir(source)
    found: dict[str, ModuleQueries] = {}
    mentions_repo = b"Repo" in source
    may_be_unique = b"unique_constraint" in source
    for defmodule, aliases in aliases_by_module(tree.root_node):
        if not (mentions_repo or may_be_unique):
            found[aliases.module] = _EMPTY
            continue
        body = syntax.body_nodes(defmodule)
        found[aliases.module] = ModuleQueries(
            querying=_querying(body, aliases) if mentions_repo else frozenset(),
            unique_constraint=may_be_unique and _declares_unique(body),
            creates=_creates(body, aliases) if mentions_repo else (),
        )
    return found


def _declares_unique(body: list[Node]) -> bool:
    return any(
        node.type == "call" and syntax.call_name(node) == "unique_constraint"
        for statement in body
        for node in syntax.walk(statement)
    )


def _creates(
    body: list[Node], aliases: ModuleAliases
) -> tuple[tuple[str, bool, frozenset[str]], ...]:
    functions = event_writes.module_functions(body)
    found: list[tuple[str, bool, frozenset[str]]] = []
    for name, clauses in sorted(functions.items()):
        if syntax.def_name(clauses[0]) != ("def", name):
            continue
        checks = [event_writes.check_clause(c, functions, aliases) for c in clauses]
        if any(check.creates is not None for check in checks):
            guarded = any(check.guarded for check in checks)
            named = frozenset(m for check in checks for m in check.mentions)
            found.append((name, guarded, named))
    return tuple(found)


def _querying(body: list[Node], aliases: ModuleAliases) -> frozenset[str]:
    public: set[str] = set()
    calls_repo: set[str] = set()
    local_calls: dict[str, set[str]] = {}
    for statement in body:
        named = syntax.def_name(statement)
        if named is None or named[0] not in ("def", "defp"):
            continue
        kind, name = named
        if kind == "def":
            public.add(name)
        callees = local_calls.setdefault(name, set())
        for block in syntax.body_nodes(statement):
            for node in syntax.walk(block):
                if node.type != "call":
                    continue
                target = aliases.call_target(node)
                if target is not None and target[0].rsplit(".", 1)[-1].endswith("Repo"):
                    calls_repo.add(name)
                called = syntax.call_name(node)
                if target is None and called and "." not in called:
                    callees.add(called)
    # Through same-module helpers: repeat until nothing new reaches a repo.
    changed = True
    while changed:
        changed = False
        for name, callees in local_calls.items():
            if name not in calls_repo and callees & calls_repo:
                calls_repo.add(name)
                changed = True
    return frozenset(public & calls_repo)


def combine(per_file: Mapping[str, dict[str, ModuleQueries]]) -> dict[str, ModuleQueries]:
    """Every workspace module with its facts (a module split over files: later paths win)."""
    merged: dict[str, ModuleQueries] = {}
    for path in sorted(per_file):
        merged.update(per_file[path])
    return merged


_EMPTY = ModuleQueries()

register_collector(FactCollector(name=QUERY_FACTS, wants=wants, collect=collect, combine=combine))
