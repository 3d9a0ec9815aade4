"""LV rules about what a LiveView keeps in memory: LV001 and LV006.

* LV001 large-collection-assign: ``assign``/``assign_new`` of a whole
  collection loaded from the database (``Repo.all``, ``Blog.list_posts()``...,
  not limited or paginated).
* LV006 growing-list-update: a list assign that grows by one item per event
  or message (``update(socket, :items, &[item | &1])``, ``items ++ [item]``)
  with nothing trimming it.

Both offer the same fix, "Convert @items to a stream" (see
:mod:`analyzers.rules.liveview.streams`). Assigns listed in
``temporary_assigns`` are already dropped after each render and not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from analyzers import heex, syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.liveview.calls import collection_load, project_without_ecto
from analyzers.rules.liveview.module_rules import LiveModule, live_modules, may_concern_liveview
from analyzers.rules.liveview.streams import module_templates, stream_plan
from analyzers.rules.liveview.writes import assign_writes, bounded_elsewhere, shrunk_elsewhere

STREAM_SAMPLE = """\
def mount(_params, _session, socket) do
  {:ok, stream(socket, :posts, Blog.list_posts())}
end

def handle_info({:post_created, post}, socket) do
  {:noreply, stream_insert(socket, :posts, post, at: 0)}
end

# In the template:
#   <ul id="posts" phx-update="stream">
#     <li :for={{dom_id, post} <- @streams.posts} id={dom_id}>{post.title}</li>
#   </ul>"""

LARGE_COLLECTION_ASSIGN = RuleMeta(
    code="LV001",
    slug="large-collection-assign",
    title="Whole database collection kept in a LiveView assign",
    severity=Severity.WARNING,
    rationale=(
        "Every assign lives in the LiveView process for the whole session, so a list loaded "
        "from a growing table is held in memory once per connected user, and grows with the "
        "table: a few thousand users times a few thousand rows exhausts the node. A stream "
        "sends the items to the browser once and keeps nothing on the server."
    ),
    safe_pattern=STREAM_SAMPLE,
    fix_title="Convert the assign to a stream",
    related=("LV006",),
)

GROWING_LIST_UPDATE = RuleMeta(
    code="LV006",
    slug="growing-list-update",
    title="List assign grows with every event or message",
    severity=Severity.WARNING,
    rationale=(
        "Prepending or appending to a list assign on each message keeps every item ever "
        "received in the LiveView process, so a long-lived tab (a feed, a chat, a log view) "
        "grows without bound and each change re-diffs the whole list. `stream_insert` sends "
        "the new item to the browser and keeps nothing on the server."
    ),
    safe_pattern=STREAM_SAMPLE,
    fix_title="Convert the list to a stream and insert with stream_insert",
    related=("LV001",),
)


@register(LARGE_COLLECTION_ASSIGN, applies=may_concern_liveview)
def check_large_collection(ctx: FileContext) -> Iterator[Finding]:
    """LV001: assigns of unbounded database collections."""
    for module in live_modules(ctx):
        temporary = _temporary_assigns(module)
        context_calls = not project_without_ecto(ctx.facts)
        # One finding per assign: reloading the same list in several callbacks is one problem.
        reported: set[str] = set()
        for write in assign_writes(module):
            if write.kind == "update" or write.value is None or write.key in temporary:
                continue
            if write.key in reported:
                continue
            load = collection_load(
                write.value, module.aliases, context_calls=context_calls, local=module.local_body
            )
            if load is None or _not_rendered_as_list(ctx, module, write.key):
                continue
            plan = stream_plan(ctx, module, write.key)
            finding = ctx.finding(
                LARGE_COLLECTION_ASSIGN,
                write.value,
                f"`@{write.key}` holds every row `{syntax.call_name(load)}` returns, in every "
                "connected LiveView for the whole session; use a stream",
                fixes=[plan.fix] if plan.fix is not None else [],
            )
            reported.add(write.key)
            yield replace(finding, note=plan.reason)


@register(GROWING_LIST_UPDATE, applies=may_concern_liveview)
def check_growing_list(ctx: FileContext) -> Iterator[Finding]:
    """LV006: a list assign that grows by one item per event or message, never trimmed."""
    for module in live_modules(ctx):
        temporary = _temporary_assigns(module)
        for write in assign_writes(module):
            if write.growth is None or write.key in temporary:
                continue
            if write.function in ("mount", "render") or bounded_elsewhere(write):
                continue
            if shrunk_elsewhere(module, write.key):
                continue
            plan = stream_plan(ctx, module, write.key)
            where = "prepends" if write.growth.prepend else "appends"
            finding = ctx.finding(
                GROWING_LIST_UPDATE,
                write.call,
                f"`{write.function}` {where} to `@{write.key}` and nothing trims it: the list "
                "grows for as long as the page is open; use `stream_insert`",
                fixes=[plan.fix] if plan.fix is not None else [],
            )
            yield replace(finding, note=plan.reason)


def _temporary_assigns(module: LiveModule) -> set[str]:
    """Keys named in ``temporary_assigns: [...]`` of the module's mount results."""
    found: set[str] = set()
    for definition in module.functions("mount"):
        for node in syntax.walk(definition):
            if node.type == "pair" and syntax.text(node).startswith("temporary_assigns:"):
                value = node.child_by_field_name("value")
                found.update(name for name, _p, _v in syntax.keyword_pairs(value))
                if value is not None and value.type == "list":
                    found.update(a for a in map(syntax.atom_value, value.named_children) if a)
    return found


def _not_rendered_as_list(ctx: FileContext, module: LiveModule, key: str) -> bool:
    """The module's templates are known and never render ``@key`` as a list.

    Rendering as a list means a ``:for`` (not on ``<option>``) or ``for`` over it,
    or passing it whole to a component (``rows={@key}``, but not a select's ``options``). An
    assign used only as a lookup table or as options is small reference data,
    and a stream could not serve it anyway.
    """
    templates = module_templates(ctx, module)
    if not templates:
        return False
    generator = re.compile(rb"<-\s*@" + re.escape(key.encode()) + rb"(?![\w?!])")
    mention = re.compile(rb"@" + re.escape(key.encode()) + rb"(?![\w?!])")
    for _path, template in templates:
        # ``:for={p <- @posts}``, ``:for={{p, i} <- Enum.with_index(@posts)}``; but an
        # ``<option :for={...}>`` lists a select's choices: reference data, not a feed.
        for loop in template.loops():
            collection = loop.collection
            if loop.element.name != "option" and mention.search(
                template.source, collection.start_byte, collection.end_byte
            ):
                return False
        # ``<%= for post <- @posts do %>`` and ``{for post <- @posts, do: ...}``.
        bodies = (e for e in template.expressions if e.kind != "attribute")
        if any(generator.search(e.source, e.start, e.end) for e in bodies):
            return False
        for element in template.elements:
            if element.kind == "tag":
                continue
            for attr in element.attributes:
                if attr.name == "options" or attr.expression is None:
                    continue
                nodes = attr.expression.nodes
                if len(nodes) == 1 and heex.assign_name(nodes[0]) == key:
                    return False
    return True
