"""Project facts: what rules need to know about the workspace around a file.

Read from the project's own files by parsing them (config files are never
evaluated). A file analysed with no project around it gets ``ProjectFacts()``:
Postgres, no advisory lock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tree_sitter import Node, Tree

from analyzers import syntax

POSTGRES_ADAPTER = "Ecto.Adapters.Postgres"


@dataclass(frozen=True)
class RepoFacts:
    """One Ecto repo: its adapter and the migration settings from config."""

    module: str
    adapter: str | None = None
    migration_lock: str | None = None
    priv: str | None = None

    @property
    def is_postgres(self) -> bool:
        """Whether the repo uses Postgres (assumed when the adapter is unknown)."""
        return self.adapter is None or self.adapter == POSTGRES_ADAPTER

    @property
    def uses_advisory_lock(self) -> bool:
        """``migration_lock: :pg_advisory_lock`` (no table lock, so no need to disable it)."""
        return self.migration_lock == "pg_advisory_lock"


@dataclass(frozen=True)
class ProjectFacts:
    """What is known about the workspace; empty when a file stands alone."""

    root: str | None = None
    repos: Mapping[str, RepoFacts] = field(default_factory=dict)
    # Combined facts of every other collector (see analyzers.facts), by collector name.
    extras: Mapping[str, Any] = field(default_factory=dict)
    # Empty values of collectors with nothing collected, built on first ask (as extras are
    # shared by every file analysed with these facts).
    _empty: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def get(self, name: str) -> Any:
        """The combined facts of collector ``name`` (its empty value when nothing was collected)."""
        if name in self.extras:
            return self.extras[name]
        if name in self._empty:
            return self._empty[name]
        from analyzers.facts import collector

        found = collector(name)
        empty = self._empty[name] = found.combine({}) if found is not None else None
        return empty

    def repo_for_migration(self, path: str) -> RepoFacts | None:
        """The repo whose migrations directory holds ``path`` (best effort).

        ``priv/<name>/migrations`` belongs to the repo configured with
        ``priv: "priv/<name>"``, else to the repo whose last alias segment,
        underscored, is ``<name>`` (``MyApp.Repo`` -> ``repo``); with a single
        repo it is that one.
        """
        if not self.repos:
            return None
        parts = PurePosixPath(path.replace(os.sep, "/")).parts
        folder = None
        for i, part in enumerate(parts[:-1]):
            if part == "priv" and i + 2 < len(parts) and parts[i + 2] == "migrations":
                folder = parts[i + 1]
        if folder is not None:
            for repo in self.repos.values():
                if repo.priv and repo.priv.rstrip("/").endswith(f"priv/{folder}"):
                    return repo
            for repo in self.repos.values():
                if _underscore(repo.module.rsplit(".", 1)[-1]) == folder:
                    return repo
        if len(self.repos) == 1:
            return next(iter(self.repos.values()))
        return None


def _underscore(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


RepoSettings = tuple[dict[str, str], dict[str, dict[str, str]]]


def collect_repo_settings(path: str, tree: Tree) -> RepoSettings:
    """One file's repo facts: ``use Ecto.Repo`` adapters and ``config :app, Repo, ...`` settings."""
    adapters: dict[str, str] = {}
    settings: dict[str, dict[str, str]] = {}
    for node in syntax.walk(tree.root_node):
        if node.type != "call":
            continue
        name = syntax.call_name(node)
        if name == "use":
            _read_use_repo(node, adapters)
        elif name == "config":
            _read_repo_config(node, settings, is_test=_is_test_config(path))
    return adapters, settings


def combine_repo_settings(per_file: Mapping[str, RepoSettings]) -> dict[str, RepoFacts]:
    """Repos of the project from every file's settings (test config yields to the others)."""
    adapters: dict[str, str] = {}
    settings: dict[str, dict[str, str]] = {}
    # Test config sorts last per directory only by accident; order it last explicitly.
    for path in sorted(per_file, key=lambda p: (_is_test_config(p), p)):
        file_adapters, file_settings = per_file[path]
        adapters.update(file_adapters)
        for module, values in file_settings.items():
            entry = settings.setdefault(module, {})
            for key, value in values.items():
                if _is_test_config(path) and key in entry:
                    continue
                entry[key] = value
    return {
        module: RepoFacts(
            module=module,
            adapter=adapters.get(module) or settings.get(module, {}).get("adapter"),
            migration_lock=settings.get(module, {}).get("migration_lock"),
            priv=settings.get(module, {}).get("priv"),
        )
        for module in sorted(set(adapters) | set(settings))
        if module in adapters
        or "adapter" in settings.get(module, {})
        or "migration_lock" in settings.get(module, {})
    }


def wants_repo_settings(path: str, source: bytes) -> bool:
    """Config files and modules that ``use Ecto.Repo``."""
    parts = PurePosixPath(path.replace(os.sep, "/")).parts
    in_config = len(parts) >= 2 and parts[-2] == "config" and path.endswith(".exs")
    return in_config or (path.endswith(".ex") and b"Ecto.Repo" in source)


def facts_from_sources(root: str | None, sources: Mapping[str, bytes]) -> ProjectFacts:
    """Facts from the given files (path -> bytes), as :func:`load_project_facts` reads them."""
    from analyzers.facts import FactIndex

    index = FactIndex(root)
    for path, source in sources.items():
        index.update(path, source)
    return index.facts()


def _is_test_config(path: str) -> bool:
    return PurePosixPath(path.replace(os.sep, "/")).name == "test.exs"


def _read_use_repo(node: Node, adapters: dict[str, str]) -> None:
    args = syntax.call_args(node)
    if not args or syntax.text(args[0]) != "Ecto.Repo":
        return
    module = syntax.enclosing_module(node)
    name = syntax.module_name(module) if module is not None else None
    adapter = syntax.option(node, "adapter")
    if name:
        adapters[name] = syntax.text(adapter) if adapter is not None else POSTGRES_ADAPTER


def _read_repo_config(node: Node, settings: dict[str, dict[str, str]], *, is_test: bool) -> None:
    args = syntax.call_args(node)
    if len(args) < 3 or args[1].type != "alias":
        return
    module = syntax.text(args[1])
    entry = settings.setdefault(module, {})
    for key, _pair, value in syntax.keyword_pairs(args[-1]):
        if key == "migration_lock":
            lock = syntax.atom_value(value) or ("false" if syntax.text(value) == "false" else None)
            # Test config often differs from what production runs; prefer the others.
            if lock is not None and not (is_test and "migration_lock" in entry):
                entry["migration_lock"] = lock
        elif key == "adapter" and value.type == "alias" and syntax.text(value).startswith("Ecto."):
            # Only Ecto adapters make a repo: endpoints configure `adapter: Bandit.PhoenixAdapter`.
            entry["adapter"] = syntax.text(value)
        elif key == "priv":
            priv = syntax.string_value(value)
            if priv:
                entry["priv"] = priv


def load_project_facts(root: Path) -> ProjectFacts:
    """Read the facts of the project rooted at ``root`` from disk (see analyzers.facts)."""
    from analyzers.facts import FactIndex

    return FactIndex.scan(root).facts()


def find_project_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``mix.exs``, outermost for umbrellas."""
    start = start.resolve()
    candidates = [start, *start.parents] if start.is_dir() else list(start.parents)
    found: Path | None = None
    for directory in candidates:
        if (directory / "mix.exs").is_file():
            found = directory
            if (directory / "apps").is_dir():
                break
            # Keep climbing: an umbrella's root also has mix.exs and an apps/ dir.
            parent = directory.parent
            if parent.name == "apps" and (parent.parent / "mix.exs").is_file():
                found = parent.parent
            break
    return found
