"""Human-readable output: findings grouped by file, each with its source line underlined.

::

    priv/repo/migrations/20240101000000_add_index.exs
      5:5 MG001 [warning] Index on an existing table built without concurrently: true
         |
       5 |     create index(:users, [:email])
         |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ fix: Add concurrently: true

    Found 1 problem (1 warning) in 1 file; 1 fixable with --fix.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from itertools import groupby

from analyzers.model import Severity
from server.cli.formats import RunInfo
from server.cli.located import LocatedFinding


def _visible_char(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: NUL -> U+2400 ...
    return "\u2421" if code == 0x7F else "\ufffd"


# Control characters in a file (an escape sequence in a string, a NUL) would act on the
# terminal instead of showing; one visible character each keeps the carets aligned.
_VISIBLE = {
    code: _visible_char(code)
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
    if code != 0x09
}


def visible(text: str) -> str:
    """``text`` with control and line-separator characters replaced by visible ones."""
    return text.translate(_VISIBLE)


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _pad(prefix: str) -> str:
    """Blank space as wide as ``prefix`` on screen, keeping its tabs so carets line up."""
    return "".join("\t" if ch == "\t" else " " * _width(ch) for ch in prefix)


def underline(line: str, start: int, end: int | None) -> str:
    """Carets under characters ``start`` (1-based) to ``end`` (exclusive; None: end of line)."""
    begin = max(start - 1, 0)
    stop = len(line) if end is None else max(end - 1, begin)
    marked = line[begin:stop]
    carets = sum(_width(ch) for ch in marked)
    return _pad(line[:begin]) + "^" * max(carets, 1)


def _plural(count: int, word: str) -> str:
    if word == "info":
        return f"{count} info"
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(findings: Sequence[LocatedFinding], info: RunInfo) -> str:
    """The closing line: counts by severity, files, and how many ``--fix`` can fix."""
    if not findings:
        return f"No problems found (checked {_plural(info.files_checked, 'file')})."
    counts = [
        _plural(sum(1 for f in findings if f.severity is level), level.label)
        for level in sorted(Severity, reverse=True)
        if any(f.severity is level for f in findings)
    ]
    files = len({f.path for f in findings})
    line = (
        f"Found {_plural(len(findings), 'problem')} ({', '.join(counts)}) "
        f"in {_plural(files, 'file')}"
    )
    fixable = sum(1 for f in findings if f.fixable)
    if fixable:
        line += f"; {fixable} fixable with --fix"
    return line + "."


def _finding_block(finding: LocatedFinding, number_width: int) -> list[str]:
    span = finding.span
    head = (
        f"  {span.line}:{span.column} {finding.code} [{finding.severity.label}] {finding.message}"
    )
    if not finding.lines:
        return [head]
    number = str(span.line).rjust(number_width)
    gutter = " " * (number_width + 4)
    source = finding.lines[0]
    end = span.end_column if span.end_line == span.line else None
    marks = underline(source, span.column, end)
    if span.end_line > span.line:
        marks += " ..."
    fix = next((fix for fix in finding.finding.fixes if fix.preferred), None)
    if fix is not None:
        marks += f" fix: {fix.title}"
    return [head, f"{gutter}|", f"   {number} | {source}", f"{gutter}| {marks}"]


def render(findings: Sequence[LocatedFinding], info: RunInfo) -> str:
    """The whole report, ending with the summary line."""
    out: list[str] = []
    for path, group in groupby(findings, key=lambda f: f.path):
        out.append(visible(path))
        members = list(group)
        width = max(len(str(f.span.line)) for f in members)
        for finding in members:
            out.extend(visible(line) for line in _finding_block(finding, width))
        out.append("")
    if info.fix_headline:
        out.append(info.fix_headline)
    out.append(summary(findings, info))
    return "\n".join(out) + "\n"
