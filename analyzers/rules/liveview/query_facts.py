"""Workspace facts for LiveView rules: each module's creates, and its unique constraints.

LV005 uses them: a context's ``create_*`` guarded by an upsert or existence
check, or writing a schema whose module declares a ``unique_constraint``, is
not a double-submit risk. Every module of the scanned files is a key, so
LV004 can tell a workspace module (whose querying functions come from the
Ecto family's ``QUERY_FUNCTIONS`` facts) from an outside one. Available as
``ctx.facts.get(QUERY_FACTS)``: module name -> :class:`ModuleQueries`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.facts import FactCollector, register_collector, tree_of
from analyzers.rules.liveview import event_writes

QUERY_FACTS = "liveview.querying_functions"
# Repo.insert*/create_* calls (not `inserted_at`): without one, no function of the file creates.
_MAY_CREATE = re.compile(rb"\.insert(?:_all|_or_update)?!?\b(?!_)|\bcreate_\w")


@dataclass(frozen=True)
class ModuleQueries:
    """One module: its creates and whether it declares a unique constraint."""

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
    """Per module of the file: creates and unique constraints (every module is a key)."""
    tree = tree_of(source, tree)
    found: dict[str, ModuleQueries] = {}
    mentions_repo = b"Repo" in source
    may_be_unique = b"unique_constraint" in source
    # The substring test first: the pattern is slow to run over every file of a project.
    may_create = (b".insert" in source or b"create_" in source) and (
        _MAY_CREATE.search(source) is not None
    )
    for defmodule, aliases in aliases_by_module(tree.root_node):
        if not (mentions_repo or may_be_unique):
            found[aliases.module] = _EMPTY
            continue
        body = syntax.body_nodes(defmodule)
        found[aliases.module] = ModuleQueries(
            unique_constraint=may_be_unique and _declares_unique(body),
            # Creates are Repo.insert*/create_* calls: skip the (costly) handler walk without them.
            creates=_creates(body, aliases) if mentions_repo and may_create else (),
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


def combine(per_file: Mapping[str, dict[str, ModuleQueries]]) -> dict[str, ModuleQueries]:
    """Every workspace module with its facts (a module split over files: later paths win)."""
    merged: dict[str, ModuleQueries] = {}
    for path in sorted(per_file):
        merged.update(per_file[path])
    return merged


_EMPTY = ModuleQueries()

register_collector(FactCollector(name=QUERY_FACTS, wants=wants, collect=collect, combine=combine))
