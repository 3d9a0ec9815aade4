"""PS002 channel-join-unauthorized: a per-id topic joined without checking the user.

``join("user:" <> user_id, _params, socket)`` decides who may listen to a
topic. Returning ``{:ok, socket}`` without relating the socket's user (its
assigns) to ``user_id`` lets any connected client subscribe to anybody's
private stream by guessing ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.otp.support import calls_in, def_guard, modules
from analyzers.rules.pubsub.relevance import may_concern_pubsub

# Helper names that, by their name, decide access.
CHECK_NAMES = re.compile(
    r"authori|permi|allow|can_|can\?|member|access|owner|owns|verify|belongs|ensure|check"
)

COMPARISONS = frozenset({"==", "===", "!=", "!==", "in"})
# Socket functions that only write to it or through it: calling them checks nothing.
SOCKET_WRITES = frozenset(
    {"assign", "assign_new", "update", "push", "broadcast", "broadcast!", "broadcast_from",
     "broadcast_from!", "reply", "track", "send"}
)  # fmt: skip

CHANNEL_JOIN_UNAUTHORIZED = RuleMeta(
    code="PS002",
    slug="channel-join-unauthorized",
    title="Channel `join` on a per-id topic accepts anyone (no check of the socket's user)",
    severity=Severity.WARNING,
    rationale=(
        "Any client holding a socket can join any topic name it likes: the channel's `join/3` "
        'is the only gate. A `join("user:" <> id, ...)` that returns `{:ok, socket}` without '
        "comparing `id` with the user authenticated in `connect/3` (in `socket.assigns`) lets "
        "anyone read other users' private events by guessing ids."
    ),
    safe_pattern="""\
defmodule MyAppWeb.UserChannel do
  use MyAppWeb, :channel

  def join("user:" <> user_id, _params, socket) do
    if user_id == to_string(socket.assigns.current_user.id) do
      {:ok, socket}
    else
      {:error, %{reason: "unauthorized"}}
    end
  end
end""",
)


@register(CHANNEL_JOIN_UNAUTHORIZED, applies=may_concern_pubsub)
def check_channel_join_unauthorized(ctx: FileContext) -> Iterator[Finding]:
    """Flag ``join("prefix:" <> id, ...)`` clauses that accept without any access check."""
    if not ctx.contains(b"def join"):
        return
    for info in modules(ctx):
        if not info.is_channel:
            continue
        for definition in syntax.block_statements(syntax.do_block(info.node)):
            named = syntax.def_name(definition)
            params = syntax.def_params(definition)
            if named is None or named[1] != "join" or len(params) != 3:
                continue
            topic = _topic_id(params[0])
            if topic is None or def_guard(definition) is not None:
                continue
            prefix, id_name = topic
            if _checked(definition, params, id_name) or not _accepts(definition):
                continue
            head = syntax.call_args(definition)[0]
            message = (
                f'`join("{prefix}" <> {id_name}, ...)` returns `{{:ok, socket}}` without '
                f"checking the socket's user against `{id_name}`: any client can join any "
                f"`{prefix}*` topic"
            )
            yield ctx.finding(CHANNEL_JOIN_UNAUTHORIZED, head, message)


def _topic_id(pattern: Node) -> tuple[str, str] | None:
    """``("user:", "user_id")`` for the pattern ``"user:" <> user_id``."""
    if pattern.type != "binary_operator" or syntax.operator(pattern) != "<>":
        return None
    left, right = pattern.child_by_field_name("left"), pattern.child_by_field_name("right")
    prefix = syntax.string_value(left)
    if prefix is None or right is None or right.type != "identifier":
        return None
    return prefix, syntax.text(right)


def _checked(definition: Node, params: list[Node], id_name: str) -> bool:
    """Something in the clause relates the user to the topic, or decides access by name."""
    socket_param = params[2]
    if any(syntax.text(n) in {"assigns", id_name} for n in syntax.walk(socket_param)):
        return True  # matched against the socket's assigns in the head
    body = syntax.body_nodes(definition)
    socket_name = syntax.text(socket_param) if socket_param.type == "identifier" else None
    for statement in body:
        for node in syntax.walk(statement):
            if node.type in {"identifier", "atom"} and syntax.text(node).lstrip(":") == "assigns":
                return True
            if _compares(node, id_name):
                return True
        for call in calls_in(statement):
            name = syntax.call_name(call) or ""
            function = name.rsplit(".", 1)[-1]
            if CHECK_NAMES.search(function):
                return True
            args = {syntax.text(a) for a in syntax.call_args(call)}
            if socket_name in args and function not in SOCKET_WRITES:
                return True  # reads the user from the socket (`current_user(socket)`)
    return False


def _compares(node: Node, id_name: str) -> bool:
    """``id == ...``, ``id in ...`` or a pinned ``^id``: the topic's id is checked against something."""
    if node.type == "unary_operator" and syntax.operator(node) == "^":
        return syntax.text(node.child_by_field_name("operand")) == id_name
    if node.type != "binary_operator" or syntax.operator(node) not in COMPARISONS:
        return False
    sides = (node.child_by_field_name("left"), node.child_by_field_name("right"))
    return any(
        side is not None
        and any(n.type == "identifier" and syntax.text(n) == id_name for n in syntax.walk(side))
        for side in sides
    )


def _accepts(definition: Node) -> bool:
    """The clause can return ``{:ok, socket}`` / ``{:ok, reply, socket}``."""
    for statement in syntax.body_nodes(definition):
        for node in syntax.walk(statement):
            if node.type == "tuple":
                items = node.named_children
                if items and syntax.atom_value(items[0]) == "ok":
                    return True
    return False
