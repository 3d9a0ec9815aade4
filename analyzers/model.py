"""The data every rule produces and every front end consumes.

Ranges are UTF-8 byte offsets into the analysed source; front ends convert
them to lines and columns in whatever unit their consumer wants.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """How bad a finding is; higher is worse (so ``>=`` compares thresholds)."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """The lower-case name used in config files and output formats."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read ``error``/``warning``/``info`` (case-insensitive); raise ValueError otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (expected error, warning or info)"
            ) from None


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes ``[start, end)`` of a file with ``new_text``.

    ``path`` is None for the analysed file itself, or another file's path
    (for fixes that touch, say, a LiveView and its template).
    """

    start: int
    end: int
    new_text: str
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Fix:
    """A titled set of edits that together resolve one finding."""

    title: str
    edits: tuple[Edit, ...]
    preferred: bool = True


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a rule found: where, what, how bad, and how to fix it."""

    code: str
    start: int
    end: int
    message: str
    severity: Severity
    fixes: tuple[Fix, ...] = ()
    path: str = ""
    # Longer hover-only text for this occurrence (e.g. the user's code rewritten safely).
    note: str = ""


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """Everything said about a rule, in one place.

    Hover text, ``phxguard explain``, SARIF rule help, the HTML rule docs and
    the README rule table are all rendered from this.
    """

    code: str
    slug: str
    title: str
    severity: Severity
    rationale: str
    safe_pattern: str
    fix_title: str | None = None
    related: tuple[str, ...] = field(default=())

    @property
    def family(self) -> str:
        """The two-letter family prefix (``MG`` for ``MG001``)."""
        return self.code[:2]
