"""What a rule sees of one file: source, tree, config, project facts, and shared lookups."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from tree_sitter import Language, Node, Query, QueryCursor, QueryError, Tree

from analyzers.config import Config
from analyzers.model import Finding, Fix, RuleMeta, Severity
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


class FileContext:
    """One file under analysis.

    Nodes are bucketed by type in a single cursor walk, done on first use and
    shared by every rule; derived models (e.g. the migration model) are
    memoised per file with :meth:`memo`.
    """

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
        self._line_index: LineIndex | None = None

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
            query = _type_query(node_type, self.tree.language)
            captures = QueryCursor(query).captures(self.tree.root_node) if query else {}
            found = sorted(captures.get("node", []), key=lambda n: (n.start_byte, -n.end_byte))
            self._by_type[node_type] = found
        return found

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
