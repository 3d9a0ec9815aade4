"""Classifying calls LiveView rules care about: blocking work, PubSub subscriptions, list loads.

Calls are compared by their full module name (aliases resolved), so a
project module called ``Req`` that is not the HTTP client only matches when
it is written as the client is.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from analyzers import syntax
from analyzers.aliases import ModuleAliases
from analyzers.project import ProjectFacts

HTTP_CLIENTS = frozenset({"HTTPoison", "Req", "Tesla", "Finch", ":httpc", ":hackney"})
HTTP_VERBS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "run", "stream"}
)
BLOCKING = {
    ("Process", "sleep"): "`Process.sleep`",
    (":timer", "sleep"): "`:timer.sleep`",
    ("Task", "await"): "`Task.await`",
    ("Task", "await_many"): "`Task.await_many`",
    ("System", "cmd"): "`System.cmd`",
}
# Words in a list function's name or options that say the result is bounded.
BOUNDED_NAME_WORDS = ("recent", "latest", "top_", "first", "page", "paginat", "limit")
BOUNDING_OPTIONS = frozenset(
    {"limit", "page", "per_page", "page_size", "first", "last", "offset", "cursor"}
)
PAGINATION_MODULES = ("Flop", "Scrivener", "Paginator", "Quarto")
# The body of a local function ``(name, arity)``, when it is one expression.
LocalBody = Callable[[str, int], Node | None]


def blocking_call(call: Node, aliases: ModuleAliases) -> str | None:
    """A description (``HTTP request `Req.get!```) when ``call`` blocks the calling process."""
    target = aliases.call_target(call)
    if target is None:
        return None
    module, function = target
    written = syntax.call_name(call) or f"{module}.{function}"
    if module in HTTP_CLIENTS and function.rstrip("!") in HTTP_VERBS:
        return f"HTTP request `{written}`"
    if (module, function) in BLOCKING:
        return BLOCKING[(module, function)]
    if module == "GenServer" and function == "call":
        args = syntax.positional_args(call)
        if len(args) >= 3 and syntax.atom_value(args[2]) == "infinity":
            return "`GenServer.call` with an `:infinity` timeout"
    return None


def subscription(call: Node, aliases: ModuleAliases) -> str | None:
    """``Phoenix.PubSub.subscribe``, ``MyAppWeb.Endpoint.subscribe`` or a context's ``subscribe``."""
    target = aliases.call_target(call)
    if target is None:
        return None
    module, function = target
    if not (function == "subscribe" or function.startswith("subscribe_")) or module.startswith(":"):
        return None
    return syntax.call_name(call)


def is_repo(module: str) -> bool:
    """Whether a module name looks like an Ecto repo (``MyApp.Repo``, ``Repo``, ``ReadRepo``)."""
    return module.rsplit(".", 1)[-1].endswith("Repo")


def collection_load(
    node: Node,
    aliases: ModuleAliases,
    depth: int = 0,
    *,
    context_calls: bool = True,
    local: LocalBody | None = None,
) -> Node | None:
    """The call that loads a whole collection from the database, if ``node`` is one.

    ``Repo.all(q)``, ``Blog.list_posts()``, ``Post.all()``, ``Repo.preload(posts, ...)``
    of such a list, ``Enum.to_list(Repo.stream(q))``, an order-keeping ``Enum``
    function applied to one, a variable bound to one earlier in the function,
    or a call to a local function (``local`` gives its body) returning one.
    Bounded loads (``limit``, pagination, integer arguments) are not collections
    in this sense: their size does not grow with the table. With
    ``context_calls=False`` only explicit repo reads count (for projects
    without Ecto, where ``list_*`` lists something else).
    """

    def again(inner: Node | None) -> Node | None:
        if inner is None:
            return None
        return collection_load(inner, aliases, depth + 1, context_calls=context_calls, local=local)

    if depth > 4:
        return None
    if node.type == "identifier":
        return again(syntax.bound_value(node))
    if node.type == "binary_operator" and syntax.operator(node) == "|>":
        return again(node.child_by_field_name("right"))
    if node.type != "call":
        return None
    name = syntax.call_name(node)
    if local is not None and name is not None and "." not in name:
        body = local(name, len(syntax.effective_args(node)))
        return node if again(body) is not None and not _bounded(node, aliases, depth) else None
    target = aliases.call_target(node)
    if target is None:
        return None
    module, function = target
    if module.startswith(PAGINATION_MODULES) or function.startswith("paginate"):
        return None
    args = syntax.effective_args(node)
    if is_repo(module) and function in ("all", "all!"):
        return _unless_bounded(node, aliases, depth)
    if is_repo(module) and function == "preload":
        return again(args[0]) if args else None
    listing = (function == "all" and not is_repo(module)) or (
        function.startswith("list_") and _unbounded_name(function)
    )
    if listing and module[:1].isupper():
        return _unless_bounded(node, aliases, depth) if context_calls else None
    if module == "Enum" and function == "to_list" and args:
        source = args[0]
        inner = aliases.call_target(source) if source.type == "call" else None
        if inner is not None and is_repo(inner[0]) and inner[1] == "stream":
            return _unless_bounded(node, aliases, depth)
        return None
    if module == "Enum" and function in ("map", "filter", "reject", "sort", "sort_by", "uniq"):
        return again(args[0]) if args else None
    return None


def _unbounded_name(function: str) -> bool:
    return not any(word in function for word in BOUNDED_NAME_WORDS)


def _unless_bounded(call: Node, aliases: ModuleAliases, depth: int) -> Node | None:
    return None if _bounded(call, aliases, depth) else call


def _bounded(call: Node, aliases: ModuleAliases, depth: int) -> bool:
    """Whether a load is limited or paginated: by its options, arguments or query."""
    for arg in syntax.effective_args(call):
        if arg.type == "integer":
            return True
        if _mentions_bound(arg, aliases, depth):
            return True
    return False


def _mentions_bound(node: Node, aliases: ModuleAliases, depth: int) -> bool:
    for inner in syntax.walk(node):
        if inner.type == "keyword" and syntax.keyword_name(inner) in BOUNDING_OPTIONS:
            return True
        if inner.type in ("atom", "string") and (
            (syntax.atom_value(inner) or syntax.string_value(inner) or "") in BOUNDING_OPTIONS
        ):
            return True
        if inner.type == "call":
            name = syntax.call_name(inner) or ""
            function = name.rsplit(".", 1)[-1]
            if function in ("limit", "paginate") or name.startswith(PAGINATION_MODULES):
                return True
        if (
            inner.type == "identifier"
            and depth < 4
            and inner.parent is not None
            and inner.parent.type in ("arguments", "binary_operator")
        ):
            bound = syntax.bound_value(inner)
            if bound is not None and _mentions_bound(bound, aliases, depth + 1):
                return True
    return False


def project_without_ecto(facts: ProjectFacts) -> bool:
    """A workspace is known and declares no Ecto repo: its ``list_*`` functions are not queries."""
    # ``facts.repos`` is read from config and can name non-Ecto adapters: ask for ``use Ecto.Repo``.
    if facts.root is None:
        return False
    declared = facts.get("ecto_repos")
    return isinstance(declared, frozenset) and not declared
