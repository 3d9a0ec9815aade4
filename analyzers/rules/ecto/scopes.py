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
    return ctx.memo(
        "ecto.definitions",
        lambda: syntax.Enclosing(
            c for c in ctx.calls_named(syntax.DEF_KEYWORDS) if syntax.def_name(c) is not None
        ),
    )


def modules(ctx: FileContext) -> syntax.Enclosing:
    """Every ``defmodule`` call of the file naming its module, for lookups."""
    return ctx.memo(
        "ecto.modules",
        lambda: syntax.Enclosing(
            c for c in ctx.calls_named(("defmodule",)) if syntax.module_name(c) is not None
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
    return syntax.module_name(module) if module is not None else None
