"""Ecto schema facts: every ``schema``/``embedded_schema`` of the workspace, by module.

A schema module's facts are its source table, its fields and its
associations (kind, related module, field name), with module names resolved
through the schema module's aliases (``belongs_to :user, User`` after
``alias MyApp.Accounts.User`` relates to ``MyApp.Accounts.User``). Files are
parsed, never compiled: a schema built by a macro of the project's own is not
seen, which only makes the rules that use these facts quieter.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.facts import FactCollector, register_collector, tree_of

SCHEMAS = "ecto_schemas"
REPOS = "ecto_repos"
QUERY_FUNCTIONS = "ecto_query_functions"
REPO_READS = frozenset(
    {
        "all", "all_by", "one", "one!", "get", "get!", "get_by", "get_by!", "aggregate", "exists?",
        "preload", "reload", "reload!", "stream",
    }
)  # fmt: skip
ASSOCIATION_KINDS = frozenset({"has_many", "has_one", "belongs_to", "many_to_many"})
FIELD_MACROS = frozenset({"field", "embeds_one", "embeds_many", "timestamps"})


@dataclass(frozen=True)
class Association:
    """``has_many :comments, MyApp.Blog.Comment`` as (name, kind, related module)."""

    name: str
    kind: str
    related: str | None


@dataclass(frozen=True)
class SchemaFacts:
    """One Ecto schema: module, source table (None when embedded), fields, associations."""

    module: str
    source: str | None
    fields: tuple[str, ...]
    associations: tuple[Association, ...]

    def association(self, name: str) -> Association | None:
        """The association called ``name``, if the schema declares one."""
        for assoc in self.associations:
            if assoc.name == name:
                return assoc
        return None


def wants_schemas(path: str, source: bytes) -> bool:
    """Elixir files that may declare a schema (possibly through a project's own ``use``)."""
    return path.endswith((".ex", ".exs")) and (
        b'schema "' in source or b"embedded_schema" in source
    )


def collect_schemas(tree: Tree) -> dict[str, SchemaFacts]:
    """The schemas declared in one file, by full module name."""
    found: dict[str, SchemaFacts] = {}
    for module, aliases in aliases_by_module(tree.root_node):
        for statement in syntax.block_statements(syntax.do_block(module)):
            if statement.type != "call":
                continue
            name = syntax.call_name(statement)
            if name == "schema" and syntax.do_block(statement) is not None:
                args = syntax.call_args(statement)
                table = syntax.string_value(args[0]) if args else None
                if table is not None:
                    found[aliases.module] = _schema(aliases, table, statement)
            elif name == "embedded_schema":
                found[aliases.module] = _schema(aliases, None, statement)
    return found


def _schema(aliases: ModuleAliases, table: str | None, block: Node) -> SchemaFacts:
    fields: list[str] = []
    associations: list[Association] = []
    for statement in syntax.body_nodes(block):
        if statement.type != "call":
            continue
        macro = syntax.call_name(statement)
        args = syntax.call_args(statement)
        name = syntax.atom_value(args[0]) if args else None
        if macro in ASSOCIATION_KINDS and name is not None:
            related = args[1] if len(args) > 1 and args[1].type == "alias" else None
            target = aliases.expand(syntax.text(related)) if related is not None else None
            associations.append(Association(name, macro, target))
            if macro == "belongs_to":
                fields.append(f"{name}_id")
        elif macro == "timestamps":
            fields.extend(("inserted_at", "updated_at"))
        elif macro in FIELD_MACROS and name is not None:
            fields.append(name)
    return SchemaFacts(aliases.module, table, tuple(fields), tuple(associations))


def combine_schemas(
    per_file: Mapping[str, dict[str, SchemaFacts]],
) -> dict[str, SchemaFacts]:
    """Every file's schemas in one mapping (files in path order; later paths win a clash)."""
    combined: dict[str, SchemaFacts] = {}
    for path in sorted(per_file):
        combined.update(per_file[path])
    return combined


# (``use Ecto.Repo`` modules, module -> delegation targets, ``*.Repo`` facade candidates)
RepoDeclarations = tuple[frozenset[str], dict[str, frozenset[str]], frozenset[str]]


def wants_repos(path: str, source: bytes) -> bool:
    """Modules that ``use Ecto.Repo`` or delegate to another module."""
    return path.endswith(".ex") and (b"Ecto.Repo" in source or b"defdelegate" in source)


def collect_repos(tree: Tree) -> RepoDeclarations:
    """One file's repos, delegations, and facade candidates.

    A facade candidate is a module named ``*.Repo`` that does not ``use
    Ecto.Repo`` itself, in a file that speaks of ``Ecto.Repo`` (a wrapper that
    generates the repo API, e.g. choosing between ``MyApp.RepoPostgres`` and
    ``MyApp.RepoMysql`` at run time).
    """
    repos: set[str] = set()
    delegates: dict[str, frozenset[str]] = {}
    candidates: set[str] = set()
    mentions_repo = b"Ecto.Repo" in (tree.root_node.text or b"")
    for module, aliases in aliases_by_module(tree.root_node):
        targets: set[str] = set()
        for statement in syntax.block_statements(syntax.do_block(module)):
            if statement.type != "call":
                continue
            name = syntax.call_name(statement)
            args = syntax.call_args(statement)
            if name == "use" and args and syntax.text(args[0]) == "Ecto.Repo":
                repos.add(aliases.module)
            elif name == "defdelegate":
                target = syntax.option(statement, "to")
                if target is not None and target.type == "alias":
                    targets.add(aliases.expand(syntax.text(target)))
        if targets:
            delegates[aliases.module] = frozenset(targets)
        if mentions_repo and aliases.module.rsplit(".", 1)[-1] == "Repo":
            candidates.add(aliases.module)
    return frozenset(repos), delegates, frozenset(candidates - repos)


def combine_repos(per_file: Mapping[str, RepoDeclarations]) -> frozenset[str]:
    """Every Ecto repo module: ``use Ecto.Repo``, modules delegating to one, and facades.

    A facade candidate counts when a real repo's name extends its own
    (``MyApp.Repo`` beside ``MyApp.RepoPostgres`` or ``MyApp.Repo.Replica``).
    """
    repos: set[str] = set()
    delegates: dict[str, frozenset[str]] = {}
    candidates: set[str] = set()
    for declared, delegating, facades in per_file.values():
        repos |= declared
        delegates.update(delegating)
        candidates |= facades
    wrappers = {module for module, targets in delegates.items() if targets & repos}
    fronts = {c for c in candidates if any(r != c and r.startswith(c) for r in repos)}
    return frozenset(repos | wrappers | fronts)


# module -> (functions that read through a repo, function -> module it delegates to)
QueryFunctions = dict[str, tuple[frozenset[str], dict[str, str]]]


def wants_query_functions(path: str, source: bytes) -> bool:
    """Application modules that call a repo or delegate (``.ex`` only: scripts are not APIs)."""
    return path.endswith(".ex") and (b"Repo" in source or b"defdelegate" in source)


def collect_query_functions(tree: Tree) -> QueryFunctions:
    """Per module: the public and private functions that run a repo read, directly or locally.

    A read is a call to a module whose last segment ends in ``Repo`` (after the
    module's aliases); a function that calls such a function of its own module
    reads too.
    """
    found: QueryFunctions = {}
    calls = syntax.descendants_of_type(tree.root_node, "call", tree.language)
    starts = [call.start_byte for call in calls]
    for module, aliases in aliases_by_module(tree.root_node):
        reads: set[str] = set()
        local_calls: dict[str, set[str]] = {}
        delegates: dict[str, str] = {}
        for statement in syntax.block_statements(syntax.do_block(module)):
            if statement.type != "call":
                continue
            if syntax.identifier_target(statement) == b"defdelegate":
                _read_delegate(statement, aliases, delegates)
                continue
            named = syntax.def_name(statement)
            if named is None:
                continue
            local = local_calls.setdefault(named[1], set())
            # The calls inside this definition: a slice of the file's calls (one query per file).
            first = bisect.bisect_left(starts, statement.start_byte)
            last = bisect.bisect_left(starts, statement.end_byte)
            for node in calls[first:last]:
                if node.end_byte > statement.end_byte or node == statement:
                    continue
                if _reads_repo(node, aliases, local):
                    reads.add(named[1])
        changed = True
        while changed:
            grown = {name for name, callees in local_calls.items() if callees & reads} - reads
            reads |= grown
            changed = bool(grown)
        if reads or delegates:
            found[aliases.module] = (frozenset(reads), delegates)
    return found


def _reads_repo(node: Node, aliases: ModuleAliases, local: set[str]) -> bool:
    """Whether call ``node`` reads through a repo; a local call's name is added to ``local``.

    This runs over every call of every application module: the function name
    is tested before the receiver's name is built.
    """
    target = node.child_by_field_name("target")
    if target is None:
        return False
    kind = target.type
    if kind == "identifier":
        local.add(syntax.text(target))
        return False
    if kind != "dot":
        return False
    right = target.child_by_field_name("right")
    if right is not None and right.type == "identifier" and syntax.text(right) not in REPO_READS:
        return False
    name = syntax.call_name(node)
    if name is None:
        return False
    receiver, _, function = name.rpartition(".")
    return (
        function in REPO_READS
        and (receiver[:1].isupper() or receiver.startswith("__MODULE__"))
        and aliases.expand(receiver).rsplit(".", 1)[-1].endswith("Repo")
    )


def _read_delegate(node: Node, aliases: ModuleAliases, delegates: dict[str, str]) -> None:
    args = syntax.call_args(node)
    target = syntax.option(node, "to")
    head = args[0] if args else None
    if head is None or target is None or target.type != "alias":
        return
    name = syntax.call_name(head) if head.type == "call" else syntax.text(head)
    if name and "." not in name:
        alias_value = syntax.option(node, "as")
        delegated = syntax.atom_value(alias_value) if alias_value is not None else None
        delegates[name] = f"{aliases.expand(syntax.text(target))}.{delegated or name}"


def combine_query_functions(per_file: Mapping[str, QueryFunctions]) -> dict[str, frozenset[str]]:
    """Module -> functions that read through a repo, delegations followed."""
    reads: dict[str, set[str]] = {}
    delegates: dict[str, dict[str, str]] = {}
    for path in sorted(per_file):
        for module, (names, delegated) in per_file[path].items():
            reads.setdefault(module, set()).update(names)
            delegates.setdefault(module, {}).update(delegated)
    for _ in range(3):  # delegation chains are short
        for module, delegated in delegates.items():
            for name, target in delegated.items():
                target_module, _, target_name = target.rpartition(".")
                if target_name in reads.get(target_module, set()):
                    reads.setdefault(module, set()).add(name)
    return {module: frozenset(names) for module, names in reads.items() if names}


register_collector(
    FactCollector(
        name=QUERY_FUNCTIONS,
        wants=wants_query_functions,
        collect=lambda path, source, tree: collect_query_functions(tree_of(source, tree)),
        combine=combine_query_functions,
    )
)

register_collector(
    FactCollector(
        name=REPOS,
        wants=wants_repos,
        collect=lambda path, source, tree: collect_repos(tree_of(source, tree)),
        combine=combine_repos,
    )
)

register_collector(
    FactCollector(
        name=SCHEMAS,
        wants=wants_schemas,
        collect=lambda path, source, tree: collect_schemas(tree_of(source, tree)),
        combine=combine_schemas,
    )
)
