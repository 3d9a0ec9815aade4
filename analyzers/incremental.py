"""Incremental analysis: after an edit, re-run unit-scoped rules on the units that changed.

A rule registered with ``scope="definition"`` promises that what it reports
inside a definition depends only on that definition and the module skeleton
(headers, aliases, attributes; see :mod:`analyzers.units`), and that what it
reports outside definitions depends only on the skeleton. ``scope="module"``
promises the same of top-level modules. Cross-unit facts a rule needs (EC001's
"local functions that query") go through :func:`analyzers.summaries.unit_summary`,
whose per-unit contributions are cached here too. When an edit makes a name
come into or leave a summary, the unchanged units whose text mentions that
name are re-checked too (a rule only asks a summary about names written in the
unit it reports in); the others keep their findings.

When only unit contents changed since the previous analysis of the same
document (same skeleton, same config and facts), the findings of unchanged
units are moved to their new offsets, and the rules run on a *compact*
source: the skeleton plus the changed units only. Its findings are mapped back
to the real offsets. Anything else (skeleton edited, units added or removed,
a reused fix pointing into a changed unit) re-runs the scope on the whole file.
Callers that never pass a previous state (the CLI) get exactly the one-shot
analysis.

This runs on every keystroke, so apart from the layout walk nothing in it is
proportional to the number of units: what changed is found by comparing the
two sources once (:func:`analyzers.units.changed_units`), the compact source
is assembled from the skeleton (kept from the first re-check on) and the
changed units, offsets are mapped by bisection, and summary unions come from
per-name counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain, compress
from operator import itemgetter

from tree_sitter import Node, Tree

from analyzers import summaries as unit_summaries
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix
from analyzers.parsing import parse_elixir, reparse
from analyzers.presence import Presence
from analyzers.project import ProjectFacts
from analyzers.registry import Rule
from analyzers.units import Layout, changed_units, layout

_NOTHING: frozenset[str] = frozenset()
RunRules = Callable[[FileContext, Sequence[Rule]], list[Finding]]
OffsetMap = Callable[[int], int | None]


@dataclass(frozen=True)
class Skeleton:
    """A layout's gaps joined without separators, and where each gap starts in ``text``.

    It stays the same while only unit contents change, so it is built once and
    every compact source is assembled from it and the changed units.
    """

    text: bytes
    starts: tuple[int, ...]

    @classmethod
    def of(cls, source: bytes, units: Layout) -> Skeleton:
        """The skeleton of ``source`` cut along ``units``."""
        gaps = units.gaps(source)
        starts = [0]
        for gap in gaps[:-1]:
            starts.append(starts[-1] + len(gap))
        return cls(b"".join(gaps), tuple(starts))


@dataclass
class ScopeCache:
    """What the last analysis of one scope left: per-unit findings and summary contributions."""

    layout: Layout
    source: bytes
    per_unit: list[list[Finding]]
    outside: list[Finding]
    summaries: dict[str, list[frozenset[str]]]
    # Per summary key, how many units contribute each name: the union of the
    # unchanged units' contributions without a pass over every unit.
    counts: dict[str, dict[str, int]]
    # Built on the first incremental re-check and carried along while it holds.
    skeleton: Skeleton | None = None
    # The last compact source and its tree, and which units it kept: typing in the
    # same function again re-parses it incrementally instead of from scratch.
    compact: tuple[tuple[int, ...], bytes, Tree] | None = None


@dataclass
class IncrementalState:
    """The previous analysis of a document, as far as incremental re-analysis needs it."""

    path: str
    config: Config
    facts: ProjectFacts
    codes: tuple[str, ...]
    scopes: dict[str, ScopeCache] = field(default_factory=dict)
    # The last analysed text that parsed without errors, with its tree: a broken
    # file's set-aside form is parsed incrementally from it (see analyzers.broken).
    base: tuple[bytes, Tree] | None = None
    # What the analysed text contains, for the next analysis to carry over.
    presence: Presence | None = None

    def matches(
        self, path: str, config: Config, facts: ProjectFacts, codes: tuple[str, ...]
    ) -> bool:
        """Whether results computed under this state still apply (same file, settings, facts)."""
        return (
            self.path == path
            and self.config is config
            and self.facts is facts
            and self.codes == codes
        )


def map_finding(finding: Finding, mapping: OffsetMap) -> Finding | None:
    """``finding`` with every offset in this file moved by ``mapping`` (None if one cannot be)."""
    start, end = mapping(finding.start), mapping(finding.end)
    if start is None or end is None:
        return None
    fixes: list[Fix] = []
    for fix in finding.fixes:
        edits: list[Edit] = []
        for edit in fix.edits:
            if edit.path is not None:
                edits.append(edit)
                continue
            edit_start, edit_end = mapping(edit.start), mapping(edit.end)
            if edit_start is None or edit_end is None:
                return None
            edits.append(replace(edit, start=edit_start, end=edit_end))
        fixes.append(replace(fix, edits=tuple(edits)))
    return replace(finding, start=start, end=end, fixes=tuple(fixes))


_start = itemgetter(0)


def _moved(old: Layout, new: Layout, dirty: Sequence[int]) -> OffsetMap:
    """Old offsets to new ones when only unit contents changed (None inside a changed unit).

    An offset moves as the last unit start or end at or before it did.
    """
    old_spans, new_spans = old.spans, new.spans
    dirty_spans = [old_spans[i] for i in dirty]

    def mapping(offset: int) -> int | None:
        if any(start < offset < end for start, end in dirty_spans):
            return None
        index = bisect.bisect_right(old_spans, offset, key=_start) - 1
        if index < 0:
            return offset
        start, end = old_spans[index]
        if offset < end:
            return offset + new_spans[index][0] - start
        return offset + new_spans[index][1] - end

    return mapping


@dataclass(frozen=True)
class Compact:
    """The skeleton plus some units, and how its offsets map back to the real source.

    The compact source is made of pieces: each gap of the real source, and the
    kept units. A compact offset belongs to the last piece starting at or
    before it. Kept units are few and checked one by one; the gaps are found by
    bisection in the skeleton, so nothing here is proportional to the file.
    """

    source: bytes
    units: Layout
    skeleton: Skeleton
    # (compact start, compact end, real start) of each kept unit, in order.
    kept: tuple[tuple[int, int, int], ...]

    def to_real(self, offset: int) -> int | None:
        """The real offset of a compact one."""
        if offset < 0:
            return None
        before = 0
        for start, end, real in self.kept:
            if offset < start:
                break
            if offset < end:
                return real + offset - start
            before += end - start
        at = offset - before
        gap = bisect.bisect_right(self.skeleton.starts, at) - 1
        return self.units.gap_start(gap) + at - self.skeleton.starts[gap]


def compact_source(
    source: bytes, units: Layout, keep: Sequence[int], skeleton: Skeleton
) -> Compact:
    """``source`` without the units not in ``keep`` (``skeleton``: the one of ``source``)."""
    pieces: list[bytes] = []
    kept: list[tuple[int, int, int]] = []
    length = 0
    position = 0
    for index in sorted(keep):
        # Unit ``index`` sits where gap ``index`` ends, that is where gap ``index + 1`` starts.
        cut = skeleton.starts[index + 1]
        start, end = units.spans[index]
        pieces.append(skeleton.text[position:cut])
        pieces.append(source[start:end])
        length += cut - position
        kept.append((length, length + end - start, start))
        length += end - start
        position = cut
    pieces.append(skeleton.text[position:])
    return Compact(b"".join(pieces), units, skeleton, tuple(kept))


def _attribute(
    units: Layout, findings: Sequence[Finding]
) -> tuple[list[list[Finding]], list[Finding]]:
    per_unit: list[list[Finding]] = [[] for _ in units.spans]
    outside: list[Finding] = []
    for finding in findings:
        index = units.unit_at(finding.start)
        (per_unit[index] if index is not None else outside).append(finding)
    return per_unit, outside


def _contributions(
    units: Layout, recorded: dict[str, dict[int, frozenset[str]]], mapping: OffsetMap
) -> dict[str, list[frozenset[str]]]:
    """Per-unit summary contributions from what a context recorded (offsets mapped to real)."""
    result: dict[str, list[frozenset[str]]] = {}
    for key, by_offset in recorded.items():
        per_unit: list[frozenset[str]] = [_NOTHING] * len(units.spans)
        for offset, names in by_offset.items():
            real = mapping(offset)
            index = units.unit_at(real) if real is not None else None
            if index is not None:
                per_unit[index] = per_unit[index] | names
        result[key] = per_unit
    return result


def _counts(summaries: dict[str, list[frozenset[str]]]) -> dict[str, dict[str, int]]:
    """Per summary key, how many units contribute each name (names of no unit left out)."""
    counts: dict[str, dict[str, int]] = {}
    for key, values in summaries.items():
        tally: dict[str, int] = {}
        for names in values:
            for name in names:
                tally[name] = tally.get(name, 0) + 1
        counts[key] = tally
    return counts


def _union_except(
    tally: dict[str, int], contributions: list[frozenset[str]], left_out: Sequence[int]
) -> frozenset[str]:
    """The union of every unit's ``contributions`` but those of the units ``left_out``."""
    gone: dict[str, int] = {}
    for index in left_out:
        for name in contributions[index]:
            gone[name] = gone.get(name, 0) + 1
    if not gone:
        return frozenset(tally)
    return frozenset(name for name, count in tally.items() if count > gone.get(name, 0))


def run_scope(
    ctx: FileContext,
    rules: Sequence[Rule],
    scope: str,
    previous: ScopeCache | None,
    run_rules: RunRules,
) -> tuple[list[Finding], ScopeCache]:
    """Findings of ``rules`` (all of one ``scope``) on ``ctx``, reusing ``previous`` when it can."""
    units = layout(ctx.tree, scope, ctx.source)
    if previous is not None:
        reused = _incremental(ctx, rules, scope, units, previous, run_rules)
        if reused is not None:
            return [*chain.from_iterable(reused.per_unit), *reused.outside], reused
    unit_summaries.keep(ctx)
    found = run_rules(ctx, rules)
    per_unit, outside = _attribute(units, found)
    summaries = _contributions(units, unit_summaries.recorded(ctx), lambda offset: offset)
    return found, ScopeCache(units, ctx.source, per_unit, outside, summaries, _counts(summaries))


def _parse_compact(
    source: bytes,
    kept: tuple[int, ...],
    last: tuple[tuple[int, ...], bytes, Tree] | None,
    broken: bool = False,
) -> Tree:
    """Parse a compact source, incrementally from the last one when it kept the same units.

    A result with errors is parsed again from scratch: error recovery after an
    incremental parse can differ from a fresh one. ``broken`` (the kept units
    have errors in the whole file, so the compact source almost surely has
    them too) goes straight to the fresh parse instead of paying for both.
    """
    if last is None or last[0] != kept or broken:
        return parse_elixir(source)
    _, old, tree = last
    return reparse(old, tree, source) or parse_elixir(source)


def errors_only_in(root: Node, spans: set[tuple[int, int]]) -> bool:
    """Whether every ERROR/MISSING node under ``root`` lies inside a node spanning one of ``spans``."""
    pending = [root] if root.has_error else []
    while pending:
        node = pending.pop()
        if (node.start_byte, node.end_byte) in spans and node.type == "call":
            continue
        if node.is_error or node.is_missing:
            return False
        pending.extend(child for child in node.children if child.has_error)
    return True


def _shape(node: Node, base: int) -> list[tuple[int, int, int, bool]]:
    """Preorder (kind, start, end, missing) of a subtree, offsets relative to ``base``."""
    found: list[tuple[int, int, int, bool]] = []
    cursor = node.walk()
    while True:
        current = cursor.node
        assert current is not None
        found.append(
            (
                current.kind_id,
                current.start_byte - base,
                current.end_byte - base,
                current.is_missing,
            )
        )
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent() or cursor.node == node:
                return found


def _unit_node(tree: Tree, span: tuple[int, int]) -> Node | None:
    node = tree.root_node.descendant_for_byte_range(*span)
    while node is not None and (node.start_byte, node.end_byte) == span and node.type != "call":
        node = node.parent
    return node if node is not None and (node.start_byte, node.end_byte) == span else None


def _same_shapes(
    whole: Tree,
    compact: Tree,
    spans: list[tuple[int, int]],
    compact_spans: tuple[tuple[int, int], ...],
) -> bool:
    """Whether each kept unit parses into the same subtree in the compact source as in the file."""
    for span, compact_span in zip(spans, compact_spans, strict=True):
        real, cut = _unit_node(whole, span), _unit_node(compact, compact_span)
        if real is None or cut is None or _shape(real, span[0]) != _shape(cut, compact_span[0]):
            return False
    return True


def _incremental(
    ctx: FileContext,
    rules: Sequence[Rule],
    scope: str,
    units: Layout,
    previous: ScopeCache,
    run_rules: RunRules,
) -> ScopeCache | None:
    dirty = changed_units(previous.source, previous.layout, ctx.source, units)
    if dirty is None:
        return None
    if not dirty:
        return previous
    for _ in range(_MAX_WIDENINGS):
        outcome = _recheck(ctx, rules, scope, units, previous, run_rules, dirty)
        if outcome is None:
            return None
        cache, flipped = outcome
        # The unchanged units' findings were computed with the old summaries: still
        # right for those that never mention a name that came or went.
        affected = _mentioning(ctx.source, units, flipped) - set(dirty)
        if not affected:
            return cache
        dirty = sorted({*dirty, *affected})
    return None


# A summary change re-checks the units that mention its names; those re-checks
# can change a summary again (a helper's helper), but rarely more than twice.
_MAX_WIDENINGS = 3


def _mentioning(source: bytes, units: Layout, names: set[str]) -> set[int]:
    """Units whose text contains one of ``names`` (a superset of those that use them)."""
    found: set[int] = set()
    for name in names:
        needle = name.encode()
        at = source.find(needle)
        while at >= 0:
            index = units.unit_at(at)
            if index is not None:
                found.add(index)
            at = source.find(needle, at + 1)
    return found


def _recheck(
    ctx: FileContext,
    rules: Sequence[Rule],
    scope: str,
    units: Layout,
    previous: ScopeCache,
    run_rules: RunRules,
    dirty: Sequence[int],
) -> tuple[ScopeCache, set[str]] | None:
    """Re-run ``rules`` on the ``dirty`` units; also the summary names that came or went."""
    if sum(units.spans[i][1] - units.spans[i][0] for i in dirty) * 2 > len(ctx.source):
        # Re-parsing most of the file costs more than checking it whole.
        return None
    changed = set(dirty)
    moved = _moved(previous.layout, units, dirty)
    # The lists of units without findings are shared with ``previous``: never
    # appended to, a unit that gains a finding below gets a new list.
    per_unit = list(previous.per_unit)
    owned = set(dirty)
    for index in dirty:
        per_unit[index] = []
    # Only the units that have findings (compress picks them in C, not one by one).
    for index in compress(range(len(per_unit)), previous.per_unit):
        if index in changed:
            continue
        kept: list[Finding] = []
        for finding in previous.per_unit[index]:
            mapped = map_finding(finding, moved)
            if mapped is None:
                return None
            kept.append(mapped)
        per_unit[index] = kept
        owned.add(index)
    kept_spans = [units.spans[i] for i in dirty]
    if not errors_only_in(ctx.tree.root_node, set(kept_spans)):
        # An error outside the changed units (or reaching into the skeleton) can
        # make neighbouring code parse differently once cut out.
        return None
    skeleton = previous.skeleton or Skeleton.of(ctx.source, units)
    compact = compact_source(ctx.source, units, dirty, skeleton)
    compact_tree = _parse_compact(
        compact.source, tuple(dirty), previous.compact, ctx.tree.root_node.has_error
    )
    compact_spans = layout(compact_tree, scope, compact.source).spans
    if [(compact.to_real(a), compact.to_real(b)) for a, b in compact_spans] != kept_spans:
        return None
    if compact_tree.root_node.has_error and not (
        errors_only_in(compact_tree.root_node, set(compact_spans))
        and _same_shapes(ctx.tree, compact_tree, kept_spans, compact_spans)
    ):
        # Error recovery depends on what follows: trust the cut-down parse of a unit
        # with errors only where it is the same tree as in the whole file.
        return None
    partial = FileContext(
        compact.source, ctx.path, ctx.language, compact_tree, config=ctx.config, facts=ctx.facts
    )
    unit_summaries.keep(partial)
    for key, contributions in previous.summaries.items():
        seeded = _union_except(previous.counts[key], contributions, dirty)
        unit_summaries.seed(partial, key, seeded)
    outside: list[Finding] = []
    for finding in run_rules(partial, rules):
        mapped = map_finding(finding, compact.to_real)
        if mapped is None:
            return None
        owner = units.unit_at(mapped.start)
        if owner is None:
            outside.append(mapped)
            continue
        if owner not in owned:
            per_unit[owner] = list(per_unit[owner])
            owned.add(owner)
        per_unit[owner].append(mapped)
    summaries, counts, flipped = _updated_summaries(previous, units, dirty, partial, compact)
    cache = ScopeCache(
        units,
        ctx.source,
        per_unit,
        outside,
        summaries,
        counts,
        skeleton,
        (tuple(dirty), compact.source, compact_tree),
    )
    return cache, flipped


def _updated_summaries(
    previous: ScopeCache,
    units: Layout,
    dirty: Sequence[int],
    partial: FileContext,
    compact: Compact,
) -> tuple[dict[str, list[frozenset[str]]], dict[str, dict[str, int]], set[str]]:
    """Summaries and counts with the changed units' contributions, and names that came or went."""
    summaries = {key: list(values) for key, values in previous.summaries.items()}
    counts = {key: dict(tally) for key, tally in previous.counts.items()}
    fresh = _contributions(units, unit_summaries.recorded(partial), compact.to_real)
    flipped: set[str] = set()
    for key in set(summaries) | set(fresh):
        values = summaries.setdefault(key, [_NOTHING] * len(units.spans))
        tally = counts.setdefault(key, {})
        before = previous.counts.get(key, {})
        touched: set[str] = set()
        for index in dirty:
            old, new = values[index], fresh[key][index] if key in fresh else _NOTHING
            values[index] = new
            for name in old - new:
                touched.add(name)
                tally[name] -= 1
                if not tally[name]:
                    del tally[name]
            for name in new - old:
                touched.add(name)
                tally[name] = tally.get(name, 0) + 1
        flipped.update(name for name in touched if (name in tally) != (name in before))
    return summaries, counts, flipped
