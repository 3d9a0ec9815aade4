"""Bounds on one file's analysis: what is not analysed at all, and how long analysis may take.

A file that is too large, binary, nested beyond what the rules can walk, or
slower to analyse than the time budget yields one info finding (``PX000``,
"analysis skipped: <why>") instead of freezing an editor or a CI job. The
deadline is cooperative: the engine checks it between rules, and the walks
that can be quadratic on pathological trees (climbing ancestors) check it as
they go, so one slow rule cannot hold the analysis for long.
"""

from __future__ import annotations

import threading
import time

from analyzers.model import Finding, Severity

SKIPPED_CODE = "PX000"
SKIPPED_PREFIX = "analysis skipped: "
DEFAULT_MAX_FILE_BYTES = 2_000_000
DEFAULT_TIME_BUDGET_MS = 3_000
_SNIFF_BYTES = 8192
# Control bytes that never appear in source text (tab, newlines, form feed, escape do).
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b") + b"\x7f"


class BudgetExceeded(Exception):
    """The analysis ran past its deadline; the engine turns this into a skipped finding."""


def skipped(reason: str) -> Finding:
    """The single finding a skipped file reports: at its first byte, severity info."""
    return Finding(SKIPPED_CODE, 0, 0, SKIPPED_PREFIX + reason, Severity.INFO)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def is_binary(source: bytes) -> bool:
    """Binary content: NUL bytes in the first 8 KiB and over 10% of it not text.

    A source file with a stray NUL in a string is still text and is analysed.
    """
    head = source[:_SNIFF_BYTES]
    if b"\0" not in head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))
    invalid = head.decode("utf-8", "replace").count("\ufffd")
    return (control + invalid) * 10 > len(head)


def skip_reason(source: bytes, max_file_bytes: int) -> str | None:
    """Why ``source`` is not analysed at all, or None if it is."""
    if len(source) > max_file_bytes:
        return (
            f"the file is {_megabytes(len(source))}, over the {_megabytes(max_file_bytes)} "
            "limit (`max_file_bytes` in .phxguard.toml)"
        )
    if is_binary(source):
        return "the file has binary content, not Elixir source"
    return None


_state = threading.local()


class deadline:  # lowercase: it reads as `with deadline(seconds):`
    """Run the body under a deadline ``seconds`` from now (per thread; nesting keeps the earliest).

    A class rather than a generator-based context manager: it wraps every
    file's analysis, and costs a third as much.
    """

    __slots__ = ("_previous", "_seconds")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._previous: float | None = None

    def __enter__(self) -> None:
        previous: float | None = getattr(_state, "deadline", None)
        self._previous = previous
        mine = time.monotonic() + self._seconds
        _state.deadline = mine if previous is None else min(previous, mine)

    def __exit__(self, *exc: object) -> None:
        _state.deadline = self._previous


def check() -> None:
    """Raise BudgetExceeded if this thread's deadline has passed."""
    limit = current_deadline()
    if limit is not None and time.monotonic() > limit:
        raise BudgetExceeded


def current_deadline() -> float | None:
    """This thread's deadline (a :func:`time.monotonic` time), for a loop that checks it often."""
    limit: float | None = getattr(_state, "deadline", None)
    return limit
