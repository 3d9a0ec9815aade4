"""Workspace facts about LiveViews, LiveComponents and their templates.

Collected per file (see :mod:`analyzers.facts`) and combined into
:class:`LiveViewFacts`, available to rules as ``ctx.facts.get(LIVEVIEW_FACTS)``:

* modules that ``use ...Web, :live_view``/``:live_component``/``:html``,
  ``use Phoenix.LiveView``/``Phoenix.LiveComponent``/``Phoenix.Component``,
  with their ``embed_templates`` patterns, whether they define ``render/1``,
  and their ``handle_event`` clauses (literal event name -> clause range);
* their templates: the colocated ``<name>.html.heex`` beside the module's
  file (``MyAppWeb.PostLive.Index`` in ``index.ex`` -> ``index.html.heex``,
  used when the module has no ``render/1``), files matched by
  ``embed_templates``, and ``~H`` sigils in the module itself;
* the events each template sends: ``phx-click``/``phx-submit``/``phx-change``
  (and the other ``phx-*`` event bindings) with a literal name, and
  ``JS.push("name")`` in attribute expressions.

Lookups: :meth:`LiveViewFacts.templates_of`, :meth:`LiveViewFacts.module_of_template`,
:meth:`LiveViewFacts.handlers`, :meth:`LiveViewFacts.modules_in`. Paths are
normalised to absolute POSIX paths; relative paths are resolved against the
project root passed to the lookup.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from tree_sitter import Node, Tree

from analyzers import heex, syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.facts import FactCollector, register_collector, tree_of
from analyzers.rules.liveview import event_writes

LIVEVIEW_FACTS = "liveview"

ModuleKind = Literal["live_view", "live_component", "html", "component", "other"]

EVENT_ATTRIBUTES = frozenset(
    {
        "phx-click",
        "phx-submit",
        "phx-change",
        "phx-blur",
        "phx-focus",
        "phx-keydown",
        "phx-keyup",
        "phx-window-keydown",
        "phx-window-keyup",
        "phx-click-away",
        "phx-window-blur",
        "phx-window-focus",
    }
)
_USE_KINDS: dict[str, ModuleKind] = {
    "Phoenix.LiveView": "live_view",
    "Phoenix.LiveComponent": "live_component",
    "Phoenix.Component": "component",
}
# The kinds whose process holds assigns and handles events (LiveViews and live components).
LIVE_KINDS = frozenset({"live_view", "live_component"})
_WEB_KINDS: dict[str, ModuleKind] = {
    "live_view": "live_view",
    "live_component": "live_component",
    "html": "html",
}
_WANTED_MARKERS = (
    b":live_view",
    b":live_component",
    b":html",
    b"Phoenix.LiveView",
    b"Phoenix.LiveComponent",
    b"Phoenix.Component",
    b"embed_templates",
    b"handle_event",
)


@dataclass(frozen=True)
class EventUse:
    """A template sending ``event`` through ``binding`` (``phx-click`` or ``JS.push``)."""

    event: str
    binding: str
    start: int
    end: int


@dataclass(frozen=True)
class Handler:
    """One ``handle_event(event, ...)`` clause: its file and the byte range of the ``def``."""

    event: str
    path: str
    start: int
    end: int
    creates: str | None = None
    guarded: bool = False
    target: tuple[str, str] | None = None
    mentions: tuple[str, ...] = ()

    @property
    def unguarded_create(self) -> str | None:
        """The create call (``Blog.create_post``) when nothing guards against a repeat."""
        return None if self.guarded else self.creates


@dataclass(frozen=True)
class ModuleFacts:
    """What a LiveView-ish module says about itself."""

    name: str
    path: str
    kind: ModuleKind
    start: int
    end: int
    embed_patterns: tuple[str, ...] = ()
    has_render: bool = False
    handlers: tuple[Handler, ...] = ()
    sigil_events: tuple[EventUse, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()

    def module_aliases(self) -> ModuleAliases:
        """The aliases in effect in the module (for resolving calls in its ``.heex`` templates)."""
        return ModuleAliases(self.name, dict(self.aliases))

    @property
    def is_live(self) -> bool:
        """A LiveView or a LiveComponent (events are handled by the module itself)."""
        return self.kind in ("live_view", "live_component")


@dataclass(frozen=True)
class FileFacts:
    """One file's facts: its modules (``.ex``) or the events its template sends (``.heex``)."""

    modules: tuple[ModuleFacts, ...] = ()
    template_events: tuple[EventUse, ...] = ()
    is_template: bool = False


@dataclass(frozen=True)
class LiveViewFacts:
    """LiveView modules, templates and events of the whole workspace."""

    modules: Mapping[str, ModuleFacts] = field(default_factory=dict)
    templates: Mapping[str, tuple[EventUse, ...]] = field(default_factory=dict)
    by_path: Mapping[str, tuple[ModuleFacts, ...]] = field(default_factory=dict)

    def modules_in(self, path: str, root: str | None = None) -> tuple[ModuleFacts, ...]:
        """The modules defined in the Elixir file ``path``."""
        return self.by_path.get(normalise(path, root), ())

    def templates_of(self, module: str) -> list[str]:
        """The known ``.heex`` files of ``module``: colocated, then ``embed_templates`` matches."""
        facts = self.modules.get(module)
        if facts is None:
            return []
        return [path for path in sorted(self.templates) if claims(facts, path)]

    def module_of_template(self, path: str, root: str | None = None) -> ModuleFacts | None:
        """The module a ``.heex`` file belongs to (None when no module claims it).

        The file need not be indexed yet (a new template open in the editor).
        """
        wanted = normalise(path, root)
        for modules in self.by_path.values():
            for module in modules:
                if claims(module, wanted):
                    return module
        return None

    def handlers(self, module: str, event: str) -> tuple[Handler, ...]:
        """The ``handle_event`` clauses of ``module`` for the literal ``event``."""
        facts = self.modules.get(module)
        if facts is None:
            return ()
        return tuple(h for h in facts.handlers if h.event == event)

    def events_of_template(self, path: str, root: str | None = None) -> tuple[EventUse, ...]:
        """The events a ``.heex`` file sends."""
        return self.templates.get(normalise(path, root), ())


def claims(module: ModuleFacts, template: str) -> bool:
    """Whether ``module`` renders the ``.heex`` file at the absolute path ``template``."""
    folder = str(PurePosixPath(module.path).parent)
    if not template.startswith(folder + "/"):
        return False
    rel = template[len(folder) + 1 :]
    colocated = f"{_underscore(module.name.rsplit('.', 1)[-1])}.html.heex"
    if module.is_live and not module.has_render and rel == colocated:
        return True
    return any(_embed_match(rel, pattern) for pattern in module.embed_patterns)


def normalise(path: str, root: str | None = None) -> str:
    """An absolute POSIX path; a relative ``path`` is taken relative to ``root``."""
    if not os.path.isabs(path) and root:
        path = os.path.join(root, path)
    return os.path.normpath(os.path.abspath(path)).replace(os.sep, "/")


def _embed_match(rel: str, pattern: str) -> bool:
    stem = rel[: -len(".heex")] if rel.endswith(".heex") else rel
    bare = stem[: -len(".html")] if stem.endswith(".html") else stem
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in (rel, stem, bare))


def _underscore(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        boundary = not name[i - 1].isupper() or name[i + 1 : i + 2].islower()
        if ch.isupper() and i and boundary and name[i - 1] != "_":
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def events_in(template: heex.Template) -> tuple[EventUse, ...]:
    """The literal events a template sends (``phx-click="save"``, ``JS.push("save")``)."""
    found: list[EventUse] = []
    for element in template.elements:
        for attr in element.attributes:
            if attr.name in EVENT_ATTRIBUTES and attr.value:
                found.append(EventUse(attr.value, attr.name, attr.start, attr.end))
            elif attr.expression is not None and attr.name.startswith("phx-"):
                found.extend(_js_pushes(attr.expression))
    return tuple(found)


def _js_pushes(expression: heex.Expression) -> Iterable[EventUse]:
    if b"push" not in expression.source[expression.start : expression.end]:
        return
    for call in expression.calls():
        name = syntax.call_name(call)
        if name not in ("JS.push", "Phoenix.LiveView.JS.push"):
            continue
        args = syntax.effective_args(call)
        event = syntax.string_value(args[0]) if args else None
        if event:
            yield EventUse(event, "JS.push", call.start_byte, call.end_byte)


def wants(path: str, source: bytes) -> bool:
    """``.heex`` files, and Elixir files that may define LiveView-ish modules."""
    if path.endswith(".heex"):
        return True
    return path.endswith(".ex") and any(marker in source for marker in _WANTED_MARKERS)


def collect(path: str, source: bytes, tree: Tree | None) -> FileFacts:
    """One file's LiveView facts."""
    path = normalise(path)
    if path.endswith(".heex"):
        return FileFacts(template_events=events_in(heex.template_of_heex(source)), is_template=True)
    tree = tree_of(source, tree)
    templates = heex.templates_in_elixir(source, tree.root_node)
    modules = [
        module
        for defmodule, aliases in aliases_by_module(tree.root_node)
        if (module := read_module(path, defmodule, aliases, templates)) is not None
    ]
    return FileFacts(modules=tuple(modules))


def read_module(
    path: str, defmodule: Node, aliases: ModuleAliases, templates: list[heex.Template]
) -> ModuleFacts | None:
    """Facts of one ``defmodule`` (None when it is neither LiveView-ish nor handles events)."""
    kind: ModuleKind = "other"
    patterns: list[str] = []
    has_render = False
    handlers: list[Handler] = []
    body = syntax.body_nodes(defmodule)
    functions = event_writes.module_functions(body)
    for statement in body:
        if statement.type != "call":
            continue
        called = syntax.call_name(statement)
        if called == "use":
            kind = use_kind(statement, aliases) or kind
        elif called == "embed_templates":
            args = syntax.positional_args(statement)
            pattern = syntax.string_value(args[0]) if args else None
            if pattern:
                patterns.append(pattern)
        elif (found := syntax.def_name(statement)) is not None:
            if found[1] == "render" and syntax.def_arity(statement) == 1:
                has_render = True
            elif found[1] == "handle_event" and found[0] == "def":
                event = _handled_event(statement)
                if event is not None:
                    found_writes = event_writes.check_clause(statement, functions, aliases)
                    handlers.append(
                        Handler(
                            event,
                            path,
                            statement.start_byte,
                            statement.end_byte,
                            found_writes.creates,
                            found_writes.guarded,
                            found_writes.target,
                            tuple(sorted(found_writes.mentions)),
                        )
                    )
    if kind == "other" and not handlers and not patterns:
        return None
    events: list[EventUse] = []
    for template in templates:
        sigil = template.sigil
        inside = sigil is not None and defmodule.start_byte <= sigil.start_byte < defmodule.end_byte
        if inside and sigil is not None and _innermost_module(sigil) == defmodule.id:
            events.extend(events_in(template))
    return ModuleFacts(
        name=aliases.module,
        path=path,
        kind=kind,
        start=defmodule.start_byte,
        end=defmodule.end_byte,
        embed_patterns=tuple(patterns),
        has_render=has_render,
        handlers=tuple(handlers),
        sigil_events=tuple(events),
        aliases=tuple(sorted(aliases.names.items())),
    )


def _innermost_module(node: Node) -> int | None:
    for ancestor in syntax.ancestors(node):
        if ancestor.type == "call" and syntax.call_name(ancestor) == "defmodule":
            return ancestor.id
    return None


def use_kind(use: Node, aliases: ModuleAliases) -> ModuleKind | None:
    """What a ``use`` makes of its module.

    ``use Phoenix.LiveView`` (aliases applied), or the generators' ``use MyAppWeb,
    :live_view`` / ``:live_component`` (any using module: the atom is the convention)
    and ``use MyAppWeb, :html``.
    """
    if use.type != "call" or syntax.call_name(use) != "use":
        return None
    args = syntax.positional_args(use)
    if not args:
        return None
    target = aliases.expand(syntax.text(args[0])) if args[0].type == "alias" else ""
    if target in _USE_KINDS:
        return _USE_KINDS[target]
    atoms = [syntax.atom_value(a) or "" for a in args[1:]]
    for atom in atoms:
        if atom in ("live_view", "live_component"):
            return _WEB_KINDS[atom]
    if atoms and atoms[0] == "html" and target.endswith("Web"):
        return "html"
    return None


def _handled_event(definition: Node) -> str | None:
    params = syntax.def_params(definition)
    return syntax.string_value(params[0]) if params else None


def combine(per_file: Mapping[str, FileFacts]) -> LiveViewFacts:
    """The workspace's LiveView facts from every file's."""
    modules: dict[str, ModuleFacts] = {}
    templates: dict[str, tuple[EventUse, ...]] = {}
    by_path: dict[str, tuple[ModuleFacts, ...]] = {}
    for path in sorted(per_file):
        found = per_file[path]
        if found.is_template:
            templates[normalise(path)] = found.template_events
            continue
        if found.modules:
            by_path[normalise(path)] = found.modules
        for module in found.modules:
            modules.setdefault(module.name, module)
    return LiveViewFacts(modules=modules, templates=templates, by_path=by_path)


register_collector(
    FactCollector(name=LIVEVIEW_FACTS, wants=wants, collect=collect, combine=combine)
)
