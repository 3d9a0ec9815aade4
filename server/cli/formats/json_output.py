"""Machine-readable output: a JSON list of findings (a stable contract; tests pin it).

Each object: ``path`` (relative to the current directory, POSIX), ``code``,
``slug``, ``severity`` (error/warning/info), ``message``, 1-based ``line``,
``column``, ``end_line``, ``end_column`` (columns in characters, end
exclusive) and ``fixes`` (``title`` and ``edits`` placed the same way, each
edit naming the file it changes). Sorted by path, line, column.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from server.cli.formats import RunInfo
from server.cli.located import LocatedFinding


def finding_object(finding: LocatedFinding) -> dict[str, Any]:
    """One finding as a JSON-ready dict."""
    span = finding.span
    return {
        "path": finding.path,
        "code": finding.code,
        "slug": finding.slug,
        "severity": finding.severity.label,
        "message": finding.message,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "fixes": [
            {
                "title": fix.title,
                "edits": [
                    {
                        "path": edit.path,
                        "line": edit.span.line,
                        "column": edit.span.column,
                        "end_line": edit.span.end_line,
                        "end_column": edit.span.end_column,
                        "new_text": edit.new_text,
                    }
                    for edit in fix.edits
                ],
            }
            for fix in finding.fixes
        ],
    }


def render(findings: Sequence[LocatedFinding], info: RunInfo) -> str:
    """The JSON document, indented for diffs, ending in a newline."""
    return json.dumps([finding_object(f) for f in findings], indent=2, ensure_ascii=False) + "\n"
