"""``--statistics``: how many findings each rule has, instead of the findings themselves.

Useful when adopting phxguard on an existing codebase: which rules fire
most, and how many ``--fix`` would handle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from server.cli.located import LocatedFinding


@dataclass(frozen=True)
class RuleCount:
    """One rule's line in the statistics."""

    code: str
    slug: str
    count: int
    fixable: int


def rule_counts(findings: Sequence[LocatedFinding]) -> list[RuleCount]:
    """Counts per rule, most frequent first (ties by code)."""
    by_code: dict[str, list[LocatedFinding]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
    counts = [
        RuleCount(code, group[0].slug, len(group), sum(1 for f in group if f.fixable))
        for code, group in by_code.items()
    ]
    return sorted(counts, key=lambda c: (-c.count, c.code))


def render_text(findings: Sequence[LocatedFinding]) -> str:
    """A table: count, code, slug, and how many are fixable; then the total."""
    counts = rule_counts(findings)
    if not counts:
        return "No problems found.\n"
    width = max(len(str(c.count)) for c in counts)
    slug_width = max(len(c.slug) for c in counts)
    lines = [
        f"{c.count:>{width}}  {c.code}  {c.slug:<{slug_width}}"
        + (f"  ({c.fixable} fixable)" if c.fixable else "")
        for c in counts
    ]
    total = len(findings)
    rules = f"{len(counts)} rule{'' if len(counts) == 1 else 's'}"
    lines.append(f"Found {total} problem{'' if total == 1 else 's'} across {rules}.")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_json(findings: Sequence[LocatedFinding]) -> str:
    """A JSON list of ``{code, slug, count, fixable}``, most frequent first."""
    payload = [
        {"code": c.code, "slug": c.slug, "count": c.count, "fixable": c.fixable}
        for c in rule_counts(findings)
    ]
    return json.dumps(payload, indent=2) + "\n"
