"""Workspace facts: which public functions of which modules query the database.

A function "queries" when its body calls a repo (a module whose last name
segment ends in ``Repo``, aliases applied) or a function of the same module
that does. LV004 uses this to tell ``Blog.list_posts()`` (a query) from
``Blog.list_categories()`` returning a constant list: for a module of the
workspace only its querying functions count. Available as
``ctx.facts.get(QUERY_FACTS)``: a mapping of module name to the names of its
querying functions (every module of the scanned files is a key).
"""

from __future__ import annotations

from collections.abc import Mapping

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.facts import FactCollector, register_collector
from analyzers.parsing import parse_elixir

QUERY_FACTS = "liveview.querying_functions"

QueryingFunctions = Mapping[str, frozenset[str]]


def wants(path: str, source: bytes) -> bool:
    """Elixir modules outside the web layer (where contexts live)."""
    return path.endswith(".ex") and "_web/" not in path.replace("\\", "/")


def collect(path: str, source: bytes, tree: Tree | None) -> dict[str, frozenset[str]]:
    """Per module of the file: its public functions that reach a repo (none without ``Repo``)."""
    tree = tree if tree is not None else parse_elixir(source)
    found: dict[str, frozenset[str]] = {}
    mentions_repo = b"Repo" in source
    for defmodule, aliases in aliases_by_module(tree.root_node):
        body = syntax.body_nodes(defmodule) if mentions_repo else []
        found[aliases.module] = _querying(body, aliases)
    return found


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


def combine(per_file: Mapping[str, dict[str, frozenset[str]]]) -> dict[str, frozenset[str]]:
    """Every workspace module with its querying functions."""
    merged: dict[str, frozenset[str]] = {}
    for path in sorted(per_file):
        for module, names in per_file[path].items():
            merged[module] = merged.get(module, frozenset()) | names
    return merged


register_collector(FactCollector(name=QUERY_FACTS, wants=wants, collect=collect, combine=combine))
