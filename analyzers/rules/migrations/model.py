"""What the MG rules share: a migration module read once per file.

"Existing table" = a table not created by ``create table``/``create_if_not_exists
table`` in the same migration module; lock rules apply to existing tables
only. Rollback code (``def down``) is not checked.

Thirteen rules read the same few calls of a migration, so each call's name
(:func:`name_of`) and argument shape (:func:`shape_of`), and each family of
DSL calls (:func:`ddl_calls`), are read once per file and kept in ``ctx.memo``:
never globally, since the MG rules are re-run per module on a compact source
after an edit (see ``analyzers.incremental``).
"""

from __future__ import annotations

import bisect
import functools
import operator
import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.project import RepoFacts

FORWARD_DEFS = frozenset({"change", "up"})
CREATE_TABLE_CALLS = frozenset({"create", "create_if_not_exists"})
INDEX_FUNCTIONS = frozenset({"index", "unique_index"})
INDEX_DDL = frozenset({"create", "create_if_not_exists", "drop", "drop_if_exists"})
_NOT_HELPERS = FORWARD_DEFS | {"down"}
DATA_MIGRATION_DIRS = frozenset({"data_migrations", "data-migrations", "data"})
_START = operator.attrgetter("start_byte")


@dataclass
class MigrationModule:
    """One ``defmodule`` that uses ``Ecto.Migration`` (or lives in a migrations folder)."""

    node: Node
    use_node: Node | None
    attributes: dict[str, Node] = field(default_factory=dict)
    forward_defs: list[Node] = field(default_factory=list)
    change_def: Node | None = None
    created_tables: set[str] = field(default_factory=set)
    # The module's other def/defp functions (not change/up/down) by name: code forward code may call.
    helpers: dict[str, list[Node]] = field(default_factory=dict)
    repo: RepoFacts | None = None
    # The file's call-name cache (shared with :func:`name_of`), so the module's index fills it.
    names: dict[Node, str | None] = field(default_factory=dict)
    _forward_calls: list[Node] | None = None
    _call_index: tuple[dict[str, list[Node]], list[Node]] | None = None

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
                calls.extend(_walk_calls(definition))
            self._forward_calls = calls
        return self._forward_calls

    def local_calls(self, name: str) -> list[Node]:
        """Forward-code calls of the local (undotted) function ``name``, in order.

        Indexed once per module, in one pass that reads only each call's target
        identifier: every MG rule asks for a few DSL names. The names read here
        go to the file's name cache (:func:`name_of`), which MG010 and MG011 ask
        of every forward call; dotted names are read there only when asked.
        """
        return self._indexed_calls()[0].get(name, [])

    def has_local_call(self, name: str) -> bool:
        """Whether forward code calls the local (undotted) function ``name``."""
        return bool(self.local_calls(name))

    def other_calls(self) -> list[Node]:
        """Forward-code calls not of a plain identifier (``Repo.insert(...)``, ``f.(x)``), in order.

        The only forward calls :func:`name_of` can give a dotted name.
        """
        return self._indexed_calls()[1]

    def _indexed_calls(self) -> tuple[dict[str, list[Node]], list[Node]]:
        """(forward calls of an identifier by name, the other forward calls), read once."""
        if self._call_index is None:
            self._call_index = _index_local_calls(self.forward_calls(), self.names)
        return self._call_index

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


def _index_local_calls(
    calls: list[Node], names: dict[Node, str | None]
) -> tuple[dict[str, list[Node]], list[Node]]:
    """``calls`` of an identifier (``create``, not ``Repo.insert``) by name, and the others.

    Each list is in the order of ``calls``. An identifier call's name is
    :func:`syntax.call_name`'s answer (the identifier's text), so it is
    recorded in ``names`` as well.
    """
    index: dict[str, list[Node]] = {}
    others: list[Node] = []
    for call in calls:
        target = call.child_by_field_name("target")
        if target is None or target.type != "identifier":
            others.append(call)
            continue
        raw = target.text
        name = names[call] = raw.decode("utf-8", "replace") if raw is not None else ""
        found = index.get(name)
        if found is None:
            index[name] = [call]
        else:
            found.append(call)
    return index, others


# "Not in the cache yet" for dict.get on caches whose values may be None.
_UNREAD: Any = object()
_NAMES = "migrations.names"


def name_of(ctx: FileContext, node: Node) -> str | None:
    """:func:`syntax.call_name` of ``node``, read once per node and file."""
    names: dict[Node, str | None] = ctx.memo(_NAMES, dict)
    found = names.get(node, _UNREAD)
    if found is _UNREAD:
        found = names[node] = syntax.call_name(node)
    return found  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class CallShape:
    """How a call's arguments read (the :mod:`analyzers.syntax` helpers' answers, read once).

    ``args`` is :func:`syntax.call_args`, ``options_node`` :func:`syntax.options_node`,
    ``positional`` :func:`syntax.positional_args` and ``options``
    :func:`syntax.keyword_pairs` of the options.
    """

    args: list[Node]
    options_node: Node | None
    positional: list[Node]
    options: list[tuple[str, Node, Node]]

    def option(self, key: str) -> Node | None:
        """:func:`syntax.option`: the value of the first ``key:`` option, if any."""
        for name, _pair, value in self.options:
            if name == key:
                return value
        return None


def shape_of(ctx: FileContext, node: Node) -> CallShape:
    """The :class:`CallShape` of ``node``, read once per node and file."""
    shapes: dict[Node, CallShape] = ctx.memo("migrations.shapes", dict)
    found = shapes.get(node)
    if found is None:
        # No call is piped into in a file without `|>`: its calls need no parent lookup.
        found = shapes[node] = _read_shape(node, may_be_piped=ctx.contains(b"|>"))
    return found


def _read_shape(node: Node, *, may_be_piped: bool = True) -> CallShape:
    # The same steps as syntax.positional_args/options_node, sharing one call_args.
    args = syntax.call_args(node)
    options: Node | None = None
    pairs: list[tuple[str, Node, Node]] = []
    if args:
        last = args[-1]
        if last.type == "keywords":
            options = last
            pairs = syntax.keyword_pairs(last)
        elif last.type == "list":
            pairs = syntax.keyword_pairs(last)
            options = last if pairs else None
    piped = syntax.pipe_source(node) if may_be_piped else None
    effective = [piped, *args] if piped is not None else args
    positional = [a for a in effective if a != options] if options is not None else effective
    return CallShape(args, options, positional, pairs)


def positional(ctx: FileContext, node: Node) -> list[Node]:
    """:func:`syntax.positional_args`, read once per node and file (do not mutate)."""
    return shape_of(ctx, node).positional


def option(ctx: FileContext, node: Node, key: str) -> Node | None:
    """:func:`syntax.option`, with the options read once per node and file."""
    return shape_of(ctx, node).option(key)


def migration_modules(ctx: FileContext) -> list[MigrationModule]:
    """Migration modules in the file (computed once per file)."""
    return ctx.memo("migrations.modules", lambda: _read_modules(ctx))


# Asked by every MG rule of every file: answered once per path.
@functools.lru_cache(maxsize=4096)
def in_migrations_dir(path: str) -> bool:
    """``priv/<repo>/migrations/...`` (the Ecto convention)."""
    if "migrations" not in path:
        # Most files of a project: no need to split the path.
        return False
    parts = PurePosixPath(path.replace(os.sep, "/")).parts
    return any(
        parts[i] == "priv" and i + 2 < len(parts) and parts[i + 2] == "migrations"
        for i in range(len(parts))
    )


@functools.lru_cache(maxsize=4096)
def in_data_migrations_dir(path: str) -> bool:
    """A separate data-migration directory (exempt from MG010)."""
    if "data" not in path:
        # Every name in DATA_MIGRATION_DIRS contains "data": most paths need no split.
        return False
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


def may_hold_migrations(ctx: FileContext) -> bool:
    """Whether the file can hold a migration module at all: every MG rule's ``applies`` test.

    A module counts as a migration only if it ``use``s ``Ecto.Migration`` or the
    file lies in a migrations folder (see :func:`_read_modules`), so a file with
    neither has no migration module, and its rules need not look further.
    """
    return in_migrations_dir(ctx.path) or ctx.contains(b"Ecto.Migration")


def _read_modules(ctx: FileContext) -> list[MigrationModule]:
    if not may_hold_migrations(ctx):
        return []
    by_dir = in_migrations_dir(ctx.path)
    repo = ctx.facts.repo_for_migration(ctx.path)
    names: dict[Node, str | None] = ctx.memo(_NAMES, dict)
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
        module = MigrationModule(node=node, use_node=use_node, repo=repo, names=names)
        for statement in body:
            attribute = syntax.module_attribute(statement)
            if attribute is not None:
                module.attributes[attribute[0]] = statement
                continue
            named = syntax.def_name(statement)
            if named is None:
                continue
            if named[0] == "def" and named[1] in FORWARD_DEFS:
                module.forward_defs.append(statement)
                if named[1] == "change":
                    module.change_def = statement
            elif named[0] in {"def", "defp"} and named[1] not in _NOT_HELPERS:
                module.helpers.setdefault(named[1], []).append(statement)
        module._forward_calls = _forward_calls(ctx, module.forward_defs)
        module.created_tables = _created_tables(ctx, module)
        modules.append(module)
    return modules


def _walk_calls(definition: Node) -> list[Node]:
    """The calls inside ``definition`` (not itself), in pre-order."""
    return [n for n in syntax.walk(definition) if n.type == "call" and n != definition]


def _forward_calls(ctx: FileContext, definitions: list[Node]) -> list[Node]:
    """What :meth:`MigrationModule.forward_calls` walks to, cut out of the file's calls.

    The file's calls (one query, usually already made for other rules) are in
    document order, enclosing calls first, which is a walk's pre-order. A
    ``def`` call's descendants are exactly the calls that start after its
    first byte (its ``def`` keyword is no call) and before its end: siblings
    never reach into it. A definition with a syntax error is walked instead,
    since its recovered nodes may tie in position and the order then rests on
    the query's capture order.
    """
    if not definitions:
        # Nothing to cut: a module without forward code need not query the file's calls.
        return []
    calls = ctx.nodes("call")
    found: list[Node] = []
    for definition in definitions:
        if definition.has_error:
            found.extend(_walk_calls(definition))
            continue
        start, end = definition.start_byte, definition.end_byte
        # Indexes, not a slice: a slice would copy the rest of the file's calls per definition.
        at = bisect.bisect_right(calls, start, key=_START)
        while at < len(calls):
            call = calls[at]
            if call.start_byte >= end:
                break
            if call.end_byte <= end:
                found.append(call)
            at += 1
    return found


def _created_tables(ctx: FileContext, module: MigrationModule) -> set[str]:
    tables: set[str] = set()
    for call in (c for name in CREATE_TABLE_CALLS for c in module.local_calls(name)):
        args = positional(ctx, call)
        if args and args[0].type == "call" and name_of(ctx, args[0]) == "table":
            name = table_name(ctx, args[0])
            if name is not None:
                tables.add(name)
    return tables


def table_name(ctx: FileContext, table_call: Node) -> str | None:
    """``posts`` for ``table(:posts)``/``table("posts")`` (with ``prefix:``, ``prefix.posts``)."""
    shape = shape_of(ctx, table_call)
    args = shape.positional
    if not args:
        return None
    name = syntax.literal_name(args[0])
    if name is None:
        return None
    prefix = syntax.literal_name(shape.option("prefix"))
    return f"{prefix}.{name}" if prefix else name


def module_of(ctx: FileContext, node: Node) -> MigrationModule | None:
    """The migration module whose forward code contains ``node`` (None: not checked)."""
    for module in migration_modules(ctx):
        for definition in module.forward_defs:
            if definition.start_byte <= node.start_byte and node.end_byte <= definition.end_byte:
                return module
    return None


def enclosing_table_block(ctx: FileContext, node: Node) -> tuple[str, Node] | None:
    """For a call inside ``alter table(:t) do ... end`` (or ``create table``): ``(kind, table_call)``."""
    for parent in syntax.ancestors(node):
        if parent.type == "do_block":
            return _table_block(ctx, parent)
    return None


def _table_block(ctx: FileContext, block: Node) -> tuple[str, Node] | None:
    owner = block.parent
    if owner is None or owner.type != "call":
        return None
    kind = name_of(ctx, owner)
    if kind in {"alter", "create", "create_if_not_exists"}:
        args = positional(ctx, owner)
        if args and args[0].type == "call" and name_of(ctx, args[0]) == "table":
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
    # Per call (several rules ask about the same call) and per block (many calls share one).
    answers: dict[Node, TableBlock | None] = ctx.memo("migrations.call_table_blocks", dict)
    answer = answers.get(node, _UNREAD)
    if answer is _UNREAD:
        answer = answers[node] = _find_table_block(ctx, node)
    return answer  # type: ignore[no-any-return]


def _find_table_block(ctx: FileContext, node: Node) -> TableBlock | None:
    blocks: dict[int, TableBlock | None] = ctx.memo("migrations.table_blocks", dict)
    # The nearest do-block only (a DSL call is usually its direct child).
    parent = next((p for p in syntax.ancestors(node) if p.type == "do_block"), None)
    if parent is None:
        return None
    found = blocks.get(parent.start_byte, _UNREAD)
    if found is _UNREAD:
        table_block = _table_block(ctx, parent)
        found = blocks[parent.start_byte] = (
            TableBlock(table_block[0], table_block[1], table_name(ctx, table_block[1]))
            if table_block
            else None
        )
    return found  # type: ignore[no-any-return]


def resolve_call(ctx: FileContext, value: Node, names: frozenset[str]) -> Node | None:
    """The call named in ``names`` behind a DDL argument.

    Handles the call written inline, piped (``:t |> index(cols) |> create()``),
    and bound to a variable earlier in the same function (``idx = index(...)``).
    """
    if value.type == "call" and name_of(ctx, value) in names:
        return value
    if value.type == "binary_operator" and syntax.operator(value) == "|>":
        right = value.child_by_field_name("right")
        if right is not None and right.type == "call" and name_of(ctx, right) in names:
            return right
        return None
    if value.type == "identifier":
        bound = syntax.bound_value(value)
        # One level only: `a = b` chains are rare and could loop.
        return (
            resolve_call(ctx, bound, names)
            if bound is not None and bound.type != "identifier"
            else None
        )
    return None


def resolve_index(ctx: FileContext, value: Node) -> Node | None:
    """The ``index(...)``/``unique_index(...)`` call behind a DDL argument (see :func:`resolve_call`)."""
    return resolve_call(ctx, value, INDEX_FUNCTIONS)


def index_table(ctx: FileContext, index_call: Node) -> str | None:
    """The table an ``index``/``unique_index`` call is on (first effective argument)."""
    shape = shape_of(ctx, index_call)
    args = shape.positional
    if not args:
        return None
    name = syntax.literal_name(args[0])
    if name is None:
        return None
    prefix = syntax.literal_name(shape.option("prefix"))
    return f"{prefix}.{name}" if prefix else name


def ddl_calls(ctx: FileContext, names: frozenset[str]) -> list[tuple[MigrationModule, Node]]:
    """Local calls named ``names`` in forward code, with their module (do not mutate).

    Read once per file and set of names: most rules ask for the same few sets.
    """
    cache: dict[frozenset[str], list[tuple[MigrationModule, Node]]] = ctx.memo(
        "migrations.ddl_calls", dict
    )
    found = cache.get(names)
    if found is None:
        found = cache[names] = []
        for module in migration_modules(ctx):
            calls = [call for name in names for call in module.local_calls(name)]
            found.extend((module, call) for call in sorted(calls, key=_START))
    return found
