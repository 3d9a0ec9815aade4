"""The definition and module around a node, looked up by byte range once per file.

``syntax.enclosing_def``/``syntax.enclosing_module`` climb parents, and each
``parent`` step walks down from the root: over every repo call of a large
module that was most of the Ecto rules' time. These answer the same from the
file's ``def``/``defmodule`` calls, gathered once per :class:`FileContext`
(never shared across files: incremental re-checks analyse compact sources).
"""

from __future__ import annotations

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext


def definitions(ctx: FileContext) -> syntax.Enclosing:
    """Every ``def``-like call of the file, for :meth:`syntax.Enclosing.around` lookups."""
    # Whether a def-named call really defines a function is asked only of those looked up.
    # The test holds the names dict, not ctx: the memo must not refer back to its context
    # (a cycle would keep every analysed tree alive until the cyclic collector runs).
    names = _definition_names(ctx)
    return ctx.memo(
        "ecto.definitions",
        lambda: syntax.Enclosing(
            ctx.calls_named(syntax.DEF_KEYWORDS), lambda c: _named(names, c) is not None
        ),
    )


def definition_name(ctx: FileContext, node: Node) -> tuple[str, str] | None:
    """``syntax.def_name(node)``, computed once per node of the file."""
    return _named(_definition_names(ctx), node)


def _definition_names(ctx: FileContext) -> dict[Node, tuple[str, str] | None]:
    names: dict[Node, tuple[str, str] | None] = ctx.memo("ecto.definition_names", dict)
    return names


def _named(names: dict[Node, tuple[str, str] | None], node: Node) -> tuple[str, str] | None:
    if node in names:
        return names[node]
    named = names[node] = syntax.def_name(node)
    return named


def modules(ctx: FileContext) -> syntax.Enclosing:
    """Every ``defmodule`` call of the file naming its module, for lookups."""
    return ctx.memo(
        "ecto.modules",
        lambda: syntax.Enclosing(
            ctx.calls_named(("defmodule",)), lambda c: syntax.module_name(c) is not None
        ),
    )


def enclosing_def(ctx: FileContext, node: Node) -> Node | None:
    """What ``syntax.enclosing_def(node)`` answers, without climbing when ranges decide."""
    decided, found = definitions(ctx).around(node)
    return found if decided else syntax.enclosing_def(node)


def enclosing_module(ctx: FileContext, node: Node) -> Node | None:
    """What ``syntax.enclosing_module(node)`` answers, without climbing when ranges decide."""
    decided, found = modules(ctx).around(node)
    return found if decided else syntax.enclosing_module(node)


def module_name_at(ctx: FileContext, node: Node) -> str | None:
    """The name written in the innermost ``defmodule`` around ``node`` (None outside one)."""
    module = enclosing_module(ctx, node)
    if module is None:
        return None
    # Asked per repo call (EC004) and per definition (EC002): read each module's name once.
    names: dict[Node, str | None] = ctx.memo("ecto.module_names", dict)
    if module in names:
        return names[module]
    name = names[module] = syntax.module_name(module)
    return name
