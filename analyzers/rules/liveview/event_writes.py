"""Does an event handler create rows, and is it guarded against running twice?

Used by LV005 (double-submit) through the LiveView facts. "Creates" means the
clause -- or a function of the same module it calls, a few levels deep --
calls ``Repo.insert``/``insert!``/``insert_all`` or a context's
``create_*`` function. A handler counts as guarded (and is never flagged) when
that code also mentions an upsert (``on_conflict:``), handles a unique
constraint (``unique_constraint``), checks for an existing row first
(``Repo.get_by``/``Repo.exists?``/``Repo.one``, a context ``get_*_by*`` or
``*exists?``), or calls a find-or-create style function (``upsert``,
``get_or_create``, ``find_or_create``, ``ensure_*``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import syntax
from analyzers.aliases import ModuleAliases

INSERTS = frozenset({"insert", "insert!", "insert_all"})
EXISTENCE_CHECKS = frozenset({"get_by", "get_by!", "exists?", "one", "one!"})
_IDEMPOTENT_WORDS = ("upsert", "get_or_create", "find_or_create", "ensure_", "_or_insert")
_MAX_DEPTH = 3


@dataclass(frozen=True)
class WriteCheck:
    """What a handler clause does: the first create call (``Blog.create_post``) and any guard."""

    creates: str | None
    guarded: bool


def check_clause(
    clause: Node, module_defs: dict[str, list[Node]], aliases: ModuleAliases
) -> WriteCheck:
    """Inspect a ``def handle_event`` clause and the same-module functions it calls."""
    creates: str | None = None
    guarded = False
    for call in _reachable_calls(clause, module_defs):
        name = syntax.call_name(call) or ""
        target = aliases.call_target(call) if "." in name else None
        function = target[1] if target is not None else name
        module = target[0] if target is not None else None
        if _guards(call, module, function):
            guarded = True
        elif creates is None and module is not None and _creates(module, function):
            creates = name
    return WriteCheck(creates, guarded)


def _guards(call: Node, module: str | None, function: str) -> bool:
    """Whether ``call`` makes a repeat harmless (upsert, unique constraint, existence check)."""
    if any(word in function for word in _IDEMPOTENT_WORDS) or function == "unique_constraint":
        return True
    if syntax.option(call, "on_conflict") is not None:
        return True
    if module is None:
        return False
    return (is_repo(module) and function in EXISTENCE_CHECKS) or _is_context_lookup(function)


def is_repo(module: str) -> bool:
    """A module named like an Ecto repo (``MyApp.Repo``, ``MyApp.ReadRepo``)."""
    return module.rsplit(".", 1)[-1].endswith("Repo")


def _creates(module: str, function: str) -> bool:
    if is_repo(module):
        return function in INSERTS
    return function.startswith("create_") and module[:1].isupper()


def _is_context_lookup(function: str) -> bool:
    return (function.startswith("get_") and "_by" in function) or function.endswith("exists?")


def _reachable_calls(clause: Node, module_defs: dict[str, list[Node]]) -> Iterator[Node]:
    """Calls in ``clause`` and, breadth first, in same-module functions it calls."""
    seen: set[str] = set()
    frontier = [clause]
    for _depth in range(_MAX_DEPTH + 1):
        following: list[Node] = []
        for definition in frontier:
            # The body only: the head ``handle_event(...)`` is not a call to follow.
            body = (
                n for statement in syntax.body_nodes(definition) for n in syntax.walk(statement)
            )
            for node in body:
                if node.type != "call":
                    continue
                yield node
                name = syntax.call_name(node)
                if name and "." not in name and name in module_defs and name not in seen:
                    seen.add(name)
                    following.extend(module_defs[name])
        frontier = following
        if not frontier:
            break


def module_functions(body: list[Node]) -> dict[str, list[Node]]:
    """``def``/``defp`` clauses of a module body, by function name."""
    found: dict[str, list[Node]] = {}
    for statement in body:
        named = syntax.def_name(statement)
        if named is not None and named[0] in ("def", "defp"):
            found.setdefault(named[1], []).append(statement)
    return found
