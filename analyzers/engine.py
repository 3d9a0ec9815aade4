"""Run the rules over one file: parse, check each rule in isolation, filter, sort."""

from __future__ import annotations

import functools
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePath

from tree_sitter import Node, Query, QueryCursor, Tree

from analyzers import broken, budget, heex, suppressions, units
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.incremental import IncrementalState, run_scope
from analyzers.model import Finding, Fix
from analyzers.parsing import elixir_language, parse_elixir, reparse
from analyzers.project import ProjectFacts
from analyzers.registry import Rule, registered_rules

log = logging.getLogger(__name__)

ELIXIR = "elixir"
HEEX = "heex"
_LANGUAGE_IDS = {
    "elixir": ELIXIR,
    "heex": HEEX,
    "phoenix-heex": HEEX,
    "eex": HEEX,
    "html-eex": HEEX,
}
_SUFFIXES = {".ex": ELIXIR, ".exs": ELIXIR, ".heex": HEEX}


def language_for(path: str, language_id: str | None = None) -> str | None:
    """``elixir`` or ``heex`` from an LSP language id or the file suffix; None if neither."""
    if language_id and language_id.lower() in _LANGUAGE_IDS:
        return _LANGUAGE_IDS[language_id.lower()]
    return _SUFFIXES.get(_suffix(path).lower())


def _suffix(path: str) -> str:
    """``PurePath(path).suffix``, without building a path for a plain file name (~5 us each)."""
    name = path.rsplit(os.sep, 1)[-1]
    if os.altsep:
        name = name.rsplit(os.altsep, 1)[-1]
    if name in ("", ".", ".."):
        return PurePath(path).suffix
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


# Shared defaults: the engine keeps per-config state (the rules it selects), and facts
# keep their collectors' empty values.
_DEFAULT_CONFIG = Config()
_NO_FACTS = ProjectFacts()


@dataclass(frozen=True)
class RuleFailure:
    """A rule that raised while checking a file; reported to logs, never to the user's code."""

    code: str
    path: str
    error: str
    traceback: str


@dataclass
class AnalysisResult:
    """Findings of one file, plus the rules that failed on it."""

    findings: list[Finding] = field(default_factory=list)
    failures: list[RuleFailure] = field(default_factory=list)
    has_syntax_errors: bool = False
    # For incremental re-analysis of the same document (only when asked for).
    state: IncrementalState | None = None


def analyze(
    source: bytes,
    path: str,
    *,
    config: Config | None = None,
    facts: ProjectFacts | None = None,
    tree: Tree | None = None,
    language: str | None = None,
    rules: Iterable[Rule] | None = None,
    previous: IncrementalState | None = None,
    incremental: bool = False,
    base: tuple[bytes, Tree] | None = None,
) -> AnalysisResult:
    """Analyse one file's bytes.

    ``tree`` may be passed when the caller keeps an (incrementally updated)
    parse tree of exactly ``source``. Each rule runs isolated: one that raises
    is recorded in ``failures`` and the others still report. A file that is
    too large, binary, too deeply nested or too slow for the time budget
    yields one ``PX000`` "analysis skipped" finding instead (see
    ``analyzers.budget``).

    With ``incremental``, the result carries a ``state`` to pass back as
    ``previous`` when the same document is analysed again after an edit:
    unit-scoped rules then re-check only the units that changed (see
    ``analyzers.incremental``). The findings are the same either way.

    A file whose syntax errors escape its definitions is analysed with its
    broken definitions set aside (see ``analyzers.broken``). ``base``, an
    earlier text of the same document with its error-free tree, lets that
    form be parsed incrementally; the findings are the same without it.
    """
    config = config or _DEFAULT_CONFIG
    reason = budget.skip_reason(source, config.max_file_bytes)
    if reason is not None:
        return AnalysisResult(findings=[_skipped(path, reason)])
    try:
        with budget.deadline(config.time_budget_ms / 1000):
            return _analyze(
                source, path, config, facts, tree, language, rules, previous, incremental, base
            )
    except budget.BudgetExceeded:
        log.warning("analysis of %s exceeded %d ms: skipped", path, config.time_budget_ms)
        reason = (
            f"analysis took longer than the {config.time_budget_ms} ms budget "
            "(`time_budget_ms` in .phxguard.toml)"
        )
        return AnalysisResult(findings=[_skipped(path, reason)])
    except RecursionError:
        log.warning("analysis of %s hit the recursion limit: skipped", path)
        return AnalysisResult(findings=[_skipped(path, "the code is nested too deeply to analyse")])


def _skipped(path: str, reason: str) -> Finding:
    return replace(budget.skipped(reason), path=path)


def _analyze(
    source: bytes,
    path: str,
    config: Config,
    facts: ProjectFacts | None,
    tree: Tree | None,
    language: str | None,
    rules: Iterable[Rule] | None,
    previous: IncrementalState | None,
    incremental: bool,
    base: tuple[bytes, Tree] | None,
) -> AnalysisResult:
    facts = facts or _NO_FACTS
    lang = language or language_for(path) or ELIXIR
    template: heex.Template | None = None
    if lang == HEEX:
        # A .heex file: rules registered for "heex" read it through analyzers.heex.
        template = heex.template_of_heex(source)
        tree = template.tree
    elif tree is None:
        tree = parse_elixir(source)
    result = AnalysisResult(has_syntax_errors=tree.root_node.has_error)
    if base is None and previous is not None:
        base = previous.base
    aside_form = (
        _set_aside(source, tree, base) if lang == ELIXIR and result.has_syntax_errors else None
    )
    aside: broken.SetAside | None = None
    if aside_form is not None:
        # The set-aside form has the same length: every offset found in it is a real one.
        aside, aside_tree = aside_form
        ctx = FileContext(aside.source, path, lang, aside_tree, config=config, facts=facts)
    else:
        ctx = FileContext(source, path, lang, tree, config=config, facts=facts)
    if template is not None:
        heex.adopt(ctx, template)
    selected = _selected_rules(rules, lang, config)

    def run(context: FileContext, batch: Sequence[Rule]) -> list[Finding]:
        return _run_rules(context, batch, result.failures)

    if not incremental or lang != ELIXIR:
        result.findings = run(ctx, selected)
    else:
        codes = tuple(rule.code for rule in selected)
        state = IncrementalState(path, config, facts, codes)
        if previous is not None and previous.presence is not None:
            # What the text contains does not depend on settings: carried over regardless.
            ctx.presence = previous.presence.after_edit(ctx.source)
        state.presence = ctx.presence
        if ctx.tree.root_node.has_error:
            state.base = base
        else:
            state.base = (ctx.source, ctx.tree)
        if previous is None or not previous.matches(path, config, facts, codes):
            previous = None
        result.findings = run(ctx, [r for r in selected if r.scope == units.FILE])
        for scope in (units.MODULE, units.DEFINITION):
            batch = [r for r in selected if r.scope == scope]
            if not batch:
                continue
            cached = previous.scopes.get(scope) if previous is not None else None
            found, state.scopes[scope] = run_scope(ctx, batch, scope, cached, run)
            result.findings.extend(found)
        # A failing rule leaves no trustworthy cache behind.
        result.state = None if result.failures else state
    if result.findings and suppressions.may_have_directives(source):
        spans = _comment_spans(ctx)
        silenced = suppressions.collect(source, spans, ctx.line_index)
        result.findings = [f for f in result.findings if not silenced.covers(f, ctx.line_index)]
    if aside is not None:
        result.findings = _outside(aside, result.findings)
    result.findings = _dedupe_sorted(result.findings)
    return result


# The registered rules a language and config select: (config, rules, language) -> selection.
# Asked for every file; the config object is kept so its id cannot be reused meanwhile.
_selections: dict[tuple[int, str], tuple[Config, tuple[Rule, ...], tuple[Rule, ...]]] = {}
_MAX_SELECTIONS = 16


def _selected_rules(rules: Iterable[Rule] | None, lang: str, config: Config) -> tuple[Rule, ...]:
    """The rules of ``rules`` (all registered ones when None) that read ``lang`` and are enabled."""
    if rules is not None:
        return tuple(r for r in rules if lang in r.languages and config.enabled(r.code))
    registered = registered_rules()
    key = (id(config), lang)
    cached = _selections.get(key)
    if cached is not None and cached[0] is config and cached[1] is registered:
        return cached[2]
    selected = tuple(r for r in registered if lang in r.languages and config.enabled(r.code))
    if len(_selections) >= _MAX_SELECTIONS:
        _selections.clear()
    _selections[key] = (config, registered, selected)
    return selected


def _set_aside(
    source: bytes, tree: Tree, base: tuple[bytes, Tree] | None
) -> tuple[broken.SetAside, Tree] | None:
    """The set-aside form of a broken file and its tree, if that form parses (see ``analyzers.broken``)."""
    aside = broken.set_aside(source, tree)
    if aside is None:
        return None
    parsed = _parse_from(aside.source, base)
    return None if broken.needs_setting_aside(parsed, aside.source) else (aside, parsed)


def _parse_from(source: bytes, base: tuple[bytes, Tree] | None) -> Tree:
    """Parse ``source``, incrementally from an error-free ``base`` when given.

    A result with errors is parsed again from scratch: error recovery after an
    incremental parse can differ from a fresh one.
    """
    parsed = reparse(*base, source) if base is not None else None
    return parsed or parse_elixir(source)


def _outside(aside: broken.SetAside, findings: list[Finding]) -> list[Finding]:
    """``findings`` outside the set-aside definitions, without fixes that would edit them."""
    kept: list[Finding] = []
    for finding in findings:
        if aside.covers(finding.start, finding.end):
            continue
        fixes = tuple(f for f in finding.fixes if not _edits_set_aside(aside, f))
        kept.append(finding if fixes == finding.fixes else replace(finding, fixes=fixes))
    return kept


def _edits_set_aside(aside: broken.SetAside, fix: Fix) -> bool:
    return any(e.path is None and aside.covers(e.start, e.end) for e in fix.edits)


def _run_rules(
    ctx: FileContext, rules: Sequence[Rule], failures: list[RuleFailure]
) -> list[Finding]:
    """Each rule on ``ctx``, isolated (a rule that raises is recorded in ``failures``)."""
    findings: list[Finding] = []
    config = ctx.config
    # Each family's shared "could this file concern us" answer, asked once per file.
    applies: dict[Callable[[FileContext], bool], bool] = {}
    # budget.check() inlined: asked before each of ~40 rules of every file.
    deadline = budget.current_deadline()
    index = 0
    while index < len(rules):
        rule = rules[index]
        index += 1
        if deadline is not None and time.monotonic() > deadline:
            raise budget.BudgetExceeded
        try:
            test = rule.applies
            if test is not None:
                answer = applies.get(test)
                if answer is None:
                    answer = applies[test] = test(ctx)
                if not answer:
                    # A family's rules are registered together: the run that shares the
                    # test is skipped in one step.
                    while index < len(rules) and rules[index].applies is test:
                        index += 1
                    continue
            found = list(rule.check(ctx))
        except (budget.BudgetExceeded, RecursionError):
            raise
        except Exception as exc:
            log.warning("rule %s failed on %s: %s", rule.code, ctx.path, exc)
            failures.append(
                RuleFailure(
                    rule.code, ctx.path, f"{type(exc).__name__}: {exc}", traceback.format_exc()
                )
            )
            continue
        # Most rules find nothing in most files, and most findings already carry the
        # file's path and their configured severity: copy only those that don't.
        for finding in found:
            severity = config.severity_for(finding.code, finding.severity)
            if severity is not finding.severity or finding.path != ctx.path:
                finding = replace(finding, severity=severity, path=ctx.path)
            findings.append(finding)
    return findings


def _comment_spans(ctx: FileContext) -> list[tuple[int, int]]:
    """Comment spans where directives may be: Elixir comments, and HEEx comments in templates."""
    if ctx.language == HEEX:
        return suppressions.comment_spans_heex(ctx.source)
    spans = [(n.start_byte, n.end_byte) for n in comment_nodes(ctx.tree)]
    if b"~H" in ctx.source and (b"<%!--" in ctx.source or b"<!--" in ctx.source):
        for template in heex.templates(ctx):
            spans.extend(template.comments)
    return sorted(spans)


@functools.cache
def _comment_query() -> Query:
    return Query(elixir_language(), "(comment) @comment")


def comment_nodes(tree: Tree) -> list[Node]:
    """Every comment of an Elixir tree (one query in C, not a Python walk)."""
    captures = QueryCursor(_comment_query()).captures(tree.root_node)
    return sorted(captures.get("comment", []), key=lambda n: n.start_byte)


def _dedupe_sorted(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, f.end, f.code)):
        key = (f.code, f.start, f.end)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
