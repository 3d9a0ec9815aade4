"""What the MG rules share: a migration module read once per file.

"Existing table" = a table not created by ``create table``/``create_if_not_exists
table`` in the same migration module; lock rules apply to existing tables
only. Rollback code (``def down``) is not checked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.project import RepoFacts

FORWARD_DEFS = frozenset({"change", "up"})
CREATE_TABLE_CALLS = frozenset({"create", "create_if_not_exists"})
INDEX_FUNCTIONS = frozenset({"index", "unique_index"})
INDEX_DDL = frozenset({"create", "create_if_not_exists", "drop", "drop_if_exists"})
DATA_MIGRATION_DIRS = frozenset({"data_migrations", "data-migrations", "data"})


@dataclass
class MigrationModule:
    """One ``defmodule`` that uses ``Ecto.Migration`` (or lives in a migrations folder)."""

    node: Node
    use_node: Node | None
    attributes: dict[str, Node] = field(default_factory=dict)
    forward_defs: list[Node] = field(default_factory=list)
    change_def: Node | None = None
    created_tables: set[str] = field(default_factory=set)
    repo: RepoFacts | None = None
    _forward_calls: list[Node] | None = None
    _local_calls: dict[str, list[Node]] | None = None

    def attribute_true(self, name: str) -> bool:
        """``@name true`` is set in the module."""
        node = self.attributes.get(name)
        if node is None:
            return False
        found = syntax.module_attribute(node)
        return found is not None and syntax.is_literal_true(found[1])

    @property
    def is_postgres(self) -> bool:
        """Whether lock rules apply (Postgres, or an unknown adapter)."""
        return self.repo is None or self.repo.is_postgres

    @property
    def uses_advisory_lock(self) -> bool:
        """The repo runs migrations under ``migration_lock: :pg_advisory_lock``."""
        return self.repo is not None and self.repo.uses_advisory_lock

    def is_existing(self, table: str | None) -> bool:
        """True unless ``table`` was created in this module (unknown names count as existing)."""
        return table is None or table not in self.created_tables

    def forward_calls(self) -> list[Node]:
        """Every ``call`` node inside ``def change``/``def up`` bodies, in order."""
        if self._forward_calls is None:
            calls: list[Node] = []
            for definition in self.forward_defs:
                calls.extend(
                    n for n in syntax.walk(definition) if n.type == "call" and n != definition
                )
            self._forward_calls = calls
        return self._forward_calls

    def local_calls(self, name: str) -> list[Node]:
        """Forward-code calls of the local (undotted) function ``name``, in order.

        Indexed once per module: every MG rule asks for a few DSL names, and
        reading each call's name is the expensive part.
        """
        if self._local_calls is None:
            index: dict[str, list[Node]] = {}
            for call in self.forward_calls():
                target = syntax.call_target(call)
                if target is not None and target.type == "identifier":
                    index.setdefault(syntax.text(target), []).append(call)
            self._local_calls = index
        return self._local_calls.get(name, [])

    def in_change(self, node: Node) -> bool:
        """Whether ``node`` is inside ``def change`` (reversible-migration context)."""
        d = self.change_def
        return d is not None and d.start_byte <= node.start_byte and node.end_byte <= d.end_byte

    def insertion_after_use(self, source: bytes) -> tuple[int, str]:
        """Where to add module attributes: the end of the ``use Ecto.Migration`` line, and the indent."""
        anchor = self.use_node
        if anchor is None:
            body = syntax.do_block(self.node)
            first = syntax.block_statements(body)
            if first:
                start = syntax.line_start(source, first[0].start_byte)
                return start, syntax.indentation_at(source, first[0].start_byte)
            return self.node.end_byte, "  "
        end = anchor.end_byte
        newline = source.find(b"\n", end)
        return (newline if newline != -1 else len(source)), syntax.indentation_at(
            source, anchor.start_byte
        )


def migration_modules(ctx: FileContext) -> list[MigrationModule]:
    """Migration modules in the file (computed once per file)."""
    return ctx.memo("migrations.modules", lambda: _read_modules(ctx))


def in_migrations_dir(path: str) -> bool:
    """``priv/<repo>/migrations/...`` (the Ecto convention)."""
    parts = PurePosixPath(path.replace(os.sep, "/")).parts
    return any(
        parts[i] == "priv" and i + 2 < len(parts) and parts[i + 2] == "migrations"
        for i in range(len(parts))
    )


def in_data_migrations_dir(path: str) -> bool:
    """A separate data-migration directory (exempt from MG010)."""
    parts = PurePosixPath(path.replace(os.sep, "/")).parts
    return any(p in DATA_MIGRATION_DIRS for p in parts[:-1])


def _defmodules(node: Node) -> list[Node]:
    """``defmodule`` calls at the top level and nested in other modules' bodies.

    Walking only module structure (not every node) keeps the MG family nearly
    free on the large non-migration files a user types in.
    """
    found: list[Node] = []
    for child in node.named_children:
        if child.type == "call" and syntax.call_name(child) == "defmodule":
            found.append(child)
            found.extend(_defmodules(syntax.do_block(child) or child))
    return found


def _read_modules(ctx: FileContext) -> list[MigrationModule]:
    by_dir = in_migrations_dir(ctx.path)
    if not by_dir and b"Ecto.Migration" not in ctx.source:
        return []
    repo = ctx.facts.repo_for_migration(ctx.path)
    modules: list[MigrationModule] = []
    for node in _defmodules(ctx.root):
        body = syntax.block_statements(syntax.do_block(node))
        use_node = next(
            (
                s
                for s in body
                if s.type == "call"
                and syntax.call_name(s) == "use"
                and syntax.call_args(s)
                and syntax.text(syntax.call_args(s)[0]) == "Ecto.Migration"
            ),
            None,
        )
        if use_node is None and not by_dir:
            continue
        if use_node is None and not any(
            syntax.def_name(s) is not None and syntax.def_name(s)[1] in FORWARD_DEFS  # type: ignore[index]
            for s in body
        ):
            continue
        module = MigrationModule(node=node, use_node=use_node, repo=repo)
        for statement in body:
            attribute = syntax.module_attribute(statement)
            if attribute is not None:
                module.attributes[attribute[0]] = statement
                continue
            named = syntax.def_name(statement)
            if named is not None and named[0] == "def" and named[1] in FORWARD_DEFS:
                module.forward_defs.append(statement)
                if named[1] == "change":
                    module.change_def = statement
        module.created_tables = _created_tables(module)
        modules.append(module)
    return modules


def _created_tables(module: MigrationModule) -> set[str]:
    tables: set[str] = set()
    for call in (c for name in CREATE_TABLE_CALLS for c in module.local_calls(name)):
        args = syntax.positional_args(call)
        if args and args[0].type == "call" and syntax.call_name(args[0]) == "table":
            name = table_name(args[0])
            if name is not None:
                tables.add(name)
    return tables


def table_name(table_call: Node) -> str | None:
    """``posts`` for ``table(:posts)``/``table("posts")`` (with ``prefix:``, ``prefix.posts``)."""
    args = syntax.positional_args(table_call)
    if not args:
        return None
    name = syntax.literal_name(args[0])
    if name is None:
        return None
    prefix = syntax.literal_name(syntax.option(table_call, "prefix"))
    return f"{prefix}.{name}" if prefix else name


def module_of(ctx: FileContext, node: Node) -> MigrationModule | None:
    """The migration module whose forward code contains ``node`` (None: not checked)."""
    for module in migration_modules(ctx):
        for definition in module.forward_defs:
            if definition.start_byte <= node.start_byte and node.end_byte <= definition.end_byte:
                return module
    return None


def enclosing_table_block(node: Node) -> tuple[str, Node] | None:
    """For a call inside ``alter table(:t) do ... end`` (or ``create table``): ``(kind, table_call)``."""
    for parent in syntax.ancestors(node):
        if parent.type == "do_block":
            return _table_block(parent)
    return None


def _table_block(block: Node) -> tuple[str, Node] | None:
    owner = block.parent
    if owner is None or owner.type != "call":
        return None
    kind = syntax.call_name(owner)
    if kind in {"alter", "create", "create_if_not_exists"}:
        args = syntax.positional_args(owner)
        if args and args[0].type == "call" and syntax.call_name(args[0]) == "table":
            return kind, args[0]
    return None


@dataclass(frozen=True)
class TableBlock:
    """The ``alter``/``create table(...) do ... end`` block a call sits in."""

    kind: str
    table_call: Node
    table: str | None


def table_block_of(ctx: FileContext, node: Node) -> TableBlock | None:
    """:func:`enclosing_table_block` plus the table's name, read once per block in a file.

    A migration adding hundreds of columns to one table asks about the same
    block for every column, from several rules.
    """
    blocks: dict[int, TableBlock | None] = ctx.memo("migrations.table_blocks", dict)
    for parent in syntax.ancestors(node):
        if parent.type != "do_block":
            continue
        if parent.start_byte not in blocks:
            found = _table_block(parent)
            blocks[parent.start_byte] = (
                TableBlock(found[0], found[1], table_name(found[1])) if found else None
            )
        return blocks[parent.start_byte]
    return None


def resolve_call(value: Node, names: frozenset[str]) -> Node | None:
    """The call named in ``names`` behind a DDL argument.

    Handles the call written inline, piped (``:t |> index(cols) |> create()``),
    and bound to a variable earlier in the same function (``idx = index(...)``).
    """
    if value.type == "call" and syntax.call_name(value) in names:
        return value
    if value.type == "binary_operator" and syntax.operator(value) == "|>":
        right = value.child_by_field_name("right")
        if right is not None and right.type == "call" and syntax.call_name(right) in names:
            return right
        return None
    if value.type == "identifier":
        bound = syntax.bound_value(value)
        # One level only: `a = b` chains are rare and could loop.
        return (
            resolve_call(bound, names) if bound is not None and bound.type != "identifier" else None
        )
    return None


def resolve_index(ctx: FileContext, value: Node) -> Node | None:
    """The ``index(...)``/``unique_index(...)`` call behind a DDL argument (see :func:`resolve_call`)."""
    return resolve_call(value, INDEX_FUNCTIONS)


def index_table(index_call: Node) -> str | None:
    """The table an ``index``/``unique_index`` call is on (first effective argument)."""
    args = syntax.positional_args(index_call)
    if not args:
        return None
    name = syntax.literal_name(args[0])
    if name is None:
        return None
    prefix = syntax.literal_name(syntax.option(index_call, "prefix"))
    return f"{prefix}.{name}" if prefix else name


def ddl_calls(ctx: FileContext, names: frozenset[str]) -> list[tuple[MigrationModule, Node]]:
    """Local calls named ``names`` in forward code, with their module."""
    found: list[tuple[MigrationModule, Node]] = []
    for module in migration_modules(ctx):
        calls = [call for name in names for call in module.local_calls(name)]
        found.extend((module, call) for call in sorted(calls, key=lambda c: c.start_byte))
    return found
