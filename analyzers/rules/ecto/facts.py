"""Ecto schema facts: every ``schema``/``embedded_schema`` of the workspace, by module.

A schema module's facts are its source table, its fields and its
associations (kind, related module, field name), with module names resolved
through the schema module's aliases (``belongs_to :user, User`` after
``alias MyApp.Accounts.User`` relates to ``MyApp.Accounts.User``). Files are
parsed, never compiled: a schema built by a macro of the project's own is not
seen, which only makes the rules that use these facts quieter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.facts import FactCollector, register_collector
from analyzers.parsing import parse_elixir

SCHEMAS = "ecto_schemas"
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
    """Elixir files that mention ``Ecto.Schema`` (templates never declare schemas)."""
    return path.endswith((".ex", ".exs")) and b"schema" in source and b"Ecto.Schema" in source


def collect_schemas(tree: Tree) -> dict[str, SchemaFacts]:
    """The schemas declared in one file, by full module name."""
    found: dict[str, SchemaFacts] = {}
    for module, aliases in aliases_by_module(tree.root_node):
        for statement in syntax.block_statements(syntax.do_block(module)):
            if statement.type != "call":
                continue
            name = syntax.call_name(statement)
            if name == "schema":
                args = syntax.call_args(statement)
                table = syntax.string_value(args[0]) if args else None
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


register_collector(
    FactCollector(
        name=SCHEMAS,
        wants=wants_schemas,
        collect=lambda path, source, tree: collect_schemas(
            tree if tree is not None else parse_elixir(source)
        ),
        combine=combine_schemas,
    )
)
