"""Incremental analysis: after an edit, re-run unit-scoped rules on the units that changed.

A rule registered with ``scope="definition"`` promises that what it reports
inside a definition depends only on that definition and the module skeleton
(headers, aliases, attributes; see :mod:`analyzers.units`), and that what it
reports outside definitions depends only on the skeleton. ``scope="module"``
promises the same of top-level modules. Cross-unit facts a rule needs (EC001's
"local functions that query") go through :meth:`FileContext.unit_summary`,
whose per-unit contributions are cached here too.

When only unit contents changed since the previous analysis of the same
document (same skeleton, same config and facts), the findings of unchanged
units are moved to their new offsets, and the rules run on a *compact*
source: the skeleton plus the changed units only. Its findings are mapped back
to the real offsets. Anything else (skeleton edited, units added or removed,
a reused fix pointing into a changed unit) re-runs the scope on the whole file.
Callers that never pass a previous state (the CLI) get exactly the one-shot
analysis.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from tree_sitter import Node, Tree

from analyzers import summaries as unit_summaries
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix
from analyzers.parsing import edit_tree, parse_elixir
from analyzers.project import ProjectFacts
from analyzers.registry import Rule
from analyzers.units import Layout, layout

_NOTHING: frozenset[str] = frozenset()
RunRules = Callable[[FileContext, Sequence[Rule]], list[Finding]]
OffsetMap = Callable[[int], int | None]


@dataclass
class ScopeCache:
    """What the last analysis of one scope left: per-unit findings and summary contributions."""

    layout: Layout
    texts: list[bytes]
    skeleton: bytes
    per_unit: list[list[Finding]]
    outside: list[Finding]
    summaries: dict[str, list[frozenset[str]]]
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


def _moved(old: Layout, new: Layout, dirty: set[int]) -> OffsetMap:
    """Old offsets to new ones when only unit contents changed (None inside a changed unit)."""
    points: list[int] = []
    shifts: list[int] = []
    for (old_start, old_end), (new_start, new_end) in zip(old.spans, new.spans, strict=True):
        points.extend((old_start, old_end))
        shifts.extend((new_start - old_start, new_end - old_end))
    dirty_spans = [old.spans[i] for i in dirty]

    def mapping(offset: int) -> int | None:
        if any(start < offset < end for start, end in dirty_spans):
            return None
        index = bisect.bisect_right(points, offset) - 1
        return offset + (shifts[index] if index >= 0 else 0)

    return mapping


@dataclass(frozen=True)
class Compact:
    """The skeleton plus some units, and how its offsets map back to the real source."""

    source: bytes
    compact_starts: list[int]
    real_starts: list[int]

    def to_real(self, offset: int) -> int | None:
        """The real offset of a compact one."""
        index = bisect.bisect_right(self.compact_starts, offset) - 1
        if index < 0:
            return None
        return self.real_starts[index] + offset - self.compact_starts[index]


def compact_source(source: bytes, units: Layout, keep: Sequence[int]) -> Compact:
    """``source`` without the units not in ``keep``."""
    kept = set(keep)
    pieces: list[bytes] = []
    compact_starts: list[int] = []
    real_starts: list[int] = []
    length = 0
    position = 0

    def add(start: int, end: int) -> None:
        nonlocal length
        compact_starts.append(length)
        real_starts.append(start)
        pieces.append(source[start:end])
        length += end - start

    for index, (start, end) in enumerate(units.spans):
        add(position, start)
        if index in kept:
            add(start, end)
        position = end
    add(position, len(source))
    return Compact(b"".join(pieces), compact_starts, real_starts)


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


def _totals(summaries: dict[str, list[frozenset[str]]]) -> dict[str, frozenset[str]]:
    totals = {key: frozenset().union(*values) for key, values in summaries.items()}
    return {key: names for key, names in totals.items() if names}


def run_scope(
    ctx: FileContext,
    rules: Sequence[Rule],
    scope: str,
    previous: ScopeCache | None,
    run_rules: RunRules,
) -> tuple[list[Finding], ScopeCache]:
    """Findings of ``rules`` (all of one ``scope``) on ``ctx``, reusing ``previous`` when it can."""
    units = layout(ctx.tree, scope)
    texts = units.texts(ctx.source)
    skeleton = units.skeleton(ctx.source)
    if previous is not None and previous.skeleton == skeleton:
        reused = _incremental(ctx, rules, scope, units, texts, previous, run_rules)
        if reused is not None:
            return [f for unit in reused.per_unit for f in unit] + reused.outside, reused
    found = run_rules(ctx, rules)
    per_unit, outside = _attribute(units, found)
    summaries = _contributions(units, unit_summaries.recorded(ctx), lambda offset: offset)
    return found, ScopeCache(units, texts, skeleton, per_unit, outside, summaries)


def _parse_compact(
    source: bytes, kept: tuple[int, ...], last: tuple[tuple[int, ...], bytes, Tree] | None
) -> Tree:
    """Parse a compact source, incrementally from the last one when it kept the same units.

    A result with errors is parsed again from scratch: error recovery after an
    incremental parse can differ from a fresh one.
    """
    if last is None or last[0] != kept:
        return parse_elixir(source)
    _, old, tree = last
    start, old_end, _ = changed_span(old, source)
    tree = tree.copy()
    edit_tree(tree, old, source, start, old_end)
    reparsed = parse_elixir(source, tree)
    return parse_elixir(source) if reparsed.root_node.has_error else reparsed


def changed_span(old: bytes, new: bytes) -> tuple[int, int, int]:
    """``(start, old_end, new_end)``: the one stretch where ``old`` and ``new`` differ."""
    shortest = min(len(old), len(new))
    before, after = memoryview(old), memoryview(new)
    low, high = 0, shortest
    while low < high:
        middle = (low + high + 1) // 2
        if before[:middle] == after[:middle]:
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, shortest - prefix
    while low < high:
        middle = (low + high + 1) // 2
        if before[len(old) - middle :] == after[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return prefix, len(old) - low, len(new) - low


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
    texts: list[bytes],
    previous: ScopeCache,
    run_rules: RunRules,
) -> ScopeCache | None:
    if len(previous.texts) != len(texts):
        return None
    dirty = [
        i for i, (old, new) in enumerate(zip(previous.texts, texts, strict=True)) if old != new
    ]
    if not dirty:
        return previous
    changed = set(dirty)
    if sum(units.spans[i][1] - units.spans[i][0] for i in dirty) * 2 > len(ctx.source):
        # Re-parsing most of the file costs more than checking it whole.
        return None
    moved = _moved(previous.layout, units, changed)
    per_unit: list[list[Finding]] = []
    for index, old_findings in enumerate(previous.per_unit):
        if index in changed:
            per_unit.append([])
            continue
        kept: list[Finding] = []
        for finding in old_findings:
            mapped = map_finding(finding, moved)
            if mapped is None:
                return None
            kept.append(mapped)
        per_unit.append(kept)
    kept_spans = [units.spans[i] for i in dirty]
    if not errors_only_in(ctx.tree.root_node, set(kept_spans)):
        # An error outside the changed units (or reaching into the skeleton) can
        # make neighbouring code parse differently once cut out.
        return None
    compact = compact_source(ctx.source, units, dirty)
    compact_tree = _parse_compact(compact.source, tuple(dirty), previous.compact)
    compact_spans = layout(compact_tree, scope).spans
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
    clean = [i for i in range(len(texts)) if i not in changed]
    for key, contributions in previous.summaries.items():
        unit_summaries.seed(partial, key, frozenset().union(*(contributions[i] for i in clean)))
    outside: list[Finding] = []
    for finding in run_rules(partial, rules):
        mapped = map_finding(finding, compact.to_real)
        if mapped is None:
            return None
        owner = units.unit_at(mapped.start)
        (per_unit[owner] if owner is not None else outside).append(mapped)
    summaries = {key: list(values) for key, values in previous.summaries.items()}
    fresh = _contributions(units, unit_summaries.recorded(partial), compact.to_real)
    for key in set(summaries) | set(fresh):
        values = summaries.setdefault(key, [frozenset() for _ in texts])
        for index in dirty:
            values[index] = fresh[key][index] if key in fresh else frozenset()
    if _totals(summaries) != _totals(previous.summaries):
        # The unchanged units' findings were computed with the old summary.
        return None
    return ScopeCache(
        units,
        texts,
        previous.skeleton,
        per_unit,
        outside,
        summaries,
        (tuple(dirty), compact.source, compact_tree),
    )
