"""Applying byte-range edits to source: shared by ``--fix``, fix-all and tests."""

from __future__ import annotations

from collections.abc import Iterable

from analyzers.model import Edit, Finding, Fix


class OverlappingEditsError(ValueError):
    """Two edits of one fix touch the same bytes."""


def apply_edits(source: bytes, edits: Iterable[Edit]) -> bytes:
    """Apply non-overlapping edits (byte ranges of ``source``) and return the new bytes.

    Edits at the same insertion point are applied in the order given.
    """
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end, item[0]))
    out: list[bytes] = []
    cursor = 0
    for _, edit in ordered:
        if edit.start < cursor or edit.end < edit.start or edit.end > len(source):
            raise OverlappingEditsError(f"edit {edit.start}-{edit.end} overlaps or is out of range")
        out.append(source[cursor : edit.start])
        out.append(edit.new_text.encode("utf-8"))
        cursor = edit.end
    out.append(source[cursor:])
    return b"".join(out)


def compatible_fixes(findings: Iterable[Finding], path: str | None = None) -> list[Fix]:
    """Preferred fixes of ``findings`` whose edits do not overlap each other, in order.

    A fix whose edits collide with an already-chosen fix is skipped (a later
    run picks it up after the file is re-analysed). Identical insertions from
    different findings (e.g. two MG001 fixes both adding the same attribute)
    are kept once.
    """
    chosen: list[Fix] = []
    taken: list[tuple[str | None, int, int]] = []
    seen_edits: set[tuple[str | None, int, int, str]] = set()
    for finding in findings:
        fix = next((f for f in finding.fixes if f.preferred), None)
        if fix is None:
            continue
        fresh = [
            e for e in fix.edits if (e.path or path, e.start, e.end, e.new_text) not in seen_edits
        ]
        if any(_overlaps((e.path or path, e.start, e.end), t) for e in fresh for t in taken):
            continue
        for e in fresh:
            taken.append((e.path or path, e.start, e.end))
            seen_edits.add((e.path or path, e.start, e.end, e.new_text))
        chosen.append(Fix(fix.title, tuple(fresh), fix.preferred))
    return chosen


def _overlaps(a: tuple[str | None, int, int], b: tuple[str | None, int, int]) -> bool:
    # Half-open ranges: an insertion at another edit's boundary does not collide.
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]
