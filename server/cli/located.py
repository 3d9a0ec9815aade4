"""Findings placed for people and CI: display paths, 1-based lines and character columns.

Every output format reads these, so they all agree on where a finding is.
Columns count characters (Unicode code points), ends are exclusive, and an
edit in another file is placed on that file's own bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from analyzers.model import Finding, RuleMeta, Severity
from analyzers.text import LineIndex


@dataclass(frozen=True)
class Span:
    """A 1-based, end-exclusive range: ``line:column`` to ``end_line:end_column``."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class LocatedEdit:
    """One replacement, placed in the file it changes."""

    path: str
    span: Span
    new_text: str


@dataclass(frozen=True)
class LocatedFix:
    """A titled fix with its placed edits."""

    title: str
    edits: tuple[LocatedEdit, ...]


@dataclass(frozen=True)
class LocatedFinding:
    """A finding with its display path, span, rule metadata and the source lines it covers."""

    path: str
    finding: Finding
    meta: RuleMeta | None
    span: Span
    fixes: tuple[LocatedFix, ...]
    lines: tuple[str, ...]

    @property
    def code(self) -> str:
        """The rule code."""
        return self.finding.code

    @property
    def severity(self) -> Severity:
        """The effective severity (after configuration)."""
        return self.finding.severity

    @property
    def message(self) -> str:
        """What the rule said about this occurrence."""
        return self.finding.message

    @property
    def slug(self) -> str:
        """The rule slug, or the code when the rule is unknown."""
        return self.meta.slug if self.meta is not None else self.finding.code

    @property
    def fixable(self) -> bool:
        """Whether ``--fix`` would apply a fix for it."""
        return any(fix.preferred for fix in self.finding.fixes)

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order of every output format: path, line, column, code."""
        return (self.path, self.span.line, self.span.column, self.code)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` relative to the current directory, with POSIX separators."""
    base = os.path.abspath(cwd if cwd is not None else os.getcwd())
    try:
        rel = os.path.relpath(os.path.abspath(path), base)
    except ValueError:  # another drive on Windows: keep it absolute
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def span_of(index: LineIndex, start: int, end: int) -> Span:
    """The 1-based character span of byte range ``[start, end)``."""
    line, column = index.position(start, "utf-32")
    end_line, end_column = index.position(max(start, end), "utf-32")
    return Span(line + 1, column + 1, end_line + 1, end_column + 1)


def locate(
    finding: Finding,
    *,
    path: Path,
    source: bytes,
    meta: RuleMeta | None,
    resolve_edit_path: Callable[[str | None], Path],
    read_other: Callable[[Path], bytes],
    cwd: Path | None = None,
) -> LocatedFinding:
    """Place ``finding`` (found in ``path`` whose bytes are ``source``) for output.

    ``resolve_edit_path`` turns an ``Edit.path`` into a real path (None means
    ``path`` itself); ``read_other`` supplies another file's bytes so its edit
    positions are computed on its own text.
    """
    index = LineIndex(source)
    indexes: dict[Path, LineIndex] = {path: index}
    fixes: list[LocatedFix] = []
    for fix in finding.fixes:
        edits: list[LocatedEdit] = []
        for edit in fix.edits:
            target = path if edit.path is None else resolve_edit_path(edit.path)
            if target not in indexes:
                indexes[target] = LineIndex(read_other(target))
            edits.append(
                LocatedEdit(
                    display_path(target, cwd),
                    span_of(indexes[target], edit.start, edit.end),
                    edit.new_text,
                )
            )
        fixes.append(LocatedFix(fix.title, tuple(edits)))
    span = span_of(index, finding.start, finding.end)
    last = min(span.end_line, index.line_count)
    lines = tuple(index.line_text(n - 1) for n in range(span.line, last + 1))
    return LocatedFinding(
        path=display_path(path, cwd),
        finding=finding,
        meta=meta,
        span=span,
        fixes=tuple(fixes),
        lines=lines,
    )
