"""What a rule sees of one file: source, tree, config, project facts, and shared lookups."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tree_sitter import Language, Node, Query, QueryCursor, QueryError, Tree

from analyzers.config import Config
from analyzers.model import Finding, Fix, RuleMeta, Severity
from analyzers.presence import Presence
from analyzers.project import ProjectFacts
from analyzers.text import LineIndex

T = TypeVar("T")


@functools.cache
def _type_query(node_type: str, language: Language) -> Query | None:
    """A query capturing every node of one type (built once per type and grammar).

    None when the grammar has no such node type (e.g. ``call`` in HEEx).
    """
    try:
        return Query(language, f"({node_type}) @node")
    except QueryError:
        return None


_START = operator.attrgetter("start_byte")
_END = operator.attrgetter("end_byte")


def in_document_order(nodes: list[Node]) -> list[Node]:
    """``nodes`` sorted by start, enclosing nodes first (by start, then by end, descending).

    Two stable sorts with C-level keys: over twice as fast as one sort on a
    Python key, and this sorts every call of a file.
    """
    ordered = sorted(nodes, key=_END, reverse=True)
    ordered.sort(key=_START)
    return ordered


@functools.cache
def _call_ids(language: Language) -> tuple[int, int, int, int] | None:
    """(``target`` field, ``right`` field, ``identifier`` kind, ``dot`` kind) ids of a grammar.

    Integer ids instead of names: comparing them costs no string per node. None
    when the grammar lacks one of them.
    """
    target = language.field_id_for_name("target")
    right = language.field_id_for_name("right")
    identifier = language.id_for_node_kind("identifier", True)
    dot = language.id_for_node_kind("dot", True)
    if not (target and right and identifier and dot):
        return None
    return target, right, identifier, dot


def _index_by_function(calls: list[Node], language: Language) -> dict[str, list[Node]]:
    """``calls`` (in document order) keyed by their function identifier, in the same order.

    One pass keyed by the identifier's bytes (decoded once per distinct name):
    this runs over every call of a file, so it does the fewest node accesses,
    by field and kind ids of ``language`` (the calls' grammar).
    """
    ids = _call_ids(language)
    if ids is None:
        # A grammar without identifier/dot nodes (HEEx) has no call of a named function.
        return {}
    target_field, right_field, identifier, dot = ids
    by_bytes: dict[bytes, list[Node]] = {}
    for call in calls:
        target = call.child_by_field_id(target_field)
        if target is None:
            continue
        kind = target.kind_id
        if kind == dot:
            target = target.child_by_field_id(right_field)
            if target is None or target.kind_id != identifier:
                continue
        elif kind != identifier:
            continue
        raw = target.text
        if raw:
            found = by_bytes.get(raw)
            if found is None:
                by_bytes[raw] = [call]
            else:
                found.append(call)
    return _by_name(by_bytes)


def _by_name(by_bytes: dict[bytes, list[Node]]) -> dict[str, list[Node]]:
    """Lists of nodes keyed by a name's bytes, keyed by the decoded name instead.

    Two invalid byte sequences may read alike: their nodes share one list, in
    document order.
    """
    index: dict[str, list[Node]] = {}
    for raw, found in by_bytes.items():
        name = raw.decode("utf-8", "replace")
        index[name] = in_document_order([*index[name], *found]) if name in index else found
    return index


@functools.cache
def _call_target_query(language: Language) -> Query | None:
    """A query capturing the function identifier of every call named by one.

    ``get`` of ``get(x)`` and of ``Repo.get(x)`` alike: the calls the index keeps.
    None for a grammar without such calls (HEEx).
    """
    try:
        return Query(
            language,
            "(call target: (identifier) @name) (call target: (dot right: (identifier) @name))",
        )
    except QueryError:
        return None


def _call_targets_by_name(tree: Tree, source: bytes) -> dict[str, list[Node]]:
    """The function identifier of every call in ``tree`` (parsed from ``source``), by name.

    Cheaper than reading each call's target: the query hands over the
    identifiers, and only the few asked for are climbed back to their calls
    (see :func:`_calls_of_targets`). Empty (missing) identifiers are left out.
    """
    query = _call_target_query(tree.language)
    if query is None:
        return {}
    by_bytes: dict[bytes, list[Node]] = {}
    for target in QueryCursor(query).captures(tree.root_node).get("name", ()):
        # Slicing the source costs less than asking the node for its text.
        raw = source[target.start_byte : target.end_byte]
        if raw:
            found = by_bytes.get(raw)
            if found is None:
                by_bytes[raw] = [target]
            else:
                found.append(target)
    return _by_name(by_bytes)


def _calls_of_targets(targets: list[Node]) -> list[Node]:
    """The calls whose function identifiers are ``targets``, in document order.

    An identifier's call is its parent, or its grandparent after a dot; the
    identifiers' own order can differ from the calls' (``a.b.c()`` encloses ``a.b``).
    """
    calls: list[Node] = []
    for target in targets:
        call = target.parent
        if call is not None and call.type == "dot":
            call = call.parent
        if call is not None:
            calls.append(call)
    return calls if len(calls) == 1 else in_document_order(calls)


# Nodes of one type already found in a tree before its analysis (by the CLI's fact
# collectors), for the FileContext of that very tree object: (tree, node type, nodes).
_handed_over: tuple[Tree, str, list[Node]] | None = None


def hand_over(tree: Tree, node_type: str, nodes: list[Node]) -> None:
    """Give the next analysis of ``tree`` its ``node_type`` nodes (all of them, in document order).

    Saves the tree walk :meth:`FileContext.nodes` would do; one tree at a time.
    """
    global _handed_over
    _handed_over = (tree, node_type, nodes)


class FileContext:
    """One file under analysis.

    Nodes are bucketed by type in a single cursor walk, done on first use and
    shared by every rule; derived models (e.g. the migration model) are
    memoised per file with :meth:`memo`.
    """

    #: ``contains(needle)``: whether ``needle`` occurs in the source (rules' "could this
    #: file concern me?" test). Cheaper than ``needle in ctx.source`` while typing:
    #: answers carry over from the previous keystroke (see :mod:`analyzers.presence`).
    #: The presence's own method, so that each of the ~30 asks per file is one call.
    contains: Callable[[bytes], bool]

    def __init__(
        self,
        source: bytes,
        path: str,
        language: str,
        tree: Tree,
        *,
        config: Config,
        facts: ProjectFacts,
    ) -> None:
        self.source = source
        self.path = path
        self.language = language
        self.tree = tree
        self.config = config
        self.facts = facts
        self._by_type: dict[str, list[Node]] = {}
        self._memo: dict[str, Any] = {}
        self._call_targets: dict[str, list[Node]] | None = None
        self._calls_of: dict[str, list[Node]] = {}
        self._line_index: LineIndex | None = None
        # Set by the engine to one carried over from the document's previous analysis.
        self.presence = Presence(source)

    @property
    def presence(self) -> Presence:
        """What the source is known to contain (see :attr:`contains`)."""
        return self._presence

    @presence.setter
    def presence(self, presence: Presence) -> None:
        self._presence = presence
        self.contains = presence.contains

    @property
    def root(self) -> Node:
        """The tree's root node."""
        return self.tree.root_node

    @property
    def line_index(self) -> LineIndex:
        """Line starts of the source (computed once)."""
        if self._line_index is None:
            self._line_index = LineIndex(self.source)
        return self._line_index

    def nodes(self, node_type: str) -> list[Node]:
        """All named nodes of ``node_type``, in document order (one C-side query per type)."""
        found = self._by_type.get(node_type)
        if found is None:
            found = self._take_handed_over(node_type)
        if found is None:
            found = in_document_order(self._captured(node_type))
        self._by_type[node_type] = found
        return found

    def _take_handed_over(self, node_type: str) -> list[Node] | None:
        """The nodes handed over for this tree (see :func:`hand_over`), if they are of ``node_type``."""
        global _handed_over
        handed = _handed_over
        if handed is None or handed[0] is not self.tree:
            return None
        _handed_over = None
        return handed[2] if handed[1] == node_type else None

    def _captured(self, node_type: str) -> list[Node]:
        """Every node of ``node_type``, in the order the query yields them (not document order)."""
        query = _type_query(node_type, self.tree.language)
        captures = QueryCursor(query).captures(self.tree.root_node) if query else {}
        return captures.get("node", [])

    def _call_index(self) -> dict[str, list[Node]]:
        """Function name -> the nodes its calls are read from (built once per file).

        When every call is already known in document order (asked for or handed
        over), the index holds the calls themselves. Otherwise one query captures
        each call's function identifier, and a name's calls are read from those
        only when a rule asks for that name (most names are never asked for).
        """
        if self._call_targets is None:
            calls = self._by_type.get("call")
            if calls is None:
                calls = self._take_handed_over("call")
            if calls is not None:
                self._by_type["call"] = calls
                self._call_targets = self._calls_of = _index_by_function(calls, self.tree.language)
            else:
                self._call_targets = _call_targets_by_name(self.tree, self.source)
        return self._call_targets

    def _calls(self, name: str, targets: list[Node]) -> list[Node]:
        """The calls of function ``name`` (whose targets are ``targets``), in document order."""
        found = self._calls_of.get(name)
        if found is None:
            found = self._calls_of[name] = _calls_of_targets(targets)
        return found

    def may_call(self, functions: Iterable[str], words: Iterable[bytes]) -> bool:
        """Whether the file may call one of ``functions`` (each such call spells one of ``words``).

        A family's "could this file concern us" test: when another rule has
        built the call index already, asking it is exact and cheaper than the
        text searches; otherwise the words answer without building it.
        """
        if self._call_targets is not None:
            return self.calls_any(functions)
        return any(self.contains(word) for word in words)

    def call_targets(self, functions: Iterable[str]) -> list[Node]:
        """The function identifiers of the calls of ``functions``, in no particular order.

        Enough to ask which calls lie within other calls (one does exactly when
        its function identifier does: calls nest, and only a dot lies between a
        call and its function's name); no call is read back from them.
        """
        index = self._call_index()
        # An index built from the calls themselves (see _call_index) gives the calls: their
        # ranges answer the same.
        return [node for name in functions for node in index.get(name, ())]

    def call_names(self) -> Iterable[str]:
        """The name of every function the file calls (by identifier, any receiver)."""
        return self._call_index().keys()

    def calls_any(self, functions: Iterable[str]) -> bool:
        """Whether any call is of one of ``functions`` (by identifier, any receiver)."""
        index = self._call_index()
        return any(name in index for name in functions)

    def calls_named(self, functions: Iterable[str]) -> list[Node]:
        """Calls of any of ``functions`` (by identifier, any receiver), in document order."""
        index = self._call_index()
        lists = [self._calls(name, index[name]) for name in functions if name in index]
        if len(lists) == 1:
            # Each list is in document order already; most asks find one name or none.
            return list(lists[0])
        return in_document_order([call for found in lists for call in found])

    def memo(self, key: str, factory: Callable[[], T]) -> T:
        """Compute ``factory()`` once per file under ``key``."""
        if key not in self._memo:
            self._memo[key] = factory()
        result: T = self._memo[key]
        return result

    def text(self, start: int, end: int) -> str:
        """Source text of a byte range."""
        return self.source[start:end].decode("utf-8", "replace")

    def finding(
        self,
        meta: RuleMeta,
        where: Node | tuple[int, int],
        message: str | None = None,
        fixes: tuple[Fix, ...] | list[Fix] = (),
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of rule ``meta`` at a node or byte range (severity from metadata by default)."""
        start, end = (where.start_byte, where.end_byte) if isinstance(where, Node) else where
        return Finding(
            code=meta.code,
            start=start,
            end=end,
            message=message or meta.title,
            severity=severity or meta.severity,
            fixes=tuple(fixes),
            path=self.path,
        )
