"""What a rule sees of one file: source, tree, config, project facts, and shared lookups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from tree_sitter import Node, Tree

from analyzers.config import Config
from analyzers.model import Finding, Fix, RuleMeta, Severity
from analyzers.project import ProjectFacts
from analyzers.text import LineIndex

T = TypeVar("T")


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
        self._by_type: dict[str, list[Node]] | None = None
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
        """All named nodes of ``node_type``, in document order."""
        if self._by_type is None:
            self._by_type = self._index()
        return self._by_type.get(node_type, [])

    def _index(self) -> dict[str, list[Node]]:
        buckets: dict[str, list[Node]] = defaultdict(list)
        cursor = self.tree.walk()
        while True:
            node = cursor.node
            if node is not None and node.is_named:
                buckets[node.type].append(node)
            if cursor.goto_first_child() or cursor.goto_next_sibling():
                continue
            while cursor.goto_parent():
                if cursor.goto_next_sibling():
                    break
            else:
                break
        return dict(buckets)

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
