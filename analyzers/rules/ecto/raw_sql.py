"""EC003 raw-sql-interpolation: SQL text built from values instead of bound parameters.

Flags ``Repo.query[!]``/``query_many[!]`` and ``Ecto.Adapters.SQL.query[!]``
whose SQL argument (inline or one variable binding away) interpolates or
concatenates a runtime value. Not flagged: interpolated module attributes,
variables bound in the same function to constants (literals, ``if`` choosing
between literals, ``Application`` config, ``Schema.__schema__(:source)``), and
utility statements that cannot take parameters at all (``SET``, ``REFRESH
MATERIALIZED VIEW``, DDL, ``LOCK``, ``VACUUM``, ``NOTIFY``...), whose
interpolated parts are identifiers or settings chosen by the code. When the
call already passes parameters, the SQL is being assembled from fragments
(``WHERE #{Enum.join(conditions, " AND ")}`` with ``$n`` inside): only an
interpolation in a value position (``= '#{name}'``, ``LIMIT #{n}``) is flagged. The fix turns each interpolation into ``$n`` and passes
the values as parameters when every interpolated value is a plain variable
or field in a value position (after ``=``, ``<``, ``LIKE``, ``LIMIT``...,
optionally in single quotes), the SQL is written inline and the call has no
parameters or options yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.ecto.calls import QUERIES, SQL_ADAPTER, repo_calls_of, resolve

META = RuleMeta(
    code="EC003",
    slug="raw-sql-interpolation",
    title="SQL built by interpolation (SQL injection)",
    severity=Severity.ERROR,
    rationale=(
        "A value interpolated into SQL text becomes SQL: a quote in a user's input ends the "
        "string and the rest runs as a statement, reading or deleting data. Bound parameters "
        "($1, $2) are sent separately from the SQL and can never change its meaning."
    ),
    safe_pattern=(
        "def posts_by_author(author_id) do\n"
        '  Repo.query!("SELECT id, title FROM posts WHERE author_id = $1", [author_id])\n'
        "end\n"
    ),
    fix_title="Use $n parameters",
)

# SQL tokens after which a bound parameter can stand for a value.
VALUE_CONTEXT = re.compile(
    r"(=|<>|!=|<|>|<=|>=|\blike|\bilike|\blimit|\boffset|\bis distinct from)\s*'?$",
    re.IGNORECASE,
)


@register(META, scope="definition")
def check(ctx: FileContext) -> Iterable[Finding]:
    """EC003: interpolated or concatenated SQL given to a query function."""
    # SQL built at run time is written with `#{` or `<>`: most files have neither, and then
    # need no call index.
    if not ctx.contains(b"#{") and not ctx.contains(b"<>"):
        return
    if not _calls_query(ctx):
        return
    for call, sql in _sql_arguments(ctx):
        written = sql
        if sql.type == "identifier":
            bound = syntax.bound_value(sql)
            if bound is None:
                continue
            written = bound
        if not _is_built(written):
            continue
        if _passes_parameters(call, sql) and not _value_interpolation(written):
            continue
        fixes = [fix] if written is sql and (fix := _parameter_fix(call, sql)) else []
        yield ctx.finding(
            META,
            sql,
            f"`{syntax.call_name(call)}` runs SQL built from runtime values; pass them as "
            "`$n` parameters instead",
            fixes,
        )


def _calls_query(ctx: FileContext) -> bool:
    """Whether any call is named like a query function (every SQL argument is given to one).

    Asked of the call index, not the text: ``query`` is a common variable name. Every
    such name spells ``query``, so a file without the word needs no index.
    """
    return ctx.contains(b"query") and ctx.calls_any(QUERIES)


def _sql_arguments(ctx: FileContext) -> Iterable[tuple[Node, Node]]:
    for found in repo_calls_of(ctx, QUERIES):
        args = syntax.positional_args(found.node)
        if args:
            yield found.node, args[0]
    if not ctx.contains(SQL_ADAPTER.encode()) and not ctx.contains(b"SQL."):
        return
    for call in ctx.nodes("call"):
        resolved = resolve(ctx, call)
        if resolved is not None and resolved[0] == SQL_ADAPTER and resolved[1] in QUERIES:
            args = syntax.positional_args(call)
            if len(args) >= 2:
                yield call, args[1]


UTILITY_STATEMENTS = frozenset(
    {
        "set", "reset", "refresh", "create", "drop", "alter", "lock", "vacuum", "analyze",
        "notify", "listen", "unlisten", "truncate", "comment", "grant", "revoke", "cluster",
        "reindex", "discard", "savepoint", "release", "show",
    }
)  # fmt: skip


def _is_utility(node: Node) -> bool:
    """SQL whose first word makes it a statement that cannot take bound parameters."""
    first = next((c for c in node.named_children if c.type == "quoted_content"), None)
    if first is None or first.start_byte != _content_start(node):
        return False
    words = syntax.text(first).split()
    return bool(words) and words[0].lower() in UTILITY_STATEMENTS


def _content_start(node: Node) -> int:
    """Start of a string's or sigil's contents (after its opening delimiter)."""
    for child in node.children:
        if child.type in {"quoted_content", "interpolation", "escape_sequence"}:
            return child.start_byte
    return node.end_byte


def _is_built(node: Node) -> bool:
    """A string/sigil with a runtime interpolation, or a ``<>`` concatenation with a non-literal."""
    if node.type in {"string", "sigil"}:
        return not _is_utility(node) and any(_is_runtime(i) for i in _interpolations(node))
    if node.type == "binary_operator" and syntax.operator(node) == "<>":
        parts = [node.child_by_field_name("left"), node.child_by_field_name("right")]
        return any(p is not None and (_is_built(p) or _is_value(p)) for p in parts)
    return False


def _passes_parameters(call: Node, sql: Node) -> bool:
    """A parameters argument after the SQL that is not the literal ``[]``."""
    args = syntax.positional_args(call)
    after = [a for a in args if a.start_byte > sql.end_byte]
    return bool(after) and not (after[0].type == "list" and not after[0].named_children)


def _value_interpolation(node: Node) -> bool:
    """A runtime interpolation right after ``=``, ``LIKE``, ``LIMIT``... (a value, not SQL)."""
    if node.type == "binary_operator":
        return any(
            _value_interpolation(p)
            for p in (node.child_by_field_name("left"), node.child_by_field_name("right"))
            if p is not None
        )
    if node.type not in {"string", "sigil"}:
        return False
    before = ""
    for child in node.children:
        if child.type == "interpolation":
            if _is_runtime(child) and VALUE_CONTEXT.search(before):
                return True
            before = ""
        elif child.type in {"quoted_content", "escape_sequence"}:
            before += syntax.text(child)
    return False


def _is_value(node: Node) -> bool:
    if node.type in {"string", "sigil"}:
        return False
    if node.type == "binary_operator" and syntax.operator(node) == "<>":
        return _is_built(node)
    return not (node.type == "unary_operator" and syntax.operator(node) == "@")


def _interpolations(node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type == "interpolation"]


def _is_runtime(interpolation: Node) -> bool:
    inner = [c for c in interpolation.named_children if c.type != "comment"]
    return not all(_is_constant(c) for c in inner)


def _is_constant(node: Node, depth: int = 0) -> bool:
    """A value the code chooses itself (never user input), as far as one function shows."""
    if node.type in {"integer", "float", "atom", "boolean", "nil"}:
        return True
    if node.type in {"string", "sigil"}:
        return not any(_is_runtime(i) for i in _interpolations(node))
    if node.type == "unary_operator" and syntax.operator(node) == "@":
        return True
    if node.type == "identifier" and depth < 2:
        bound = syntax.bound_value(node)
        return bound is not None and _is_constant(bound, depth + 1)
    if node.type == "call":
        name = syntax.call_name(node) or ""
        if name.startswith("Application.") or name.endswith(".__schema__"):
            return True
        if name in {"if", "unless"}:
            body = syntax.body_nodes(node)
            values = [*body[-1:], *_else_values(node)]
            return bool(body) and all(_is_constant(v, depth) for v in values)
    return False


def _else_values(node: Node) -> list[Node]:
    else_value = syntax.option(node, "else")
    if else_value is not None:
        return [else_value]
    block = syntax.do_block(node)
    for child in block.named_children if block is not None else []:
        if child.type == "else_block":
            return [c for c in child.named_children if c.type != "comment"][-1:]
    return []


def _parameter_fix(call: Node, sql: Node) -> Fix | None:
    if sql.type != "string" or syntax.options_node(call) is not None:
        return None
    args = syntax.call_args(call)
    if not args or args[-1] != sql:
        return None  # already has parameters (or SQL is piped in)
    parts: list[str | Node] = [
        c if c.type == "interpolation" else syntax.text(c)
        for c in sql.children
        if c.type not in {'"', '"""'}
    ]
    pieces: list[str] = []
    params: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, str):
            pieces.append(part)
            continue
        inner = [c for c in part.named_children if c.type != "comment"]
        if len(inner) != 1 or not _is_plain_value(inner[0]):
            return None
        before = "".join(pieces)
        following = parts[index + 1] if index + 1 < len(parts) else ""
        after = following if isinstance(following, str) else ""
        quoted = before.endswith("'")
        if not VALUE_CONTEXT.search(before) or quoted != after.startswith("'"):
            return None
        if quoted:
            # '#{name}' becomes $n: the quotes go with the interpolation.
            pieces[-1] = pieces[-1][:-1]
            parts[index + 1] = after[1:]
        pieces.append(f"${len(params) + 1}")
        params.append(syntax.text(inner[0]))
    quote = '"""' if syntax.text(sql).startswith('"""') else '"'
    new_sql = f"{quote}{''.join(pieces)}{quote}"
    return Fix(
        META.fix_title or "",
        (Edit(sql.start_byte, sql.end_byte, f"{new_sql}, [{', '.join(params)}]"),),
    )


def _is_plain_value(node: Node) -> bool:
    if node.type == "identifier":
        return True
    if node.type == "call" and syntax.call_target(node) is not None and not syntax.call_args(node):
        target = syntax.call_target(node)
        return target is not None and target.type == "dot" and syntax.arguments_node(node) is None
    return False
