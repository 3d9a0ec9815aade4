"""EC002 quick-fixes: rewrite a run of writes as an ``Ecto.Multi``, or wrap it in a transaction.

The writes' statements (from the first write to the end of the function) are
rewritten; statements before them stay as they are.

**Ecto.Multi** when every statement of that run is a write
(``{:ok, user} = Repo.insert(cs)``, ``user = Repo.insert!(cs)``, a bare
``Repo.delete(post)``, a pipeline ending in a write) or a binding without
repo calls, or when the run is one ``with`` (no ``else``) whose clauses are
such writes and bindings. Each write becomes a step named after the variable
it binds (else after the write and its target: ``:delete_source``). A step
whose arguments use an earlier step's result takes them from the changes map
(``fn %{user: user} -> ... end``; ``Multi.run`` for the ``*_all`` writes); a
binding that uses one becomes a ``Multi.run`` step, other bindings move
before the Multi. Callers get what they got before:

* a ``with``: the ``do`` body on success, ``{:error, value}`` otherwise;
* a last write returning ``{:ok, record}``/``{:error, changeset}``: the same;
* otherwise (bang writes, ``{:ok, x} =`` matches) the transaction's result is
  matched with ``{:ok, changes} =``, so a failed write still raises, and the
  remaining statements run unchanged.

**Repo.transaction** otherwise (writes in branches or loops, other side
effects between writes): the run goes into ``Repo.transaction(fn -> ... end)``.
When the function returns ``{:ok, _}``/``{:error, _}`` an error result rolls
back and is returned as before; else the value is unwrapped from ``{:ok, _}``
(a raise inside rolls back and propagates as before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.fixes import line_ending
from analyzers.model import Edit, Fix
from analyzers.rules.ecto.calls import WRITES, RepoCall, aliases_for, repo_call

CHANGESET_WRITES = frozenset(
    {"insert", "insert!", "update", "update!", "delete", "delete!", "insert_or_update",
     "insert_or_update!"}
)  # fmt: skip
MULTI_TITLE = "Wrap the writes in an Ecto.Multi"
TRANSACTION_TITLE = "Wrap the writes in Repo.transaction"


@dataclass
class Step:
    """One statement of the run, as the Multi will express it."""

    statement: Node
    kind: str  # "write" or "bind"
    name: str = ""
    variable: str | None = None  # variable the original binds
    matched_ok: bool = False  # ``{:ok, v} = write`` (a tuple result, raising on mismatch)
    write: RepoCall | None = None
    value: Node | None = None  # for bindings


@dataclass
class Plan:
    """What the printed fix needs: the source, layout, module names, and the steps so far."""

    ctx: FileContext
    indent: str
    nl: str
    repo: str
    multi: str
    step_vars: dict[str, str] = field(default_factory=dict)  # variable -> step name
    names: set[str] = field(default_factory=set)


def transaction_fixes(ctx: FileContext, definition: Node, writes: list[RepoCall]) -> list[Fix]:
    """The Multi rewrite (when the shape allows) and the transaction wrap, best first."""
    statements = syntax.block_statements(syntax.do_block(definition))
    first = _top_statement_index(statements, writes[0].node) if statements else None
    if first is None:
        return []
    run = statements[first:]
    indent = syntax.indentation_at(ctx.source, run[0].start_byte)
    if ctx.source[syntax.line_start(ctx.source, run[0].start_byte) : run[0].start_byte].strip():
        return []  # the run does not start its own line
    repo = syntax.call_receiver(writes[0].node) or "Repo"

    def plan() -> Plan:
        return Plan(ctx, indent, line_ending(ctx.source), repo, _multi_name(ctx, definition))

    fixes: list[Fix] = []
    # The rewrite introduces these variables; never shadow the function's own.
    multi_lines = None if _uses(definition, {"multi"}) else _multi_rewrite(plan(), run)
    if multi_lines is not None:
        fixes.append(Fix(MULTI_TITLE, (_replace(plan(), run, multi_lines),)))
    if _uses(definition, {"result"}):
        return fixes
    wrap_lines = _transaction_wrap(plan(), run)
    fixes.append(Fix(TRANSACTION_TITLE, (_replace(plan(), run, wrap_lines),), preferred=not fixes))
    return fixes


def _replace(plan: Plan, run: list[Node], lines: list[str]) -> Edit:
    """Replace the run with ``lines`` (relative to the run's indentation)."""
    text = lines[0] + "".join(plan.nl + (plan.indent + line if line else "") for line in lines[1:])
    return Edit(run[0].start_byte, run[-1].end_byte, text)


def _top_statement_index(statements: list[Node], node: Node) -> int | None:
    for index, statement in enumerate(statements):
        if statement.start_byte <= node.start_byte and node.end_byte <= statement.end_byte:
            return index
    return None


def _multi_name(ctx: FileContext, node: Node) -> str:
    aliases = aliases_for(ctx, node)
    if aliases is not None and aliases.names.get("Multi") == "Ecto.Multi":
        return "Multi"
    return "Ecto.Multi"


# --- reading the run -------------------------------------------------------------


def _write_of(ctx: FileContext, expression: Node | None) -> RepoCall | None:
    """The repo write an expression is: ``Repo.insert(cs)`` or ``cs |> Repo.insert()``."""
    if expression is None:
        return None
    node = expression
    if node.type == "binary_operator" and syntax.operator(node) == "|>":
        node = node.child_by_field_name("right") or node
    found = repo_call(ctx, node) if node.type == "call" else None
    return found if found is not None and found.function in WRITES else None


def _has_repo_call(ctx: FileContext, node: Node) -> bool:
    return any(repo_call(ctx, n) is not None for n in syntax.walk(node) if n.type == "call")


def _ok_variable(pattern: Node) -> str | None:
    """``user`` for the pattern ``{:ok, user}``."""
    if pattern.type != "tuple":
        return None
    items = [c for c in pattern.named_children if c.type != "comment"]
    if len(items) == 2 and syntax.atom_value(items[0]) == "ok" and items[1].type == "identifier":
        return syntax.text(items[1])
    return None


def _read_step(plan: Plan, statement: Node, *, arrow: bool = False) -> Step | None:
    """A statement (or ``with`` clause, ``arrow`` for ``<-``) as a step; None when it cannot be."""
    ctx = plan.ctx
    if statement.type == "binary_operator" and syntax.operator(statement) in {"=", "<-"}:
        is_arrow = syntax.operator(statement) == "<-"
        left = statement.child_by_field_name("left")
        right = statement.child_by_field_name("right")
        if left is None or right is None:
            return None
        write = _write_of(ctx, right)
        if write is not None and write.node in _inner_calls(right):
            ok_var = _ok_variable(left)
            if ok_var is not None and not write.function.endswith("!"):
                return Step(statement, "write", variable=ok_var, matched_ok=True, write=write)
            if left.type == "identifier" and write.function.endswith("!") and not is_arrow:
                return Step(statement, "write", variable=syntax.text(left), write=write)
            return None
        if is_arrow or left.type != "identifier" or _has_repo_call(ctx, right):
            return None
        return Step(statement, "bind", variable=syntax.text(left), value=right)
    if arrow:
        return None
    write = _write_of(ctx, statement)
    if write is not None:
        return Step(statement, "write", write=write)
    return None


def _inner_calls(node: Node) -> list[Node]:
    """The call an expression ends with: itself, or the right end of its pipeline."""
    if node.type == "binary_operator" and syntax.operator(node) == "|>":
        right = node.child_by_field_name("right")
        return [right] if right is not None else []
    return [node]


def _write_args(write: RepoCall) -> list[Node]:
    return syntax.effective_args(write.node)


# --- the Multi rewrite ------------------------------------------------------------


def _multi_rewrite(plan: Plan, run: list[Node]) -> list[str] | None:
    """Lines of the Multi version of the run, or None when the run has another shape."""
    last = run[-1]
    if len(run) == 1 and last.type == "call" and syntax.call_name(last) == "with":
        return _multi_with(plan, last)
    steps: list[Step] = []
    for statement in run:
        step = _read_step(plan, statement)
        if step is None:
            if steps and not _has_repo_call(plan.ctx, statement):
                break  # this and the rest run after the transaction
            return None
        steps.append(step)
    rest = run[len(steps) :]
    if sum(1 for s in steps if s.kind == "write") < 2:
        return None
    if any(_has_repo_call(plan.ctx, s) for s in rest):
        return None
    head = _pipeline(plan, steps)
    if head is None:
        return None
    final = steps[-1]
    if not rest and final.kind == "write" and final.variable is None:
        assert final.write is not None
        if not final.write.function.endswith("!"):
            # The function returned this write's {:ok, record} / {:error, changeset}.
            pattern = f"%{{{final.name}: {final.name}}}"
            return [*head, *_result_case(plan, pattern, [f"{{:ok, {final.name}}}"])]
    needed = [v for v in plan.step_vars if any(_uses(s, {v}) for s in rest)]
    result: str | None = None
    if not rest:
        variable = final.variable
        if final.kind == "bind" and not final.name:
            result = variable  # moved before the Multi: already in scope
        else:
            if variable is None or variable.startswith("_"):
                variable = final.name
                plan.step_vars[variable] = final.name
            needed.append(variable)
            result = f"{{:ok, {variable}}}" if final.matched_ok else variable
    pattern = _changes_pattern(plan, list(dict.fromkeys(needed))) if needed else "_changes"
    lines = [*head, f"{{:ok, {pattern}}} = {plan.repo}.transaction(multi)", ""]
    if rest:
        return [*lines, *_lines_of(plan, rest[0], rest[-1])]
    assert result is not None
    return [*lines, result]


def _multi_with(plan: Plan, with_call: Node) -> list[str] | None:
    """A ``with`` (no ``else``) whose clauses are writes and bindings, as a Multi."""
    block = syntax.do_block(with_call)
    if block is None or any(c.type == "else_block" for c in block.named_children):
        return None
    steps: list[Step] = []
    for clause in syntax.call_args(with_call):
        if clause.type == "keywords":
            return None
        step = _read_step(plan, clause, arrow=syntax.operator(clause) == "<-")
        if step is None:
            return None
        steps.append(step)
    body = syntax.block_statements(block)
    if sum(1 for s in steps if s.kind == "write") < 2 or not body:
        return None
    if any(_has_repo_call(plan.ctx, s) for s in body):
        return None
    head = _pipeline(plan, steps)
    if head is None:
        return None
    needed = [v for v in plan.step_vars if any(_uses(s, {v}) for s in body)]
    pattern = _changes_pattern(plan, needed) if needed else "_changes"
    return [*head, *_result_case(plan, pattern, _lines_of(plan, body[0], body[-1]))]


def _pipeline(plan: Plan, steps: list[Step]) -> list[str] | None:
    """Moved bindings, then ``multi = Multi.new() |> ...`` and a blank line."""
    hoisted: list[str] = []
    pipe = [f"{plan.multi}.new()"]
    for step in steps:
        if step.kind == "bind":
            assert step.value is not None and step.variable is not None
            deps = _dependencies(plan, step.value)
            if not deps:
                hoisted += _lines_of(plan, step.statement, step.statement)
                continue
            step.name = _unique(plan, step.variable)
            pipe += _closure(
                f"|> {plan.multi}.run(:{step.name}, fn _repo, {_changes_pattern(plan, deps)} ->",
                _wrap_ok(_lines_of(plan, step.value, step.value)),
                "end)",
            )
            plan.step_vars[step.variable] = step.name
            continue
        write = step.write
        assert write is not None
        args = _write_args(write)
        if not args:
            return None
        step.name = _unique(plan, (step.variable or "").lstrip("_") or _derived_name(write))
        function = write.function.rstrip("!")
        deps = [v for v in plan.step_vars if any(_uses(a, {v}) for a in args)]
        if not deps:
            pipe += _call_lines(plan, f"|> {plan.multi}.{function}", [f":{step.name}"], args)
        elif function in CHANGESET_WRITES:
            more = [_lines_of(plan, a, a) for a in args[1:]]
            if any(len(lines) > 1 for lines in more):
                return None
            pipe += _closure(
                f"|> {plan.multi}.{function}(:{step.name}, fn {_changes_pattern(plan, deps)} ->",
                _lines_of(plan, args[0], args[0]),
                "end" + "".join(f", {lines[0]}" for lines in more) + ")",
            )
        else:
            if syntax.pipe_source(write.node) is not None:
                return None
            pipe += _closure(
                f"|> {plan.multi}.run(:{step.name}, fn _repo, {_changes_pattern(plan, deps)} ->",
                _wrap_ok(_lines_of(plan, write.node, write.node)),
                "end)",
            )
        if step.variable is not None and not step.variable.startswith("_"):
            plan.step_vars[step.variable] = step.name
    return [*hoisted, "multi =", *("  " + line if line else "" for line in pipe), ""]


def _closure(opening: str, body: list[str], closing: str) -> list[str]:
    return [opening, *("  " + line if line else "" for line in body), closing]


def _wrap_ok(lines: list[str]) -> list[str]:
    if len(lines) == 1:
        return [f"{{:ok, {lines[0]}}}"]
    return ["result =", *("  " + line if line else "" for line in lines), "", "{:ok, result}"]


def _call_lines(plan: Plan, callee: str, leading: list[str], args: list[Node]) -> list[str]:
    """``callee(a, b)`` on one line, or one argument per line when one spans lines."""
    written = [[text] for text in leading] + [_lines_of(plan, a, a) for a in args]
    if all(len(lines) == 1 for lines in written):
        return [f"{callee}({', '.join(lines[0] for lines in written)})"]
    out = [f"{callee}("]
    for index, lines in enumerate(written):
        comma = "," if index < len(written) - 1 else ""
        out += ["  " + line if line else "" for line in lines[:-1]]
        out.append(f"  {lines[-1]}{comma}")
    return [*out, ")"]


def _derived_name(write: RepoCall) -> str:
    """``delete_source``, ``update_all_comment``, ``delete_all_memberships``: verb and target."""
    function = write.function.rstrip("!")
    args = _write_args(write)
    target = _target_name(args[0]) if args else None
    return f"{function}_{target}" if target else function


def _target_name(node: Node) -> str | None:
    if node.type == "binary_operator" and syntax.operator(node) == "|>":
        left = node.child_by_field_name("left")
        return _target_name(left) if left is not None else None
    if node.type == "identifier":
        return syntax.text(node).lstrip("_") or None
    if node.type == "call":
        args = syntax.effective_args(node)
        if syntax.call_function(node) == "assoc" and len(args) >= 2:
            return syntax.atom_value(args[1])
        # ``Account.debit(from, amount)`` writes ``from``; ``User.changeset(%User{}, ...)`` a user.
        if args and (found := _target_name(args[0])) is not None:
            return found
    for inner in syntax.walk(node):
        if inner.type != "alias":
            continue
        parent = inner.parent
        if parent is not None and parent.type == "dot":
            continue  # ``Ecto.assoc``, ``Team.changeset``: a module called, not a target
        return _underscore(syntax.text(inner).rsplit(".", 1)[-1])
    return None


def _underscore(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _unique(plan: Plan, name: str) -> str:
    candidate, n = name, 2
    while candidate in plan.names:
        candidate, n = f"{name}_{n}", n + 1
    plan.names.add(candidate)
    return candidate


def _dependencies(plan: Plan, node: Node) -> list[str]:
    """Earlier step variables ``node`` reads, in step order."""
    return [v for v in plan.step_vars if _uses(node, {v})]


def _uses(node: Node, names: set[str]) -> bool:
    """``node`` reads one of the variables ``names`` (fields and function names excluded)."""
    for inner in syntax.walk(node):
        if inner.type != "identifier" or syntax.text(inner) not in names:
            continue
        parent = inner.parent
        if (
            parent is not None
            and parent.type == "dot"
            and parent.child_by_field_name("right") == inner
        ):
            continue
        if parent is not None and parent.type == "call" and syntax.call_target(parent) == inner:
            continue
        return True
    return False


def _changes_pattern(plan: Plan, variables: list[str]) -> str:
    pairs = ", ".join(f"{plan.step_vars.get(v, v)}: {v}" for v in variables)
    return f"%{{{pairs}}}"


def _result_case(plan: Plan, pattern: str, success: list[str]) -> list[str]:
    return [
        f"case {plan.repo}.transaction(multi) do",
        f"  {{:ok, {pattern}}} ->",
        *("    " + line if line else "" for line in success),
        "",
        "  {:error, _step, error, _changes} ->",
        "    {:error, error}",
        "end",
    ]


# --- the transaction wrap ----------------------------------------------------------


def _transaction_wrap(plan: Plan, run: list[Node]) -> list[str]:
    """Lines of the run inside ``Repo.transaction(fn -> ... end)``, results kept as before."""
    last = run[-1]
    before = _lines_of(plan, run[0], run[-2]) if len(run) > 1 else []
    ok_value = _ok_tuple_value(last)
    if ok_value is not None:
        # The transaction wraps the value in {:ok, _} itself.
        return [
            f"{plan.repo}.transaction(fn ->",
            *("  " + line if line else "" for line in before),
            *("  " + line if line else "" for line in _lines_of(plan, ok_value, ok_value)),
            "end)",
        ]
    if _returns_result_tuple(plan, last):
        result = _lines_of(plan, last, last)
        binding = (
            [f"  result = {result[0]}"]
            if len(result) == 1
            else ["  result =", *("    " + line if line else "" for line in result)]
        )
        return [
            f"{plan.repo}.transaction(fn ->",
            *("  " + line if line else "" for line in before),
            *binding,
            "",
            "  case result do",
            "    {:ok, value} -> value",
            f"    {{:error, reason}} -> {plan.repo}.rollback(reason)",
            "  end",
            "end)",
        ]
    return [
        "{:ok, result} =",
        f"  {plan.repo}.transaction(fn ->",
        *("    " + line if line else "" for line in _lines_of(plan, run[0], last)),
        "  end)",
        "",
        "result",
    ]


def _ok_tuple_value(node: Node) -> Node | None:
    """``value`` for a literal ``{:ok, value}``."""
    if node.type != "tuple":
        return None
    items = [c for c in node.named_children if c.type != "comment"]
    return items[1] if len(items) == 2 and syntax.atom_value(items[0]) == "ok" else None


def _returns_result_tuple(plan: Plan, last: Node) -> bool:
    """The function's last statement evaluates to ``{:ok, _}``/``{:error, _}``."""
    write = _write_of(plan.ctx, last)
    if write is not None and write.node in _inner_calls(last):
        return not write.function.endswith("!") and write.function in CHANGESET_WRITES
    if last.type == "tuple":
        items = [c for c in last.named_children if c.type != "comment"]
        return bool(items) and syntax.atom_value(items[0]) in {"ok", "error"}
    if last.type == "call" and syntax.call_name(last) == "with":
        block = syntax.do_block(last)
        if block is None or any(c.type == "else_block" for c in block.named_children):
            return False
        body = syntax.block_statements(block)
        return bool(body) and _returns_result_tuple(plan, body[-1])
    return False


# --- text helpers ------------------------------------------------------------------


def _lines_of(plan: Plan, first: Node, last: Node) -> list[str]:
    """Source from ``first`` to ``last`` as lines relative to ``first``'s line indentation."""
    base = syntax.indentation_at(plan.ctx.source, first.start_byte)
    text = plan.ctx.text(first.start_byte, last.end_byte)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if not line.strip():
            out.append("")
        elif line.startswith(base):
            out.append(line[len(base) :])
        else:
            out.append(line.lstrip(" \t"))
    return out
