"""EC002 multi-write-without-transaction: two or more writes that can leave partial state.

A function (``def``/``defp`` clause) is flagged when at least two repo write
call sites (``insert``, ``update!``, ``delete_all``...) can run one after the
other outside ``Repo.transaction``/``Repo.transact``/``Ecto.Multi``. Writes in
different branches of one ``case``/``cond``/``if``/``with ... else``/``fn``
are alternatives, not a run; so are a ``do`` block and its ``rescue``/``catch``
(the handler writes after the failed write did not commit). A private helper called (or captured) inside a
transaction in the same module counts as transactional; callers in other
modules are not followed. One write call site inside a loop is not counted
twice (bulk imports are a different concern). A write under an ``if``/``unless``
whose condition reads the repo (``unless Repo.get(Org, 1) do Repo.insert!(...)``)
is an idempotent "create if missing" step and is not counted: running the
function again completes it. Scripts, tests, test support and mix tasks
(``.exs``, ``test/``, ``Mix.Tasks.*``) are not checked: a one-off task that
stops half-way is re-run, and is often written to be.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from tree_sitter import Node

from analyzers import summaries, syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.ecto.calls import (
    WRITES,
    RepoCall,
    in_transaction,
    repo_calls,
    repo_calls_of,
    transaction_helpers,
)
from analyzers.rules.ecto.multi_fix import transaction_fixes
from analyzers.rules.ecto.scopes import enclosing_def, module_name_at

# Blocks that run instead of (not after) the ``do`` block's remaining code.
ALTERNATIVE_BLOCKS = frozenset({"else_block", "rescue_block", "catch_block"})

META = RuleMeta(
    code="EC002",
    slug="multi-write-without-transaction",
    title="Several writes outside a transaction",
    severity=Severity.WARNING,
    rationale=(
        "Each Repo write commits on its own: when the second write fails (a constraint, a "
        "timeout, a deploy killing the process) the first stays in the database and the data "
        "is left half-changed. An Ecto.Multi or Repo.transaction commits all the writes or "
        "none of them."
    ),
    safe_pattern=(
        "def merge_posts(source, into) do\n"
        "  comments = where(Comment, post_id: ^source.id)\n"
        "\n"
        "  Ecto.Multi.new()\n"
        "  |> Ecto.Multi.update_all(:move_comments, comments, set: [post_id: into.id])\n"
        "  |> Ecto.Multi.delete(:source, source)\n"
        "  |> Repo.transaction()\n"
        "end\n"
    ),
    fix_title="Wrap the writes in an Ecto.Multi",
)


@register(META, scope="definition")
def check(ctx: FileContext) -> Iterable[Finding]:
    """EC002: functions with a run of two or more repo writes outside a transaction."""
    if ctx.path.endswith(".exs") or is_test_path(ctx.path):
        return
    if summaries.kept(ctx):
        # Gathered even without writes here: a re-check of one definition reuses the
        # others' contributions, and this one may call them in a transaction.
        transaction_helpers(ctx)
    if not ctx.contains(b"Repo"):
        return
    by_def: dict[int, tuple[Node, list[RepoCall]]] = {}
    for found in repo_calls_of(ctx, WRITES):
        if in_transaction(ctx, found.node):
            continue
        if _ensure_step(ctx, found.node):
            continue
        definition = enclosing_def(ctx, found.node)
        if definition is None or in_mix_task(definition, ctx):
            continue
        by_def.setdefault(definition.start_byte, (definition, []))[1].append(found)
    for definition, writes in by_def.values():
        if len(writes) < 2 or not _has_run(writes):
            continue
        named = syntax.def_name(definition)
        head = syntax.call_args(definition)[0]
        name = f"{named[1]}/{syntax.def_arity(definition)}" if named else "this function"
        calls = ", ".join(f"`{syntax.call_name(w.node)}`" for w in writes[:4])
        yield ctx.finding(
            META,
            head,
            f"`{name}` makes {len(writes)} writes ({calls}) outside a transaction; if a later "
            "one fails the earlier ones stay committed",
            transaction_fixes(ctx, definition, writes),
        )


def is_test_path(path: str) -> bool:
    """Files under a ``test/`` directory (test support modules included)."""
    normal = "/" + path.replace("\\", "/")
    return "/test/" in normal


def in_mix_task(node: Node, ctx: FileContext | None = None) -> bool:
    """``node`` is in a ``Mix.Tasks.*`` module (found by byte range when ``ctx`` is given)."""
    if ctx is not None:
        name = module_name_at(ctx, node)
    else:
        module = syntax.enclosing_module(node)
        name = syntax.module_name(module) if module is not None else None
    return name is not None and name.startswith("Mix.Tasks.")


def _ensure_step(ctx: FileContext, node: Node) -> bool:
    """The write runs only when a repo read said the row is missing.

    ``unless Repo.get(...) do Repo.insert!(...)``, or the one write of the
    ``nil ->`` clause of ``case Repo.get_by(...) do``: create-if-missing,
    completed by running again.
    """
    # Such a write has an ``if``/``unless``/``case`` reading the repo around it: without one
    # (most writes) the parents need not be climbed.
    decided, guard = ctx.memo("ecto.ensure_guards", lambda: _ensure_guards(ctx)).around(node)
    if decided and guard is None:
        return False
    return _ensure_step_climbing(ctx, node)


def _ensure_step_climbing(ctx: FileContext, node: Node) -> bool:
    """:func:`_ensure_step` without the shortcut: the parents up to the definition."""
    for parent in syntax.ancestors(node):
        if syntax.def_name(parent) is not None:
            return False
        if parent.type == "call" and syntax.call_name(parent) in {"if", "unless"}:
            if _condition_reads(ctx, parent, node):
                return True
        elif parent.type == "stab_clause" and _nil_clause(parent) and _writes_in(ctx, parent) == 1:
            block = parent.parent
            case = block.parent if block is not None else None
            if (
                case is not None
                and syntax.call_name(case) == "case"
                and _condition_reads(ctx, case, node)
            ):
                return True
    return False


def _ensure_guards(ctx: FileContext) -> syntax.Enclosing:
    """``if``/``unless``/``case`` calls (any receiver) whose first argument holds a repo read.

    Every call :func:`_ensure_step` can accept is one of them (a superset: the
    exact test still runs on what they enclose).
    """
    read_starts = [c.node.start_byte for c in repo_calls(ctx) if c.is_read]
    guards: list[Node] = []
    for call in ctx.calls_named(("if", "unless", "case")):
        args = syntax.call_args(call)
        if not args:
            continue
        # A read starting inside the condition, as _condition_reads counts them.
        first = bisect.bisect_left(read_starts, args[0].start_byte)
        if first < len(read_starts) and read_starts[first] < args[0].end_byte:
            guards.append(call)
    return syntax.Enclosing(guards)


def _writes_in(ctx: FileContext, node: Node) -> int:
    return sum(
        1
        for c in repo_calls(ctx)
        if c.is_write and node.start_byte <= c.node.start_byte < node.end_byte
    )


def _nil_clause(clause: Node) -> bool:
    patterns = clause.named_children[0] if clause.named_children else None
    return patterns is not None and patterns.type == "arguments" and syntax.text(patterns) == "nil"


def _condition_reads(ctx: FileContext, call: Node, node: Node) -> bool:
    """``call``'s first argument (its condition or subject) reads the repo; ``node`` is not in it."""
    args = syntax.call_args(call)
    condition = args[0] if args else None
    if condition is None or condition.start_byte <= node.start_byte < condition.end_byte:
        return False
    reads = [c.node for c in repo_calls(ctx) if c.is_read]
    return any(condition.start_byte <= r.start_byte < condition.end_byte for r in reads)


def _has_run(writes: list[RepoCall]) -> bool:
    """Two of the writes can both run on one path through the function."""
    paths = [dict(_branches(w.node)) for w in writes]
    for i, first in enumerate(paths):
        for second in paths[i + 1 :]:
            if all(first[k] == second[k] for k in first.keys() & second.keys()):
                return True
    return False


def _branches(node: Node) -> Iterator[tuple[int, int]]:
    """(branching construct, which branch) for each alternative ``node`` sits in."""
    child = node
    for parent in syntax.ancestors(node):
        if syntax.def_name(parent) is not None:
            return
        if parent.type == "stab_clause" and parent.parent is not None:
            yield parent.parent.start_byte, parent.start_byte
        elif parent.type in ALTERNATIVE_BLOCKS and parent.parent is not None:
            # tree-sitter nests ``else``/``rescue`` inside the ``do`` block of its call.
            call = parent.parent.parent if parent.parent.type == "do_block" else parent.parent
            if call is not None:
                yield -call.start_byte - 1, 1
        elif (
            parent.type == "do_block"
            and child.type not in ALTERNATIVE_BLOCKS
            and parent.parent is not None
        ):
            yield -parent.parent.start_byte - 1, 0
        elif parent.type == "arguments" and parent.parent is not None:
            call = parent.parent
            if syntax.call_name(call) == "with":
                # A failed ``with`` clause is what runs ``else``: they are alternatives.
                yield -call.start_byte - 1, 0
        elif parent.type == "pair" and parent.parent is not None:
            key = parent.child_by_field_name("key")
            name = syntax.keyword_name(key) if key is not None else ""
            arguments = parent.parent.parent
            call = arguments.parent if arguments is not None else None
            if call is not None and call.type == "call" and name in {"do", "else"}:
                yield -call.start_byte - 1, 0 if name == "do" else 1
        child = parent
