"""LV004 (database work while rendering) and LV005 (double submit) in templates and ``render/1``.

LV004 counts repo calls, and calls of the project's context functions that
query (workspace facts, :mod:`analyzers.rules.liveview.query_facts`; for a
module outside the known workspace, ``list_*``/``get_*`` by name).

Templates are ``~H`` sigils of LiveView and LiveComponent modules and the
``.heex`` files the LiveView facts attach to such a module (colocated or
through ``embed_templates``). A sigil's module is read from the file being
analysed, so unsaved edits count; a ``.heex`` file's module comes from the
workspace facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import heex, syntax
from analyzers.aliases import ModuleAliases
from analyzers.context import FileContext
from analyzers.model import Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.ecto.calls import aliases_for, is_repo_module, module_aliases
from analyzers.rules.ecto.facts import QUERY_FUNCTIONS
from analyzers.rules.liveview.facts import (
    LIVE_KINDS,
    LIVEVIEW_FACTS,
    Handler,
    LiveViewFacts,
    ModuleFacts,
    read_module,
    use_kind,
)
from analyzers.rules.liveview.module_rules import may_concern_liveview, might_be_liveview
from analyzers.rules.liveview.query_facts import QUERY_FACTS, ModuleQueries, create_is_guarded

WORK_IN_RENDER = RuleMeta(
    code="LV004",
    slug="work-in-render",
    title="Database or context call while rendering: it runs on every render and diff",
    severity=Severity.WARNING,
    rationale=(
        "LiveView re-renders a template whenever an assign it uses changes, so a Repo or "
        "context call in render/1 or in a template expression queries the database on every "
        "update of every connected client. Under load this multiplies database traffic and "
        "slows each diff; the result is also not tracked as an assign, so change tracking "
        "cannot skip it."
    ),
    safe_pattern=(
        "def mount(_params, _session, socket) do\n"
        "  {:ok, assign(socket, :posts, Blog.list_posts())}\n"
        "end\n"
        "\n"
        "def render(assigns) do\n"
        '  ~H"""\n'
        "  <li :for={post <- @posts}>{post.title}</li>\n"
        '  """\n'
        "end\n"
    ),
)

DOUBLE_SUBMIT = RuleMeta(
    code="LV005",
    slug="double-submit",
    title="phx-click creates a record without phx-disable-with: a double click inserts twice",
    severity=Severity.WARNING,
    rationale=(
        "A phx-click element stays clickable while its event is in flight, so a double click "
        "or an impatient second click sends the event twice. When the handler inserts a row "
        "with no unique constraint, upsert or existence check, each click creates a duplicate "
        "(two orders, two invitations). Forms with phx-submit are locked by LiveView; click "
        "bindings need phx-disable-with."
    ),
    safe_pattern=(
        "def render(assigns) do\n"
        '  ~H"""\n'
        '  <button phx-click="place_order" phx-disable-with="Placing order...">Place order</button>\n'
        '  """\n'
        "end\n"
        "\n"
        'def handle_event("place_order", _params, socket) do\n'
        "  {:ok, order} = Orders.create_order(socket.assigns.cart)\n"
        '  {:noreply, push_navigate(socket, to: ~p"/orders/#{order}")}\n'
        "end\n"
    ),
    fix_title="Add phx-disable-with",
)

_LIVE_MARKERS = (b":live_view", b":live_component", b"Phoenix.LiveView", b"Phoenix.LiveComponent")
DISABLE_TEXT = "Saving..."
_CONTEXT_PREFIXES = ("list_", "get_")
# Attributes that already stop a second click from reaching the server.
_CLICK_GUARDS = ("phx-disable-with", "phx-throttle", "phx-debounce", "data-confirm")


@dataclass(frozen=True)
class OwnedTemplate:
    """A template with the module it renders for (None when unknown)."""

    template: heex.Template
    module: ModuleFacts | None
    aliases: ModuleAliases | None


def owned_templates(ctx: FileContext) -> list[OwnedTemplate]:
    """The file's templates with their modules (memoised per file)."""
    return ctx.memo("liveview.owned_templates", lambda: _owned(ctx))


def _owned(ctx: FileContext) -> list[OwnedTemplate]:
    templates = heex.templates(ctx)
    if not templates:
        return []
    if ctx.language == "heex":
        facts: LiveViewFacts = ctx.facts.get(LIVEVIEW_FACTS)
        owner = facts.module_of_template(ctx.path, ctx.facts.root)
        aliases = owner.module_aliases() if owner is not None else None
        return [OwnedTemplate(t, owner, aliases) for t in templates]
    modules = _file_modules(ctx)
    found: list[OwnedTemplate] = []
    for template in templates:
        sigil = template.sigil
        module = syntax.enclosing_module(sigil) if sigil is not None else None
        facts_of = modules.get(module.id) if module is not None else None
        found.append(
            OwnedTemplate(template, facts_of, aliases_for(ctx, template.sigil or ctx.root))
        )
    return found


def _file_modules(ctx: FileContext) -> dict[int, ModuleFacts]:
    """Facts of the modules of the file under analysis, read from its current text."""

    def build() -> dict[int, ModuleFacts]:
        templates = heex.templates(ctx)
        found: dict[int, ModuleFacts] = {}
        for defmodule, aliases in module_aliases(ctx):
            facts = read_module(ctx.path, defmodule, aliases, templates)
            if facts is not None:
                found[defmodule.id] = facts
        return found

    return ctx.memo("liveview.file_modules", build)


def _app_namespace(module: str) -> str:
    head = module.split(".", 1)[0]
    return head[: -len("Web")] if head.endswith("Web") and len(head) > 3 else head


def _database_call(
    ctx: FileContext, call: Node, aliases: ModuleAliases | None, owner: str | None
) -> str | None:
    """``Repo.all`` / ``Blog.list_posts`` when ``call`` reaches the database, else None."""
    name = syntax.call_name(call)
    if name is None or "." not in name or not name[:1].isupper():
        return None
    if aliases is not None:
        target = aliases.call_target(call)
        if target is None:
            return None
        module, function = target
    else:
        module, function = name.rsplit(".", 1)
    if is_repo_module(ctx, module) or _is_known_repo_alias(ctx, module):
        return name
    if owner is None or not module.startswith(_app_namespace(owner) + "."):
        return None
    if any(part.endswith("Web") for part in module.split(".")):
        return None  # a web-layer helper, not a context
    workspace: dict[str, ModuleQueries] = ctx.facts.get(QUERY_FACTS)
    if module in workspace:
        # A workspace module: only functions that read through a repo count, whatever their name.
        reads: dict[str, frozenset[str]] = ctx.facts.get(QUERY_FUNCTIONS)
        return name if function in reads.get(module, frozenset()) else None
    return name if function.startswith(_CONTEXT_PREFIXES) else None


def _is_known_repo_alias(ctx: FileContext, module: str) -> bool:
    """``Repo`` written in a ``.heex`` file whose module is unknown, when the project has one."""
    return "." not in module and any(repo.rsplit(".", 1)[-1] == module for repo in ctx.facts.repos)


def _may_hold_live_sigils(ctx: FileContext) -> bool:
    """Whether an Elixir file may hold a ``~H`` sigil of a LiveView or live component module.

    Asked before the sigils are parsed: a file of function components (core
    components, layouts) has many templates and no live module to own them,
    though it may spell a marker (``Phoenix.LiveView.JS``). A live module's
    ``use`` spells one of the LiveView markers (:func:`might_be_liveview`);
    its sigils spell ``~H``.
    """
    return might_be_liveview(ctx) and ctx.contains(b"~H") and _has_live_module(ctx)


def _has_live_module(ctx: FileContext) -> bool:
    """Whether a module of the file ``use``s a live kind, read as ``read_module`` reads kinds.

    A module's kind is that of its last ``use`` that has one; so a module of
    a live kind has a ``use`` of that kind among the same statements.
    """
    for defmodule, aliases in module_aliases(ctx):
        for statement in syntax.body_nodes(defmodule):
            if statement.type != "call" or syntax.call_name(statement) != "use":
                continue
            if use_kind(statement, aliases) in LIVE_KINDS:
                return True
    return False


def _is_live(owned: OwnedTemplate, ctx: FileContext) -> bool:
    if owned.module is not None:
        return owned.module.kind in LIVE_KINDS
    # A .heex file no module claims: trust a LiveView folder layout.
    return ctx.language == "heex" and "_live/" in ctx.path.replace("\\", "/")


@register(WORK_IN_RENDER, languages=("elixir", "heex"), applies=may_concern_liveview)
def check_work_in_render(ctx: FileContext) -> Iterable[Finding]:
    """LV004: Repo and context list/get calls in LiveView templates and render/1."""
    if ctx.language == "elixir" and not _may_hold_live_sigils(ctx):
        return
    for owned in owned_templates(ctx):
        if not _is_live(owned, ctx):
            continue
        owner = owned.module.name if owned.module is not None else None
        for expression in owned.template.expressions:
            for call in expression.calls():
                name = _database_call(ctx, call, owned.aliases, owner)
                if name is not None:
                    yield ctx.finding(
                        WORK_IN_RENDER,
                        call,
                        f"{name} in a template runs on every render of every connected client; "
                        "load it in mount/handle_params and assign the result",
                    )
    if ctx.language == "elixir" and any(ctx.contains(marker) for marker in _LIVE_MARKERS):
        yield from _render_bodies(ctx)


def _render_bodies(ctx: FileContext) -> Iterator[Finding]:
    for defmodule, aliases in module_aliases(ctx):
        facts = _file_modules(ctx).get(defmodule.id)
        if facts is None or facts.kind not in LIVE_KINDS or not facts.has_render:
            continue
        for statement in syntax.body_nodes(defmodule):
            named = syntax.def_name(statement)
            if named is None or named[1] != "render" or syntax.def_arity(statement) != 1:
                continue
            for body in syntax.body_nodes(statement):
                for node in syntax.walk(body):
                    if node.type != "call":
                        continue
                    name = _database_call(ctx, node, aliases, facts.name)
                    if name is not None:
                        yield ctx.finding(
                            WORK_IN_RENDER,
                            node,
                            f"{name} in render/1 runs on every render of every connected "
                            "client; load it in mount/handle_params and assign the result",
                        )


@register(DOUBLE_SUBMIT, languages=("elixir", "heex"), applies=may_concern_liveview)
def check_double_submit(ctx: FileContext) -> Iterable[Finding]:
    """LV005: phx-click elements whose handler inserts without a guard, lacking phx-disable-with."""
    if not ctx.contains(b"phx-click"):
        return
    if ctx.language == "elixir" and not _may_hold_live_sigils(ctx):
        return
    for owned in owned_templates(ctx):
        module = owned.module
        if module is None or module.kind not in LIVE_KINDS:
            continue
        for element in owned.template.elements:
            click = element.attribute("phx-click")
            if click is None or any(element.has_attribute(a) for a in _CLICK_GUARDS):
                continue
            event = _clicked_event(click)
            if event is None or not _targets_module(element, module) or _in_submit_form(element):
                continue
            creates = _unguarded_create(ctx, module, event)
            if creates is None:
                continue
            edit = heex.set_attribute(ctx.source, element, "phx-disable-with", DISABLE_TEXT)
            yield ctx.finding(
                DOUBLE_SUBMIT,
                (click.start, click.end),
                f'phx-click="{event}" runs handle_event("{event}"), which calls {creates} with '
                "no unique or existence check; a double click creates two records. Add "
                "phx-disable-with so the element is disabled until the server replies",
                fixes=[Fix(DOUBLE_SUBMIT.fix_title or "", (edit,))],
            )


def _clicked_event(click: heex.Attribute) -> str | None:
    if click.value:
        return click.value
    if click.expression is None:
        return None
    for call in click.expression.calls():
        if syntax.call_name(call) in ("JS.push", "Phoenix.LiveView.JS.push"):
            args = syntax.effective_args(call)
            if syntax.option(call, "target") is not None or not args:
                return None
            return syntax.string_value(args[0])
    return None


def _targets_module(element: heex.Element, module: ModuleFacts) -> bool:
    """Whether the click reaches ``module``'s own handle_event."""
    target = element.attribute("phx-target")
    if target is None:
        # Without phx-target a component's events go to its parent LiveView.
        return module.kind == "live_view"
    expression = target.expression
    return (
        module.kind == "live_component"
        and expression is not None
        and expression.text.strip() == "@myself"
    )


def _in_submit_form(element: heex.Element) -> bool:
    return any(e.has_attribute("phx-submit") for e in (element, *element.ancestors()))


def _unguarded_create(ctx: FileContext, module: ModuleFacts, event: str) -> str | None:
    handlers: Iterable[Handler] = (h for h in module.handlers if h.event == event)
    if ctx.language == "heex":
        facts: LiveViewFacts = ctx.facts.get(LIVEVIEW_FACTS)
        handlers = facts.handlers(module.name, event)
    workspace: dict[str, ModuleQueries] = ctx.facts.get(QUERY_FACTS)
    for handler in handlers:
        if handler.unguarded_create is None:
            continue
        module_name, function = handler.target or ("", "")
        if not create_is_guarded(workspace, module_name, function, handler.mentions):
            return handler.unguarded_create
    return None
