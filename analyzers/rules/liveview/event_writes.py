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
    """What a clause does: the first create call (``Blog.create_post``), any guard, and more.

    ``target`` is the create call resolved (``("MyApp.Blog", "create_post")``);
    ``mentions`` the modules the reachable code names (``Invitation`` ->
    ``MyApp.Accounts.Invitation``), so a schema with a unique constraint counts.
    """

    creates: str | None
    guarded: bool
    target: tuple[str, str] | None = None
    mentions: frozenset[str] = frozenset()


def check_clause(
    clause: Node, module_defs: dict[str, list[Node]], aliases: ModuleAliases
) -> WriteCheck:
    """Inspect a ``def`` clause and the same-module functions it calls."""
    creates: str | None = None
    target: tuple[str, str] | None = None
    guarded = False
    mentions: set[str] = set()
    for node in _reachable(clause, module_defs):
        if node.type == "alias":
            mentions.add(aliases.expand(syntax.text(node)))
            continue
        name = syntax.call_name(node) or ""
        resolved = aliases.call_target(node) if "." in name else None
        function = resolved[1] if resolved is not None else name
        module = resolved[0] if resolved is not None else None
        if _guards(node, module, function):
            guarded = True
        # Not elif: ``Repo.insert(x, on_conflict: :nothing)`` both creates and guards.
        if creates is None and module is not None and _creates(module, function):
            creates, target = name, resolved
    return WriteCheck(creates, guarded, target, frozenset(mentions))


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


def _reachable(clause: Node, module_defs: dict[str, list[Node]]) -> Iterator[Node]:
    """Calls and aliases in ``clause`` and, breadth first, in same-module functions it calls."""
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
                if node.type == "alias":
                    yield node
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
