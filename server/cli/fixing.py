"""``--fix``: apply preferred fixes, re-analyse, repeat until nothing more applies.

Fixes that overlap are deferred to the next pass (``compatible_fixes``);
edits may target other files. Files are replaced atomically, keeping their
mode, so an interrupted run never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from analyzers.edits import OverlappingEditsError, apply_edits, compatible_fixes
from analyzers.model import Edit, Finding, Fix
from server.cli.check import FileResult, Workspace, analyze_file, read_source

MAX_PASSES = 5


@dataclass
class FixSummary:
    """How many fixes were applied, and how many touched each rewritten file."""

    fixed: int = 0
    per_file: dict[Path, int] = field(default_factory=dict)

    @property
    def files(self) -> int:
        """Number of files rewritten."""
        return len(self.per_file)

    def headline(self) -> str:
        """``Fixed 3 problems in 2 files.`` (or that nothing was fixed)."""
        if not self.fixed:
            return "No fixes applied."
        problems = "problem" if self.fixed == 1 else "problems"
        files = "file" if self.files == 1 else "files"
        return f"Fixed {self.fixed} {problems} in {self.files} {files}."


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path``'s contents with ``data`` via a temporary file in the same directory.

    The file's permission bits are kept; a symbolic link is followed so the
    link stays a link.
    """
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".phxguard")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _absolute_fixes(finding: Finding, origin: Path, ws: Workspace) -> Finding:
    """The finding with every edit naming its target file absolutely (for overlap checks)."""
    fixes = tuple(
        Fix(
            fix.title,
            tuple(
                replace(e, path=os.path.abspath(ws.resolve_edit_path(e.path, origin)))
                for e in fix.edits
            ),
            fix.preferred,
        )
        for fix in finding.fixes
    )
    return replace(finding, fixes=fixes)


def fix_all(ws: Workspace, results: dict[Path, FileResult], err: TextIO) -> FixSummary:
    """Apply fixes until stable (at most ``MAX_PASSES``); ``results`` is updated in place."""
    summary = FixSummary()
    by_abs = {os.path.abspath(path): path for path in results}
    for _ in range(MAX_PASSES):
        findings = [
            _absolute_fixes(finding, path, ws)
            for path, file_result in results.items()
            for finding in file_result.result.findings
        ]
        chosen = compatible_fixes(findings)
        edits: dict[str, list[Edit]] = defaultdict(list)
        fix_targets: list[set[str]] = []
        for fix in chosen:
            targets = {e.path for e in fix.edits if e.path is not None}
            fix_targets.append(targets)
            for edit in fix.edits:
                assert edit.path is not None
                edits[edit.path].append(edit)
        changed: set[str] = set()
        failed: set[str] = set()
        for target, target_edits in edits.items():
            path = by_abs.get(target, Path(target))
            before = results[path].source if path in results else read_source(path, err)
            if before is None:
                failed.add(target)
                continue
            try:
                after = apply_edits(before, target_edits)
            except OverlappingEditsError as exc:
                print(f"phxguard: fixes for {path} not applied: {exc}", file=err)
                failed.add(target)
                continue
            if after == before:
                continue
            try:
                write_atomically(path, after)
            except OSError as exc:
                print(f"phxguard: cannot write {path}: {exc.strerror or exc}", file=err)
                failed.add(target)
                continue
            changed.add(target)
            if path in results:
                refreshed = analyze_file(ws, path, err, source=after)
                if refreshed is not None:
                    results[path] = refreshed
        applied = [t for t in fix_targets if t & changed and not t & failed]
        summary.fixed += len(applied)
        for targets in applied:
            for target in targets & changed:
                path = by_abs.get(target, Path(target))
                summary.per_file[path] = summary.per_file.get(path, 0) + 1
        if not changed:
            break
    return summary
