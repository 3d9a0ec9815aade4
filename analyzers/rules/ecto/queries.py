"""EC001 n-plus-one and EC004 unbounded-query: queries that run per element or without bound.

EC001 flags a repo read (``Repo.get!``, ``Repo.preload`` of one element...)
or a context ``get_*``/``list_*`` call (one the workspace shows reading through
a repo, itself or by delegation; by module name when a file stands alone) inside the per-element body of an
``Enum``/``Stream`` iteration or a ``for`` comprehension over a collection
that is not a literal. Queries inside a transaction are still flagged (a
transaction does not make N queries one). Scripts, tests and mix tasks
(``.exs``, files under ``test/``, ``Mix.Tasks.*``) are not checked: their query
counts do not reach users.

EC004 (info) flags ``Repo.all`` in a web module (under ``*_web/`` or named
``*Web.*``) over a query it can see whole (a schema, a ``from`` expression, a
pipeline of ``Ecto.Query`` calls) that has neither ``limit`` nor a bound given
by the caller (``where: p.id in ^ids``) nor a scope to one parent record
(``where: k.user_id == ^user.id``: one user's keys grow with that user, not
with the table). A query built elsewhere is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tree_sitter import Node

from analyzers import summaries, syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.ecto.calls import READS, is_repo_module, repo_calls_of, resolve
from analyzers.rules.ecto.facts import QUERY_FUNCTIONS
from analyzers.rules.ecto.iteration import (
    Iteration,
    innermost_iteration,
    iterations,
    may_be_in_iteration,
)
from analyzers.rules.ecto.scopes import definition_name, enclosing_def, module_name_at
from analyzers.rules.ecto.writes import in_mix_task, is_test_path

N_PLUS_ONE = RuleMeta(
    code="EC001",
    slug="n-plus-one",
    title="Query inside a loop runs once per element (N+1)",
    severity=Severity.WARNING,
    rationale=(
        "A query inside Enum.map or a for comprehension makes one database round trip per "
        "element: a page of 50 posts becomes 51 queries, and latency and pool checkouts grow "
        "with the data. Under load this exhausts the connection pool long before the database "
        "is busy."
    ),
    safe_pattern=(
        "def list_posts_with_comments do\n"
        "  Post\n"
        "  |> Repo.all()\n"
        "  |> Repo.preload(:comments)\n"
        "end\n"
        "\n"
        "def authors_by_id(posts) do\n"
        "  ids = Enum.map(posts, & &1.author_id)\n"
        "\n"
        "  from(u in User, where: u.id in ^ids)\n"
        "  |> Repo.all()\n"
        "  |> Map.new(&{&1.id, &1})\n"
        "end\n"
    ),
)

UNBOUNDED = RuleMeta(
    code="EC004",
    slug="unbounded-query",
    title="Repo.all without a limit in a web module",
    severity=Severity.INFO,
    rationale=(
        "A request that loads every row of a table is fast while the table is small and then "
        "slows down, and grows the process heap, with every row added. Pages in controllers "
        "and LiveViews should be paginated or limited."
    ),
    safe_pattern=(
        "def index(conn, params) do\n"
        '  page = String.to_integer(params["page"] || "1")\n'
        "\n"
        "  posts =\n"
        "    Repo.all(\n"
        "      from p in Post,\n"
        "        order_by: [desc: p.id],\n"
        "        limit: 50,\n"
        "        offset: ^((page - 1) * 50)\n"
        "    )\n"
        "\n"
        "  render(conn, :index, posts: posts)\n"
        "end\n"
    ),
)

# First segments of modules that are never the application's data layer.
NOT_APPLICATION = frozenset(
    {
        "Access", "Agent", "Application", "Atom", "Base", "Code", "Date", "DateTime", "Decimal",
        "Enum", "Keyword", "List", "Map", "MapSet", "Process", "Registry", "Stream", "String",
        "System", "Task", "Tuple", "URI", "Ecto", "Phoenix", "Plug", "Jason", "Logger", "Mix",
        "ExUnit", "Req", "Tesla", "Finch", "Oban", "Cachex", "ConCache",
    }
)  # fmt: skip
QUERY_BUILDERS = frozenset(
    {
        "from", "where", "order_by", "preload", "select", "join", "distinct", "group_by",
        "having", "or_where", "select_merge", "exclude", "subquery",
    }
)  # fmt: skip


@register(N_PLUS_ONE, scope="definition")
def check_n_plus_one(ctx: FileContext) -> Iterable[Finding]:
    """EC001: repo reads and context lookups inside per-element iteration bodies."""
    if ctx.path.endswith(".exs") or is_test_path(ctx.path):
        return
    if not ctx.contains(b"Repo") and not ctx.contains(b"get_") and not ctx.contains(b"list_"):
        return
    for call, label, iteration in _per_element_queries(ctx):
        if in_mix_task(call, ctx):
            continue
        collection = syntax.text(iteration.collection) if iteration.collection else "the list"
        if len(collection) > 30 or "\n" in collection:
            collection = "the collection"
        yield ctx.finding(
            N_PLUS_ONE,
            call,
            f"`{label}` inside `{iteration.label}` runs one query per element of "
            f"`{collection}`; load them with one query (`where: x.id in ^ids`) or "
            "`Repo.preload` the whole list",
        )


def _per_element_queries(ctx: FileContext) -> Iterator[tuple[Node, str, Iteration]]:
    """Repo reads, then context lookups, that sit in an iteration body: (call, label, iteration).

    The (cheap) iteration lookup comes first: most reads and lookup-named calls
    (every ``def get_x(id)`` head is one) are outside any, and need no name or resolution.
    """
    if summaries.kept(ctx):
        # Gathered even with no iteration here: an incremental re-check of another
        # definition reuses this definition's contribution.
        _local_lookups(ctx)
    # Every distinct function name of the file: the test is inlined.
    lookups = [name for name in ctx.call_names() if name.startswith(_LOOKUP) and len(name) > 5]
    # By name and byte range only: most files have no read or lookup inside any loop,
    # and then need no iteration resolved.
    if not may_be_in_iteration(ctx, ctx.call_targets([*READS, *lookups])):
        return
    if not iterations(ctx):
        return
    for found in repo_calls_of(ctx, READS):
        iteration = innermost_iteration(ctx, found.node)
        if iteration is not None:
            yield found.node, syntax.call_name(found.node) or found.function, iteration
    for call in ctx.calls_named(lookups):
        iteration = innermost_iteration(ctx, call)
        if iteration is None:
            continue
        name = syntax.call_name(call)
        if name is None or not _is_lookup_name(name.rsplit(".", 1)[-1]):
            continue
        if "." not in name:
            if name in _local_lookups(ctx):
                yield call, name, iteration
            continue
        resolved = resolve(ctx, call)
        if resolved is not None and _is_context_lookup(ctx, call, *resolved):
            yield call, name, iteration


_LOOKUP = ("get_", "list_")
_LISTS = frozenset({"all", "all_by"})


def _is_lookup_name(function: str) -> bool:
    return function.startswith(_LOOKUP) and len(function) > 5


def _is_context_lookup(ctx: FileContext, call: Node, module: str, function: str) -> bool:
    """A lookup in an application module that queries the database.

    With workspace facts: the function (or what it delegates to) runs a repo
    read. A file analysed alone: a module of the same project
    (``MyApp.Accounts`` from ``MyAppWeb.*``) that is not a repo.
    """
    if module.startswith(":") or is_repo_module(ctx, module):
        return False
    known: dict[str, frozenset[str]] = ctx.facts.get(QUERY_FUNCTIONS) or {}
    if known:
        return function in known.get(module, frozenset())
    return _is_same_application(ctx, call, module)


def _is_same_application(ctx: FileContext, call: Node, module: str) -> bool:
    first = module.split(".", 1)[0]
    if first in NOT_APPLICATION:
        return False
    own = module_name_at(ctx, call)
    if own is None:
        return False
    return _app_root(first) == _app_root(own.split(".", 1)[0])


def _app_root(segment: str) -> str:
    return segment[:-3] if segment.endswith("Web") and len(segment) > 3 else segment


def _local_lookups(ctx: FileContext) -> frozenset[str]:
    """Local ``get_*``/``list_*`` functions whose own body reads through a repo.

    Contributed per definition (see ``analyzers.summaries``), so re-checking
    one edited definition still knows what the others do.
    """

    def build() -> frozenset[str]:
        contributions: dict[int, set[str]] = {}
        reads = [c.node for c in repo_calls_of(ctx, READS)] if _may_define_lookup(ctx) else []
        for node in reads:
            definition = enclosing_def(ctx, node)
            named = definition_name(ctx, definition) if definition is not None else None
            if definition is not None and named is not None and _is_lookup_name(named[1]):
                contributions.setdefault(definition.start_byte, set()).add(named[1])
        return summaries.unit_summary(ctx, "ecto.local_lookups", contributions)

    return ctx.memo("ecto.local_lookups", build)


def _is_web_path(ctx: FileContext) -> bool:
    return "_web/" in ctx.path.replace("\\", "/")


def _may_be_web(ctx: FileContext) -> bool:
    """Whether :func:`is_web_module` can hold anywhere in the file.

    A ``*Web.*`` module name is written in the file, so a file outside ``*_web/``
    without the word has none: its repo calls need no module lookup.
    """
    return _is_web_path(ctx) or ctx.contains(b"Web")


def _may_define_lookup(ctx: FileContext) -> bool:
    """A ``get_*``/``list_*`` definition spells its name here: without the words none counts."""
    return ctx.contains(b"get_") or ctx.contains(b"list_")


def is_web_module(ctx: FileContext, node: Node) -> bool:
    """Code in a controller/LiveView/component: under ``*_web/`` or in a ``*Web.*`` module."""
    if _is_web_path(ctx):
        return True
    name = module_name_at(ctx, node)
    return name is not None and name.split(".", 1)[0].endswith("Web")


@register(UNBOUNDED, scope="definition")
def check_unbounded(ctx: FileContext) -> Iterable[Finding]:
    """EC004: ``Repo.all`` over a visible query without ``limit`` in web modules."""
    if ctx.path.endswith(".exs") or not ctx.contains(b"Repo") or not ctx.contains(b"all"):
        return
    if not _may_be_web(ctx):
        return
    for found in repo_calls_of(ctx, _LISTS):
        if not is_web_module(ctx, found.node):
            continue
        args = syntax.positional_args(found.node)
        if not args:
            continue
        query = _visible_query(args[0])
        if query is None or _is_bounded(query):
            continue
        if found.function == "all_by" and _all_by_scoped(found.node):
            continue
        yield ctx.finding(
            UNBOUNDED,
            found.node,
            f"`{syntax.call_name(found.node)}` loads every matching row of "
            f"`{_query_label(query)}` on each request; add a `limit` or paginate",
        )


def _visible_query(node: Node) -> Node | None:
    """The query expression if it is written here (following one variable binding)."""
    if node.type == "identifier":
        bound = syntax.bound_value(node)
        return _visible_query(bound) if bound is not None else None
    if node.type == "alias":
        return node
    if node.type == "call":
        name = syntax.call_name(node)
        if name is not None and name.rsplit(".", 1)[-1] in QUERY_BUILDERS:
            piped = syntax.pipe_source(node)
            return node if piped is None or _visible_query(piped) is not None else None
        return None
    if node.type == "binary_operator" and syntax.operator(node) == "|>":
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None or _visible_query(left) is None:
            return None
        return node if right.type == "call" and _visible_query(right) is not None else None
    return None


def _is_bounded(query: Node) -> bool:
    # A pipe source is a sibling in the tree: look at the whole pipeline it belongs to.
    top = query
    while (
        top.parent is not None
        and top.parent.type == "binary_operator"
        and (syntax.operator(top.parent) == "|>")
    ):
        top = top.parent
    for node in syntax.walk(top):
        if node.type == "call" and syntax.call_function(node) in {"limit", "first", "last"}:
            return True
        if node.type == "keyword" and syntax.keyword_name(node) == "limit":
            return True
        if node.type == "binary_operator" and syntax.operator(node) == "in":
            right = node.child_by_field_name("right")
            if right is not None and right.type == "unary_operator":
                return True
        if _scoped_to_parent(node):
            return True
    return False


def _all_by_scoped(call: Node) -> bool:
    """``Repo.all_by(Key, user_id: id)``: the rows of one parent record."""
    args = syntax.call_args(call)
    clauses = [a for a in args[1:] if a.type in {"keywords", "list"}] if args else []
    return any(
        name.endswith("_id") or name == "id"
        for clause in clauses
        for name, _pair, _value in syntax.keyword_pairs(clause)
    )


def _is_pinned(node: Node | None) -> bool:
    return node is not None and node.type == "unary_operator" and syntax.operator(node) == "^"


def _scoped_to_parent(node: Node) -> bool:
    """``p.user_id == ^id`` or ``user_id: ^id``: the rows of one parent record."""
    if node.type == "binary_operator" and syntax.operator(node) == "==":
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        for field, value in ((left, right), (right, left)):
            if field is not None and _is_pinned(value) and syntax.text(field).endswith("_id"):
                return True
    if node.type == "pair":
        key = node.child_by_field_name("key")
        value = node.child_by_field_name("value")
        return key is not None and syntax.keyword_name(key).endswith("_id") and _is_pinned(value)
    return False


def _query_label(query: Node) -> str:
    for node in syntax.walk(query):
        if node.type == "alias":
            return syntax.text(node)
        if node.type == "string":
            return syntax.text(node)
    return "the query"
