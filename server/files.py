"""Workspace file discovery: which ``.ex``, ``.exs`` and ``.heex`` files to analyse.

Shared by the CLI and the language server's workspace scan. Exclusion globs
are matched against paths relative to the project root, with POSIX
separators:

- ``*`` and ``?`` match within one path segment, ``[...]`` a character class;
- ``**`` matches any number of segments (``deps/**``, ``**/generated/*.ex``);
- a pattern without ``/`` matches a file or directory name at any depth, as in
  ``.gitignore`` (``*.gen.ex``);
- a pattern matching a directory excludes everything below it.

Problems (unreadable directories, symlink loops, broken links) are collected
with a message a user can act on, never raised.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SOURCE_SUFFIXES = (".ex", ".exs", ".heex")
# Never project sources, and walking them is slow on large checkouts.
_ALWAYS_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn"})


@dataclass(frozen=True)
class DiscoveryProblem:
    """A path that could not be searched or is not a source file, and why."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class Discovery:
    """The files found (sorted, each once) and the problems met on the way."""

    files: list[Path] = field(default_factory=list)
    problems: list[DiscoveryProblem] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def is_source_file(path: Path | str) -> bool:
    """Whether ``path`` has an Elixir or HEEx suffix."""
    return PurePosixPath(str(path)).suffix.lower() in SOURCE_SUFFIXES


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate one exclusion glob into an anchored regular expression."""
    pattern = pattern.strip().replace("\\", "/").lstrip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.rstrip("/")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            close = pattern.find("]", i + 2)
            if close == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pattern[i + 1 : close]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = close + 1
        else:
            out.append(re.escape(ch))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$")


def matches_exclude(relative: str, patterns: Iterable[str]) -> bool:
    """Whether a root-relative POSIX path, or one of its parent directories, matches a pattern."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        if not pattern.strip():
            continue
        regex = _glob_regex(pattern)
        if any(regex.match(candidate) for candidate in candidates):
            return True
    return False


def relative_to_root(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` with POSIX separators, or None when outside it."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    except ValueError:  # another drive on Windows
        return None
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return rel.replace(os.sep, "/")


def is_excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    """Whether ``path`` is excluded by ``patterns`` (relative to ``root``); outside ``root``: no."""
    rel = relative_to_root(path, root)
    return rel is not None and rel != "." and matches_exclude(rel, patterns)


def discover(paths: Sequence[Path], *, root: Path, exclude: Sequence[str]) -> Discovery:
    """Source files under ``paths`` (files or directories), honouring ``exclude``.

    A file named explicitly is analysed even when a pattern excludes it (the
    user asked for it), but it must still be an Elixir or HEEx file.
    Directory symlinks are followed once; a link back into a directory being
    walked is reported as a loop and skipped.
    """
    found = Discovery()
    seen: set[str] = set()

    def add(file: Path) -> None:
        key = os.path.realpath(file)
        if key not in seen:
            seen.add(key)
            found.files.append(file)

    for given in paths:
        if given.is_dir():
            for file in _walk(given, root, exclude, found.problems):
                add(file)
        elif given.is_file():
            if is_source_file(given):
                add(given)
            else:
                found.problems.append(
                    DiscoveryProblem(
                        given, "not an Elixir or HEEx file (.ex, .exs, .heex); skipped"
                    )
                )
        elif given.is_symlink():
            found.problems.append(DiscoveryProblem(given, "broken symbolic link; skipped"))
        elif given.exists():
            # A FIFO, socket or device: reading it could block for ever.
            found.problems.append(
                DiscoveryProblem(given, "not a regular file or directory; skipped")
            )
        else:
            found.missing.append(given)
    found.files.sort(key=lambda p: str(p).replace(os.sep, "/"))
    return found


def _walk(
    top: Path, root: Path, exclude: Sequence[str], problems: list[DiscoveryProblem]
) -> list[Path]:
    files: list[Path] = []
    visited: set[tuple[int, int]] = set()

    def on_error(error: OSError) -> None:
        where = Path(error.filename) if error.filename else top
        problems.append(DiscoveryProblem(where, f"cannot read directory: {error.strerror}"))

    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error, followlinks=True):
        here = Path(dirpath)
        try:
            stat = here.stat()
        except OSError as exc:
            problems.append(DiscoveryProblem(here, f"cannot read directory: {exc.strerror}"))
            dirnames[:] = []
            continue
        identity = (stat.st_dev, stat.st_ino)
        if identity in visited:
            # Reached again through another link: its files are already listed.
            dirnames[:] = []
            continue
        visited.add(identity)
        kept: list[str] = []
        for name in sorted(dirnames):
            sub = here / name
            if name in _ALWAYS_SKIPPED_DIRS or is_excluded(sub, root, exclude):
                continue
            if sub.is_symlink() and _links_into_ancestor(sub):
                problems.append(
                    DiscoveryProblem(sub, "symbolic link loop (points at a parent); skipped")
                )
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            file = here / name
            if not is_source_file(name) or is_excluded(file, root, exclude):
                continue
            if file.is_symlink() and not file.exists():
                problems.append(DiscoveryProblem(file, "broken symbolic link; skipped"))
                continue
            files.append(file)
    return files


def _links_into_ancestor(link: Path) -> bool:
    """A directory link whose target contains the link itself (walking it never ends)."""
    try:
        target = os.path.realpath(link)
        parent = os.path.realpath(link.parent)
    except OSError:
        return False
    return parent == target or parent.startswith(target.rstrip(os.sep) + os.sep)
