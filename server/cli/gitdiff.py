"""``--diff REF``: keep only findings on lines added or changed since a git ref.

Asks git itself (``git diff --unified=0 REF``) so renames, line endings and
the index behave as the user's git does; untracked files count as entirely
new. Lines that were only deleted touch nothing that remains.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.cli.check import FileResult

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitDiffError(Exception):
    """git could not answer (not a repository, unknown ref, git missing)."""


@dataclass
class ChangedLines:
    """Changed 1-based line numbers by absolute path; ``whole`` files are entirely new."""

    lines: dict[str, set[int]] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)

    def touches(self, path: Path, first: int, last: int) -> bool:
        """Whether lines ``first``..``last`` of ``path`` include a changed line."""
        key = os.path.realpath(path)
        if key in self.whole:
            return True
        changed = self.lines.get(key)
        return changed is not None and any(n in changed for n in range(first, last + 1))


def _git(args: Sequence[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GitDiffError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", errors="replace").strip()
        raise GitDiffError(message or f"git {' '.join(args)} failed")
    return done.stdout


def parse_diff(diff: bytes, top: Path) -> dict[str, set[int]]:
    """Added/changed line numbers per file from ``git diff --unified=0`` output."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in diff.split(b"\n"):
        if line.startswith(b"+++ "):
            name = line[4:].rstrip(b"\r")
            if name == b"/dev/null":
                current = None
                continue
            rel = name[2:] if name.startswith(b"b/") else name
            key = os.path.realpath(top / os.fsdecode(rel))
            current = changed.setdefault(key, set())
        elif current is not None and (match := _HUNK.match(line)):
            start = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            current.update(range(start, start + count))
    return changed


def changed_lines(ref: str, paths: Sequence[Path], cwd: Path) -> ChangedLines:
    """What changed under ``paths`` since ``ref`` (working tree against the ref)."""
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    specs = [os.path.abspath(p) for p in paths] or [str(cwd)]
    diff = _git(
        ["diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-renames", ref, "--", *specs],
        cwd,
    )
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z", "--", *specs], top)
    return ChangedLines(
        lines=parse_diff(diff, top),
        whole={os.path.realpath(top / os.fsdecode(n)) for n in untracked.split(b"\0") if n},
    )


def line_of(source: bytes, offset: int) -> int:
    """The 1-based line holding byte ``offset``."""
    return source.count(b"\n", 0, offset) + 1


def keep_changed(results: dict[Path, FileResult], changed: ChangedLines) -> dict[Path, FileResult]:
    """Results keeping only findings whose range touches a changed line."""
    kept: dict[Path, FileResult] = {}
    for path, fr in results.items():
        findings = [
            f
            for f in fr.result.findings
            if changed.touches(
                path, line_of(fr.source, f.start), line_of(fr.source, max(f.start, f.end - 1))
            )
        ]
        kept[path] = replace(fr, result=replace(fr.result, findings=findings))
    return kept
