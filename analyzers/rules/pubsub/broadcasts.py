"""PS rules about what a broadcast carries and what subscribers do with it.

PS001 broadcast-large-payload: a broadcast message holding a ``Repo.all``
result, a context ``list_*`` result or a record with preloaded associations
is copied into every subscriber's heap. PS003 requery-on-broadcast: a
LiveView that answers each broadcast by reloading a whole collection makes
every connected user run the same query at the same moment.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.ecto.calls import repo_call
from analyzers.rules.otp.support import (
    ModuleInfo,
    binding_of,
    calls_in,
    module_of,
    modules,
    remote_target,
)
from analyzers.rules.pubsub.relevance import PUBSUB_BROADCASTS, may_concern_pubsub

COLLECTION_READS = frozenset({"all", "stream"})

BROADCAST_LARGE_PAYLOAD = RuleMeta(
    code="PS001",
    slug="broadcast-large-payload",
    title="Broadcast of a whole collection or preloaded record (copied to every subscriber)",
    severity=Severity.WARNING,
    rationale=(
        "A PubSub message is copied into the heap of every subscribing process: broadcasting a "
        "`Repo.all` result or a record with its associations to a topic with thousands of "
        "LiveViews copies that data thousands of times at once, with no backpressure, and "
        "across the cluster it is serialised to every node. Broadcast ids or a minimal map and "
        "let subscribers that need more load it."
    ),
    safe_pattern="""\
defmodule MyApp.Blog do
  alias MyApp.Repo

  def publish_post(post) do
    with {:ok, post} <- post |> MyApp.Blog.Post.publish_changeset() |> Repo.update() do
      Phoenix.PubSub.broadcast(MyApp.PubSub, "posts", {:post_published, %{id: post.id}})
      {:ok, post}
    end
  end
end""",
)

REQUERY_ON_BROADCAST = RuleMeta(
    code="PS003",
    slug="requery-on-broadcast",
    title="LiveView reloads a whole collection on every PubSub message (thundering herd)",
    severity=Severity.WARNING,
    rationale=(
        "Every subscribed LiveView receives the broadcast at the same moment; when each one "
        "answers by re-running `Repo.all` or a context `list_*` query, one write becomes one "
        "full query per connected user, all at once, and a burst of writes multiplies that. "
        "Apply the message's payload instead (`stream_insert`, `stream_delete`, `update`), or "
        "debounce the reload with `Process.send_after` when it cannot be avoided."
    ),
    safe_pattern="""\
defmodule MyAppWeb.PostLive.Index do
  use MyAppWeb, :live_view

  def mount(_params, _session, socket) do
    if connected?(socket), do: MyApp.Blog.subscribe()
    {:ok, stream(socket, :posts, MyApp.Blog.list_posts())}
  end

  def handle_info({:post_created, post}, socket) do
    {:noreply, stream_insert(socket, :posts, post, at: 0)}
  end

  def handle_info({:post_deleted, post}, socket) do
    {:noreply, stream_delete(socket, :posts, post)}
  end
end""",
)


def _message_index(info: ModuleInfo | None, call: Node) -> int | None:
    target = remote_target(info, call)
    if target is None or target[1] not in PUBSUB_BROADCASTS:
        return None
    module, function = target
    if module == "Phoenix.PubSub" or module.endswith("Endpoint") or module == "@endpoint":
        return PUBSUB_BROADCASTS[function]
    return None


@register(BROADCAST_LARGE_PAYLOAD, applies=may_concern_pubsub)
def check_broadcast_large_payload(ctx: FileContext) -> Iterator[Finding]:
    """Flag broadcasts whose message holds a collection or a preloaded record."""
    if not ctx.contains(b"broadcast"):
        return
    # Only a broadcast function's calls can have a message index (_message_index).
    for call in ctx.calls_named(PUBSUB_BROADCASTS):
        name = syntax.call_name(call)
        if name is None or "broadcast" not in name:
            continue
        index = _message_index(module_of(ctx, call), call)
        args = syntax.effective_args(call)
        if index is None or len(args) <= index:
            continue
        reason = _heavy(ctx, args[index], 0)
        if reason is None:
            continue
        message = (
            f"`{name}` sends {reason} to every subscriber, each getting its own copy; "
            "broadcast ids or a minimal map instead"
        )
        yield ctx.finding(BROADCAST_LARGE_PAYLOAD, args[index], message)


def _heavy(ctx: FileContext, node: Node, depth: int) -> str | None:
    """Why ``node``'s value is large (a collection or preloaded record), or None."""
    if depth > 3:
        return None
    if node.type == "binary_operator" and syntax.operator(node) == "|>":
        right = node.child_by_field_name("right")
        return _heavy(ctx, right, depth) if right is not None else None
    if node.type == "call":
        return _heavy_call(ctx, node)
    if node.type == "identifier":
        bound = binding_of(node)
        if bound is None:
            return None
        reason = _heavy(ctx, bound, depth + 1)
        return f"`{syntax.text(node)}` ({reason})" if reason else None
    parts: list[Node] = []
    if node.type in {"tuple", "list"}:
        parts = list(node.named_children)
    elif node.type == "map":
        for content in node.named_children:
            for item in content.named_children:
                if item.type == "binary_operator":
                    value = item.child_by_field_name("right")
                    parts += [value] if value is not None else []
                elif item.type == "keywords":
                    parts += [v for _k, _p, v in syntax.keyword_pairs(item)]
    for part in parts:
        reason = _heavy(ctx, part, depth + 1)
        if reason is not None:
            return reason
    return None


def _heavy_call(ctx: FileContext, call: Node) -> str | None:
    found = repo_call(ctx, call)
    name = syntax.call_name(call) or ""
    if found is not None and found.function in COLLECTION_READS:
        return None if _selects(call) else f"a whole `{name}` result"
    if found is not None and found.function == "preload":
        return "a record with preloaded associations"
    if name.rsplit(".", 1)[-1].startswith("list_"):
        return f"the whole `{name}` collection"
    return None


def _selects(call: Node) -> bool:
    """The query picks its own columns (``select: p.id``): rows are already minimal."""
    args = syntax.effective_args(call)
    if not args:
        return False
    query = args[0]
    if query.type == "identifier":
        query = binding_of(query) or query
    for node in syntax.walk(query):
        if node.type == "keyword" and syntax.keyword_name(node) == "select":
            return True
        if node.type == "call" and syntax.call_function(node) == "select":
            return True
    return False


@register(REQUERY_ON_BROADCAST, applies=may_concern_pubsub)
def check_requery_on_broadcast(ctx: FileContext) -> Iterator[Finding]:
    """Flag LiveView ``handle_info`` clauses for PubSub messages that reload a collection."""
    if not ctx.contains(b"handle_info") or not ctx.contains(b"subscribe"):
        return
    for info in modules(ctx):
        if not info.is_live_view or not _subscribes(info):
            continue
        loaders = _local_loaders(ctx, info)
        for definition in syntax.block_statements(syntax.do_block(info.node)):
            named = syntax.def_name(definition)
            if named is None or named[1] != "handle_info":
                continue
            params = syntax.def_params(definition)
            if not params or not _is_broadcast_pattern(params[0]):
                continue
            if any(syntax.call_name(c) == "Process.send_after" for c in calls_in(definition)):
                continue  # already debounced
            found = _first_reload(ctx, definition, loaders)
            if found is None:
                continue
            node, label = found
            message = (
                f"`handle_info({syntax.text(params[0])}, ...)` {label} on every broadcast: "
                "every subscribed LiveView runs it at once; apply the message's payload "
                "(`stream_insert`/`update`) or debounce with `Process.send_after`"
            )
            yield ctx.finding(REQUERY_ON_BROADCAST, node, message)


def _subscribes(info: ModuleInfo) -> bool:
    for call in calls_in(info.node):
        function = syntax.call_function(call) or ""
        if function.startswith("subscribe") or function.endswith("_subscribe"):
            return True
    return False


def _is_broadcast_pattern(pattern: Node) -> bool:
    """A tuple tagged with an atom or a module, or a map/struct: PubSub messages (not timers)."""
    if pattern.type == "binary_operator" and syntax.operator(pattern) == "=":
        left = pattern.child_by_field_name("left")
        right = pattern.child_by_field_name("right")
        return any(p is not None and _is_broadcast_pattern(p) for p in (left, right))
    if pattern.type == "map":
        return True
    if pattern.type == "tuple":
        items = pattern.named_children
        if not items:
            return False
        tag = items[0]
        if tag.type == "alias":
            # `{MyApp.Blog, event}` is a context's broadcast; a component's own message is not.
            return not syntax.text(tag).endswith("Component")
        return tag.type in {"atom", "quoted_atom", "string"}
    return False


def _reload_label(ctx: FileContext, call: Node) -> str | None:
    found = repo_call(ctx, call)
    name = syntax.call_name(call) or ""
    if found is not None and found.function in COLLECTION_READS:
        return f"reloads with `{name}`"
    if name.rsplit(".", 1)[-1].startswith("list_"):
        return f"reloads `{name}`"
    return None


def _local_loaders(ctx: FileContext, info: ModuleInfo) -> dict[str, str]:
    """Local functions (other than callbacks) that reload a collection."""
    loaders: dict[str, str] = {}
    for statement in syntax.block_statements(syntax.do_block(info.node)):
        named = syntax.def_name(statement)
        if named is None or named[1].startswith("handle_") or named[1] == "mount":
            continue
        for call in calls_in(statement):
            label = _reload_label(ctx, call)
            if label is not None and call != statement:
                loaders.setdefault(named[1], label)
                break
    return loaders


def _first_reload(
    ctx: FileContext, definition: Node, loaders: dict[str, str]
) -> tuple[Node, str] | None:
    for call in calls_in(definition):
        if call == definition:
            continue
        label = _reload_label(ctx, call)
        if label is not None:
            return call, label
        name = syntax.call_name(call)
        if name in loaders:
            return call, f"calls `{name}`, which {loaders[name]}"
    return None
