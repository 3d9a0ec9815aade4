"""Workspace facts: per-file collectors combined into :class:`~analyzers.project.ProjectFacts`.

A rule family that needs to know about other files (the repo's config, Ecto
schemas, a LiveView's template) registers a :class:`FactCollector`: a cheap
byte-level filter, a per-file extractor, and a function combining every
file's result. A :class:`FactIndex` keeps each file's result, so the server
can update one file (saved on disk, or unsaved in the editor) and recombine
without rereading the workspace. Files are parsed, never evaluated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.context import hand_over
from analyzers.parsing import parse_elixir
from analyzers.project import (
    ProjectFacts,
    collect_repo_settings,
    combine_repo_settings,
    wants_repo_settings,
)
from analyzers.registry import registered_rules
from analyzers.text import read_source_file

P = TypeVar("P")
A = TypeVar("A")

SOURCE_SUFFIXES = (".ex", ".exs", ".heex")
SKIP_DIRS = frozenset(
    {"deps", "_build", "node_modules", ".git", ".elixir_ls", ".expert", "cover", ".lexical"}
)
MAX_FACT_FILE_BYTES = 2_000_000
# Source bytes whose parse trees one process keeps from fact collection for the analysis
# that follows. A tree takes 30-40 times its source in memory: about 100 MB here.
KEEP_TREES_SOURCE_BYTES = 3_000_000
REPOS = "repos"


@dataclass(frozen=True)
class FactCollector(Generic[P, A]):
    """How one kind of fact is read from files and combined across the workspace.

    ``collect`` gets the Elixir tree for ``.ex``/``.exs`` files and None for
    templates (``.heex``), which the collector parses itself if it wants them.
    ``combine`` must accept an empty mapping (a file with no project around it).
    """

    name: str
    wants: Callable[[str, bytes], bool]
    collect: Callable[[str, bytes, Tree | None], P]
    combine: Callable[[Mapping[str, P]], A]


_COLLECTORS: dict[str, FactCollector[Any, Any]] = {}


def tree_of(source: bytes, tree: Tree | None) -> Tree:
    """The Elixir tree a collector reads: the index's, or ``source`` parsed when called alone."""
    return tree if tree is not None else parse_elixir(source)


def register_collector(found: FactCollector[Any, Any]) -> None:
    """Make ``found`` part of every :class:`FactIndex` (rule families call this on import)."""
    existing = _COLLECTORS.get(found.name)
    if existing is not None and existing is not found:
        raise ValueError(f"fact collector {found.name!r} registered twice")
    _COLLECTORS[found.name] = found


def collector(name: str) -> FactCollector[Any, Any] | None:
    """The registered collector called ``name``."""
    _load_rule_families()
    return _COLLECTORS.get(name)


def collectors() -> list[FactCollector[Any, Any]]:
    """Every registered collector (rule families imported first)."""
    _load_rule_families()
    return list(_COLLECTORS.values())


def _load_rule_families() -> None:
    # Rule families register their collectors on import.
    registered_rules()


register_collector(
    FactCollector(
        name=REPOS,
        wants=wants_repo_settings,
        collect=lambda path, source, tree: collect_repo_settings(path, tree_of(source, tree)),
        combine=combine_repo_settings,
    )
)


class FactIndex:
    """Per-file facts of a workspace, combined on demand and cached until a file changes."""

    def __init__(self, root: str | None) -> None:
        self.root = root
        self._per_file: dict[str, dict[str, Any]] = {c.name: {} for c in collectors()}
        self._facts: ProjectFacts | None = None

    @classmethod
    def scan(cls, root: Path, keep: KeptTrees | None = None) -> FactIndex:
        """Index every Elixir and HEEx file under ``root`` (dependencies and builds skipped).

        With ``keep``, the trees of the files it wants are kept for their analysis.
        """
        index = cls(str(root))
        for path in workspace_files(root):
            data = read_fact_source(path)
            if data is not None:
                index.store(str(path), collect_keeping(str(path), data, keep))
        return index

    @staticmethod
    def collect(path: str, source: bytes, tree: Tree | None = None) -> dict[str, Any]:
        """Each interested collector's result for one file, by collector name.

        Independent of any index, so a process pool can compute it for
        :meth:`store` (collectors return plain, picklable values). ``tree``,
        when given, is the Elixir tree of ``source`` (parsed here otherwise).
        """
        wanted = [c for c in collectors() if c.wants(path, source)]
        if tree is None and wanted and not path.endswith(".heex"):
            tree = parse_elixir(source)
        return {c.name: c.collect(path, source, tree) for c in wanted}

    def update(self, path: str, source: bytes) -> bool:
        """Re-read ``path``'s facts from ``source``; True when any collector's result changed."""
        return self.store(path, self.collect(path, source))

    def store(self, path: str, collected: Mapping[str, Any]) -> bool:
        """Record ``path``'s facts as returned by :meth:`collect`; True when anything changed."""
        changed = False
        for found in collectors():
            table = self._per_file.setdefault(found.name, {})
            if found.name in collected:
                value = collected[found.name]
                if table.get(path, _MISSING) != value:
                    table[path] = value
                    changed = True
            elif path in table:
                del table[path]
                changed = True
        if changed:
            self._facts = None
        return changed

    def remove(self, path: str) -> bool:
        """Forget a deleted file; True when that changed anything."""
        changed = False
        for table in self._per_file.values():
            if table.pop(path, _MISSING) is not _MISSING:
                changed = True
        if changed:
            self._facts = None
        return changed

    def facts(self) -> ProjectFacts:
        """The combined facts (recomputed only after a change)."""
        if self._facts is None:
            extras = {c.name: c.combine(self._per_file.get(c.name, {})) for c in collectors()}
            repos = extras.pop(REPOS)
            self._facts = ProjectFacts(root=self.root, repos=repos, extras=extras)
        return self._facts


_MISSING = object()


class KeptTrees:
    """Parse trees kept from fact collection for the analysis that follows, within a budget.

    ``phxguard check`` reads the project's facts and then analyses its files:
    keeping the trees of the files to be analysed saves parsing them twice. Only
    files named in ``wanted`` are kept, up to ``budget`` bytes of their sources
    (a large project reuses as many trees as fit and parses the rest again). A
    tree is handed out once, and only for the very bytes it was parsed from.
    Processes sharing a run share :data:`KEEP_TREES_SOURCE_BYTES` (``budget``).
    Pickled (to a worker process) it arrives empty: trees stay in their process.
    """

    def __init__(
        self, wanted: Iterable[str | Path] = (), budget: int = KEEP_TREES_SOURCE_BYTES
    ) -> None:
        self._wanted = {tree_key(path) for path in wanted}
        self.budget = budget
        self._used = 0
        self._trees: dict[str, tuple[bytes, Tree, list[Node] | None]] = {}

    def __reduce__(self) -> tuple[type[KeptTrees], tuple[()]]:
        return KeptTrees, ()

    def __len__(self) -> int:
        return len(self._trees)

    def expect(self, paths: Iterable[str | Path]) -> None:
        """Also keep the trees of ``paths`` (files this process will analyse)."""
        self._wanted.update(tree_key(path) for path in paths)

    def expects(self, path: str | Path) -> bool:
        """Whether ``path`` is one of the files to be analysed."""
        return tree_key(path) in self._wanted

    def wants(self, path: str | Path, source: bytes) -> bool:
        """Whether the tree of ``path`` (an Elixir file to be analysed) fits in the budget."""
        return (
            not str(path).endswith(".heex")
            and self._used + len(source) <= self.budget
            and tree_key(path) in self._wanted
        )

    def keep(
        self, path: str | Path, source: bytes, tree: Tree, calls: list[Node] | None = None
    ) -> None:
        """Keep ``tree``, parsed from ``source``, for the analysis of ``path`` (and its calls)."""
        key = tree_key(path)
        if key not in self._trees:
            self._trees[key] = (source, tree, calls)
            self._used += len(source)

    def take(self, path: str | Path, source: bytes) -> Tree | None:
        """The kept tree of ``path`` if it was parsed from exactly ``source`` (then forgotten)."""
        entry = self._trees.pop(tree_key(path), None) if self._trees else None
        if entry is None:
            return None
        self._used -= len(entry[0])
        kept_source, tree, calls = entry
        if kept_source != source:
            return None
        if calls is not None:
            hand_over(tree, "call", calls)
        return tree


def tree_key(path: str | Path) -> str:
    """How :class:`KeptTrees` names a file: discovery and the facts scan name it differently.

    Symlinks are not resolved (a system call per path segment): a missed match
    only costs a parse.
    """
    return os.path.abspath(path)


def collect_keeping(path: str, source: bytes, keep: KeptTrees | None) -> dict[str, Any]:
    """:meth:`FactIndex.collect` for ``path``, keeping its tree in ``keep`` if it wants it."""
    if keep is None or not keep.wants(path, source):
        return FactIndex.collect(path, source)
    tree = parse_elixir(source)
    collected = FactIndex.collect(path, source, tree)
    # The calls a collector found in the whole file are the analysis's too.
    keep.keep(path, source, tree, syntax.recent_descendants(tree.root_node, "call"))
    return collected


def read_fact_source(path: Path) -> bytes | None:
    """A file's bytes for fact collection; None when unreadable or too large to be worth it."""
    try:
        if path.stat().st_size > MAX_FACT_FILE_BYTES:
            return None
        return read_source_file(path)
    except OSError:
        return None


def workspace_files(root: Path) -> Iterator[Path]:
    """``.ex``, ``.exs`` and ``.heex`` files under ``root``, skipping deps, builds and dot-dirs."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(SOURCE_SUFFIXES):
                yield Path(dirpath) / name
