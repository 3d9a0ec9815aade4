"""OT rules about decoding untrusted data: OT002 atom-from-input, OT004 unsafe-binary-to-term.

Atoms are never garbage-collected and the atom table has a fixed size, so
turning arbitrary strings into atoms eventually crashes the VM; and
``binary_to_term`` without ``:safe`` lets a crafted binary create atoms and
executable funs. Both rules skip tests, ``.exs`` scripts, mix tasks and
compile-time code (macros and module bodies), where inputs are bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.otp.support import (
    TO_ATOM,
    TO_ATOM_FUNCTIONS,
    binding_of,
    from_outside,
    is_constant,
    is_script_or_test,
    may_concern_otp,
    module_of,
    remote_target,
)

# Reads of data that crosses a trust boundary: decoded tokens/cookies, request bodies, sockets.
EXTERNAL_READS = re.compile(
    r"decode64|get_req_header|read_body|req_cookies|get_session|Redix\.|\.recv$|HTTPoison|Req\."
)


ATOM_FROM_INPUT = RuleMeta(
    code="OT002",
    slug="atom-from-input",
    title="Atom created from runtime data (atoms are never freed: atom table exhaustion)",
    severity=Severity.WARNING,
    rationale=(
        "Atoms are never garbage-collected and the VM crashes when its atom table (about a "
        "million entries by default) is full. `String.to_atom` on a request parameter, an "
        "event payload or a message lets any client create new atoms at will until the node "
        "goes down. Use `String.to_existing_atom` (raises for unknown names) or, better, map "
        "the accepted strings to atoms explicitly."
    ),
    safe_pattern="""\
defmodule MyAppWeb.PostController do
  use MyAppWeb, :controller

  @sorts %{"newest" => :inserted_at, "title" => :title}

  def index(conn, params) do
    sort = Map.get(@sorts, params["sort"], :inserted_at)
    # or: String.to_existing_atom(params["sort"]) when every valid value is a known atom
    render(conn, :index, posts: MyApp.Blog.list_posts(sort: sort))
  end
end""",
    fix_title="Use the non-creating `to_existing_atom` variant",
)

UNSAFE_BINARY_TO_TERM = RuleMeta(
    code="OT004",
    slug="unsafe-binary-to-term",
    title="`:erlang.binary_to_term/1` without `[:safe]` on data from outside",
    severity=Severity.ERROR,
    rationale=(
        "`:erlang.binary_to_term/1` decodes anything: a crafted binary can create unlimited "
        "new atoms (crashing the VM) and embed functions that run when your code calls them. "
        "The `[:safe]` option refuses new atoms and external funs, but still builds any existing "
        "atom and local fun; for data from cookies, params, caches or other services prefer "
        "`Plug.Crypto.non_executable_binary_to_term(binary, [:safe])`, which also rejects funs."
    ),
    safe_pattern="""\
defmodule MyApp.Session do
  def decode(binary) when is_binary(binary) do
    Plug.Crypto.non_executable_binary_to_term(binary, [:safe])
  end
end""",
    fix_title="Pass `[:safe]` to `binary_to_term`",
)


def _runtime_code(call: Node) -> bool:
    """Inside a ``def``/``defp`` body (not a macro, not compile-time module code)."""
    definition = syntax.enclosing_def(call)
    if definition is None:
        return False
    named = syntax.def_name(definition)
    if named is None or named[0] in {"defmacro", "defmacrop"}:
        return False
    return not any(
        p.type == "call" and syntax.call_name(p) == "quote" for p in syntax.ancestors(call)
    )


def _checked_file(ctx: FileContext) -> bool:
    return not is_script_or_test(ctx.path)


@register(ATOM_FROM_INPUT, applies=may_concern_otp)
def check_atom_from_input(ctx: FileContext) -> Iterator[Finding]:
    """Flag atom creation from outside input (params, payloads, messages); fix: ``to_existing_atom``."""
    if not ctx.contains(b"to_atom") or not _checked_file(ctx):
        return
    for call in ctx.calls_named(TO_ATOM_FUNCTIONS):
        name = syntax.call_name(call)
        if name is None or not name.endswith("to_atom"):
            continue
        info = module_of(ctx, call)
        target = remote_target(info, call)
        if target not in TO_ATOM or not _runtime_code(call):
            continue
        if info is not None and info.name.startswith("Mix.Tasks."):
            continue
        args = syntax.effective_args(call)
        if not args or is_constant(args[0]):
            continue
        if not from_outside(args[0]) or _membership_checked(call, args[0]):
            continue  # bounded values (atoms, config, internal names) are the common safe case
        message = (
            f"`{name}` on `{syntax.text(args[0])}` creates atoms from outside input: a client "
            "can exhaust the atom table and crash the VM"
        )
        yield ctx.finding(ATOM_FROM_INPUT, call, message, [_existing_atom_fix(call, target)])


def _membership_checked(call: Node, value: Node) -> bool:
    """The value is tested against an allow-list (``value in @allowed``) in the same function."""
    definition = syntax.enclosing_def(call)
    if definition is None:
        return False
    written = syntax.text(value)
    return any(
        node.type == "binary_operator"
        and syntax.operator(node) == "in"
        and syntax.text(node.child_by_field_name("left")) == written
        for node in syntax.walk(definition)
    )


def _existing_atom_fix(call: Node, target: tuple[str, str]) -> Fix:
    dot = syntax.call_target(call)
    right = dot.child_by_field_name("right") if dot is not None else None
    if right is None:
        raise ValueError("remote call without a function name")
    replacement = TO_ATOM[target]
    return Fix(
        f"Use `{target[0]}.{replacement}`",
        (Edit(right.start_byte, right.end_byte, replacement),),
    )


@register(UNSAFE_BINARY_TO_TERM, applies=may_concern_otp)
def check_unsafe_binary_to_term(ctx: FileContext) -> Iterator[Finding]:
    """Flag ``:erlang.binary_to_term/1`` on data from outside; the fix adds ``[:safe]``."""
    if not ctx.contains(b"binary_to_term") or not _checked_file(ctx):
        return
    for call in ctx.calls_named(("binary_to_term",)):
        if syntax.call_name(call) != ":erlang.binary_to_term":
            continue
        args = syntax.effective_args(call)
        if len(args) != 1 or is_constant(args[0]) or not _runtime_code(call):
            continue
        if not _external(args[0], 0):
            continue  # internal terms (ETS, persistent caches the app wrote itself)
        message = (
            f"`:erlang.binary_to_term` on `{syntax.text(args[0])}` decodes data from outside "
            "without `[:safe]`: a crafted binary can exhaust the atom table or smuggle in funs"
        )
        fix = Fix(UNSAFE_BINARY_TO_TERM.fix_title or "", (_add_safe(call),))
        yield ctx.finding(UNSAFE_BINARY_TO_TERM, call, message, [fix])


def _external(node: Node, depth: int) -> bool:
    """Params, payloads, cookies, request bodies, tokens, or a value bound from one of them."""
    if from_outside(node):
        return True
    for part in syntax.walk(node):
        if part.type == "call" and EXTERNAL_READS.search(syntax.call_name(part) or ""):
            return True
        if part.type == "identifier" and depth < 2:
            bound = binding_of(part)
            if bound is not None and _external(bound, depth + 1):
                return True
    return False


def _add_safe(call: Node) -> Edit:
    written = syntax.call_args(call)
    if written:
        return Edit(written[-1].end_byte, written[-1].end_byte, ", [:safe]")
    args = syntax.arguments_node(call)
    if args is not None and args.child_count and args.children[0].type == "(":
        opening = args.children[0]
        return Edit(opening.end_byte, opening.end_byte, "[:safe]")
    target = syntax.call_target(call) or call
    return Edit(target.end_byte, target.end_byte, "([:safe])")
