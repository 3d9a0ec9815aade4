"""Router and endpoint facts: pipelines with their plugs, scopes with their ``pipe_through``.

Read per file by parsing (never compiling) routers (``pipeline``/``scope``)
and endpoints (``use Phoenix.Endpoint``), then combined so a router's rules
know which plugs the endpoint already runs for every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tree_sitter import Node, Tree

from analyzers import syntax
from analyzers.facts import FactCollector, register_collector, tree_of

ROUTER_FACTS = "router"


@dataclass(frozen=True)
class Plug:
    """One ``plug`` line: its name (``:fetch_session`` or ``MyAppWeb.Plugs.Auth``) and where."""

    name: str
    accepts: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Pipeline:
    """A router ``pipeline :name do ... end``."""

    name: str
    plugs: tuple[Plug, ...]
    start: int
    head_end: int

    def has(self, plug: str) -> bool:
        """Plugs ``plug`` (``:fetch_session``) directly."""
        return any(p.name == plug for p in self.plugs)

    @property
    def accepts_html(self) -> bool:
        """``plug :accepts, [..."html"...]``."""
        return any(p.name == ":accepts" and any("html" in a for a in p.accepts) for p in self.plugs)


@dataclass(frozen=True)
class Scope:
    """The pipelines piped through in one scope, its enclosing scopes' included."""

    path: str
    pipelines: tuple[str, ...]
    start: int
    has_routes: bool


@dataclass(frozen=True)
class RouterFile:
    """What one file says about routing: its pipelines, scopes and (if an endpoint) plugs."""

    pipelines: tuple[Pipeline, ...] = ()
    scopes: tuple[Scope, ...] = ()
    endpoint_plugs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouterFacts:
    """Every endpoint's plugs, and every router's pipelines and scopes, by file.

    Router rules read the router from the file being checked (its unsaved text
    included); the endpoint's plugs come from here.
    """

    endpoint_plugs: frozenset[str] = frozenset()
    routers: Mapping[str, RouterFile] = field(default_factory=dict)


def wants(path: str, source: bytes) -> bool:
    """Files that may define pipelines or an endpoint."""
    return path.endswith((".ex", ".exs")) and (b"pipeline" in source or b"Endpoint" in source)


def read_router(root: Node) -> RouterFile:
    """Pipelines, scopes and endpoint plugs defined in a parsed file."""
    pipelines: list[Pipeline] = []
    scopes: list[Scope] = []
    endpoint_plugs: list[str] = []
    for module in _modules(root):
        body = syntax.block_statements(syntax.do_block(module))
        if _is_endpoint(body):
            endpoint_plugs.extend(p.name for p in _plugs(body))
            continue
        for statement in body:
            name = syntax.call_name(statement) if statement.type == "call" else None
            if name == "pipeline":
                pipeline = _pipeline(statement)
                if pipeline is not None:
                    pipelines.append(pipeline)
        _scopes(body, (), scopes)
    return RouterFile(tuple(pipelines), tuple(scopes), tuple(endpoint_plugs))


def _modules(root: Node) -> list[Node]:
    return [n for n in syntax.walk(root) if n.type == "call" and syntax.call_name(n) == "defmodule"]


def _is_endpoint(body: list[Node]) -> bool:
    for statement in body:
        if statement.type == "call" and syntax.call_name(statement) == "use":
            args = syntax.call_args(statement)
            if args and syntax.text(args[0]) == "Phoenix.Endpoint":
                return True
    return False


def _plugs(statements: list[Node]) -> list[Plug]:
    found: list[Plug] = []
    for statement in statements:
        if statement.type != "call" or syntax.call_name(statement) != "plug":
            continue
        args = syntax.call_args(statement)
        if not args:
            continue
        accepts = _formats(args[1]) if len(args) > 1 else ()
        found.append(Plug(syntax.text(args[0]), accepts, statement.start_byte, statement.end_byte))
    return found


def _formats(node: Node) -> tuple[str, ...]:
    """``("html", "json")`` from ``["html", "json"]`` or ``~w(html json)``."""
    if node.type == "list":
        return tuple(v for v in (syntax.string_value(i) for i in node.named_children) if v)
    if node.type == "sigil":
        name = next((c for c in node.named_children if c.type == "sigil_name"), None)
        if name is not None and syntax.text(name) == "w":
            words = " ".join(
                syntax.text(c) for c in node.named_children if c.type == "quoted_content"
            )
            return tuple(words.split())
    return ()


def _pipeline(call: Node) -> Pipeline | None:
    args = syntax.call_args(call)
    name = syntax.atom_value(args[0]) if args else None
    if name is None:
        return None
    plugs = _plugs(syntax.body_nodes(call))
    return Pipeline(name, tuple(plugs), call.start_byte, args[0].end_byte)


def _scopes(statements: list[Node], inherited: tuple[str, ...], out: list[Scope]) -> None:
    """Record each ``scope`` with the pipelines in effect inside it (outer scopes' first)."""
    for statement in statements:
        if statement.type != "call" or syntax.call_name(statement) != "scope":
            continue
        body = syntax.body_nodes(statement)
        own = [name for s in body for name in _pipe_through(s)]
        pipelines = inherited + tuple(p for p in own if p not in inherited)
        args = syntax.call_args(statement)
        path = syntax.string_value(args[0]) if args else None
        routes = any(
            s.type == "call" and syntax.call_name(s) not in {"scope", "pipe_through"} for s in body
        )
        out.append(Scope(path or "", pipelines, statement.start_byte, routes))
        _scopes(body, pipelines, out)


def _pipe_through(statement: Node) -> list[str]:
    if statement.type != "call" or syntax.call_name(statement) != "pipe_through":
        return []
    args = syntax.call_args(statement)
    if not args:
        return []
    items = args[0].named_children if args[0].type == "list" else [args[0]]
    return [v for v in (syntax.atom_value(i) for i in items) if v is not None]


def collect(path: str, source: bytes, tree: Tree | None) -> RouterFile:
    """Per-file router facts."""
    return read_router(tree_of(source, tree).root_node)


def combine(per_file: Mapping[str, RouterFile]) -> RouterFacts:
    """Every endpoint's plugs and every router, across the workspace."""
    return RouterFacts(
        frozenset(name for found in per_file.values() for name in found.endpoint_plugs),
        {path: found for path, found in per_file.items() if found.pipelines or found.scopes},
    )


register_collector(FactCollector(ROUTER_FACTS, wants, collect, combine))
