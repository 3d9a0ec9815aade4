"""Suppression comments: ``# phxguard:disable-next-line CODE -- reason`` and friends.

Also honours excellent_migrations' ``safety-assured`` annotations for MG rules,
so teams moving to phxguard keep the reviews they already recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from analyzers.model import Finding
from analyzers.text import LineIndex

# excellent_migrations danger types -> the MG rules that cover the same risk.
EXCELLENT_MIGRATIONS_TYPES: dict[str, tuple[str, ...]] = {
    "index_not_concurrently": ("MG001",),
    "index_concurrently_without_disable_ddl_transaction": ("MG002",),
    "index_concurrently_without_disable_migration_lock": ("MG002",),
    "not_null_added": ("MG003",),
    "column_reference_added": ("MG004",),
    "check_constraint_added": ("MG005",),
    "column_type_changed": ("MG006",),
    "column_renamed": ("MG007",),
    "table_renamed": ("MG007",),
    "column_removed": ("MG008",),
    "table_dropped": ("MG008",),
    "column_added_with_default": ("MG009",),
    "column_volatile_default": ("MG009",),
    "operation_insert": ("MG010",),
    "operation_update": ("MG010",),
    "operation_delete": ("MG010",),
    "raw_sql_executed": ("MG011",),
    "json_column_added": ("MG012",),
    "all": ("MG",),
}

_DIRECTIVE = re.compile(
    r"phxguard:(?P<kind>disable-next-line|disable-line|disable-file)"
    r"(?P<codes>(?:[\s,]+(?:[A-Za-z]{2}\d{0,3}|ALL|all)\b)*)"
)
_EM_DIRECTIVE = re.compile(
    r"excellent_migrations:safety-assured-for-(?P<kind>next-line|this-file)"
    r"(?P<types>(?:[\s,]+[a-z_]+)*)"
)
_COMMENT_ELIXIR = re.compile(rb"#[^\r\n]*")
_COMMENT_HEEX = re.compile(rb"<%!--(.*?)--%>|<!--(.*?)-->", re.DOTALL)


@dataclass
class Suppressions:
    """Which codes are silenced for the whole file and on which (0-based) lines."""

    file_codes: set[str] = field(default_factory=set)
    line_codes: dict[int, set[str]] = field(default_factory=dict)

    def covers(self, finding: Finding, index: LineIndex) -> bool:
        """Whether ``finding`` is silenced (codes match exactly or by family prefix)."""
        if _matches(finding.code, self.file_codes):
            return True
        line = index.line_of(finding.start)
        return _matches(finding.code, self.line_codes.get(line, set()))

    def add_line(self, line: int, codes: Iterable[str]) -> None:
        """Silence ``codes`` on ``line``."""
        self.line_codes.setdefault(line, set()).update(codes)


def _matches(code: str, codes: set[str]) -> bool:
    return any(c == "ALL" or code.startswith(c) for c in codes)


def _codes(raw: str) -> set[str]:
    found = {c.upper() for c in re.split(r"[\s,]+", raw.strip()) if c}
    return found or {"ALL"}


def may_have_directives(source: bytes) -> bool:
    """Cheap pre-check: could any suppression directive be in ``source``?"""
    return b"phxguard:" in source or b"excellent_migrations:" in source


def collect(
    source: bytes, comment_spans: Iterable[tuple[int, int]], index: LineIndex
) -> Suppressions:
    """Read suppression directives from the given comment byte spans."""
    result = Suppressions()
    for start, end in comment_spans:
        body = source[start:end].decode("utf-8", "replace")
        line = index.line_of(start)
        end_line = index.line_of(max(start, end - 1))
        for match in _DIRECTIVE.finditer(body):
            kind = match.group("kind")
            codes = _codes(match.group("codes"))
            if kind == "disable-file":
                result.file_codes |= codes
            elif kind == "disable-line":
                result.add_line(line, codes)
            else:
                result.add_line(_next_code_line(end_line, index), codes)
        for match in _EM_DIRECTIVE.finditer(body):
            mapped: set[str] = set()
            for em_type in re.split(r"[\s,]+", match.group("types").strip()):
                mapped.update(EXCELLENT_MIGRATIONS_TYPES.get(em_type, ()))
            if not mapped:
                continue
            if match.group("kind") == "this-file":
                result.file_codes |= mapped
            else:
                result.add_line(_next_code_line(end_line, index), mapped)
    return result


def _next_code_line(line: int, index: LineIndex) -> int:
    """The line after ``line``, skipping comment-only lines (so directives can stack)."""
    nxt = line + 1
    while nxt < index.line_count:
        stripped = index.line_text(nxt).strip()
        if stripped.startswith("#") or stripped.startswith("<%!--"):
            nxt += 1
            continue
        break
    return nxt


def comment_spans_elixir(comment_nodes: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Elixir comments are tree-sitter ``comment`` nodes; passed through as spans."""
    return list(comment_nodes)


def comment_spans_heex(source: bytes) -> list[tuple[int, int]]:
    """``<%!-- ... --%>`` and ``<!-- ... -->`` comment spans in a HEEx template."""
    return [(m.start(), m.end()) for m in _COMMENT_HEEX.finditer(source)]


def comment_spans_fallback(source: bytes) -> list[tuple[int, int]]:
    """``#`` comments found by text when no tree is at hand (may include ``#`` in strings)."""
    return [(m.start(), m.end()) for m in _COMMENT_ELIXIR.finditer(source)]
