"""Shared readings for the OT and PS families: where a file runs, what a module is, what is I/O.

Process rules care about *where* code runs (a test, a script, a supervised
GenServer, a request process) and *what* a value is (built from literals, or
handed in from outside: params, event payloads, messages). These helpers
answer those questions from the syntax tree alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tree_sitter import Node

from analyzers import syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.context import FileContext
from analyzers.rules.ecto.calls import repo_call

# Modules whose callbacks run inside a process started under a supervision tree.
PROCESS_BEHAVIOURS = frozenset(
    {"GenServer", "Agent", "Supervisor", "GenStage", "GenStateMachine", "Application"}
)
HTTP_CLIENTS = frozenset(
    {"HTTPoison", "Req", "Finch", "Tesla", "Mint.HTTP", "HTTPotion", ":httpc", ":hackney", "Gun"}
)
# Parameter names that, by Phoenix convention, carry data from the outside world.
OUTSIDE_NAMES = re.compile(
    r"^(params|payload|attrs|args|body|query|input|msg|message|event)$|_params$"
)
CONN_INPUTS = frozenset({"params", "body_params", "query_params", "path_params", "req_headers"})
# Callbacks whose arguments (other than the socket/state) arrive from clients or other processes.
MESSAGE_CALLBACKS = frozenset(
    {"handle_event", "handle_in", "handle_info", "handle_call", "handle_cast", "handle_params"}
)


# Asked by several rules of every file: answered once per path.
@functools.lru_cache(maxsize=4096)
def is_script_or_test(path: str) -> bool:
    """Tests, test support, ``.exs`` scripts/config and mix tasks: short-lived or not production.

    The innermost ``lib``/``test`` directory decides, so a checkout that happens
    to live under some ``/home/test/`` is still production code.
    """
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts or parts[-1].endswith(".exs"):
        return bool(parts)
    folders = parts[:-1]
    for index in range(len(folders) - 1, -1, -1):
        if folders[index] == "test":
            return True
        if folders[index] == "lib":
            return folders[index + 1 : index + 3] == ("mix", "tasks")
    return False


@dataclass
class ModuleInfo:
    """One ``defmodule``: its full name, aliases, and what it ``use``s."""

    node: Node
    aliases: ModuleAliases
    uses: list[tuple[str, str | None]] = field(default_factory=list)
    behaviours: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The module's full name."""
        return self.aliases.module

    def uses_any(self, modules: frozenset[str]) -> bool:
        """``use``s or declares ``@behaviour`` of one of ``modules`` (full names)."""
        used = {m for m, _ in self.uses} | set(self.behaviours)
        return bool(used & modules)

    def uses_web(self, kind: str) -> bool:
        """``use MyAppWeb, :kind`` (the Phoenix generators' web-module convention)."""
        return any(option == kind for _, option in self.uses)

    @property
    def is_process(self) -> bool:
        """A GenServer, Agent, Supervisor, GenStage or Application module."""
        return self.uses_any(PROCESS_BEHAVIOURS) or any(
            b in {":gen_server", ":gen_statem", ":supervisor"} for b in self.behaviours
        )

    @property
    def is_live_view(self) -> bool:
        """A LiveView (``use Phoenix.LiveView`` or ``use MyAppWeb, :live_view``)."""
        return self.uses_any(frozenset({"Phoenix.LiveView"})) or self.uses_web("live_view")

    @property
    def is_channel(self) -> bool:
        """A Phoenix channel."""
        return self.uses_any(frozenset({"Phoenix.Channel"})) or self.uses_web("channel")

    @property
    def is_request_scoped(self) -> bool:
        """Code that runs in a request, socket or LiveView process (gone when it ends)."""
        return (
            self.is_live_view
            or self.is_channel
            or self.uses_any(
                frozenset({"Phoenix.Controller", "Phoenix.LiveComponent", "Plug.Builder"})
            )
            or any(self.uses_web(k) for k in ("controller", "live_component", "html"))
        )


def modules(ctx: FileContext) -> list[ModuleInfo]:
    """Every module of the file (nested ones too) with its ``use`` and ``@behaviour`` lines."""
    return ctx.memo("otp.modules", lambda: _read_modules(ctx.root))


def _read_modules(root: Node) -> list[ModuleInfo]:
    found: list[ModuleInfo] = []
    for node, aliases in aliases_by_module(root):
        info = ModuleInfo(node, aliases)
        for statement in syntax.block_statements(syntax.do_block(node)):
            if statement.type == "call" and syntax.call_name(statement) == "use":
                args = syntax.call_args(statement)
                if args:
                    option = syntax.atom_value(args[1]) if len(args) > 1 else None
                    info.uses.append((aliases.expand(syntax.text(args[0])), option))
            attribute = syntax.module_attribute(statement)
            if attribute is not None and attribute[0] == "behaviour" and attribute[1] is not None:
                value = attribute[1]
                behaviour = syntax.text(value)
                info.behaviours.append(
                    behaviour if value.type == "atom" else aliases.expand(behaviour)
                )
        found.append(info)
    return found


def module_of(ctx: FileContext, node: Node) -> ModuleInfo | None:
    """The innermost module around ``node``."""
    best: ModuleInfo | None = None
    for info in modules(ctx):
        if info.node.start_byte <= node.start_byte and node.end_byte <= info.node.end_byte:
            best = info
    return best


def remote_target(info: ModuleInfo | None, call: Node) -> tuple[str, str] | None:
    """``(full_module, function)`` of a remote call, aliases resolved."""
    if info is None:
        name = syntax.call_name(call)
        if name is None or "." not in name:
            return None
        module, function = name.rsplit(".", 1)
        return module, function
    return info.aliases.call_target(call)


def is_repo_call(ctx: FileContext, call: Node) -> str | None:
    """``"Repo.all"`` (as written) when ``call`` is a call into an Ecto repo; None otherwise."""
    found = repo_call(ctx, call)
    return syntax.call_name(call) if found is not None else None


def io_call(ctx: FileContext, info: ModuleInfo | None, call: Node) -> str | None:
    """The written name of a call doing I/O (repo, HTTP client, ``File``, ``System.cmd``)."""
    target = remote_target(info, call)
    if target is None:
        return None
    module, function = target
    if function not in {"config", "put_dynamic_repo", "get_dynamic_repo"} and is_repo_call(
        ctx, call
    ):
        return syntax.call_name(call)
    if module in HTTP_CLIENTS or any(module.startswith(c + ".") for c in HTTP_CLIENTS):
        return syntax.call_name(call)
    if module == "File" and function not in {"exists?", "dir?", "regular?"}:
        return syntax.call_name(call)
    if (module, function) in {("System", "cmd"), (":os", "cmd"), ("Port", "open")}:
        return syntax.call_name(call)
    return None


def calls_in(node: Node, *, into_functions: bool = True) -> Iterator[Node]:
    """Every ``call`` node under ``node`` (optionally not descending into ``fn`` bodies)."""
    if into_functions:
        yield from (n for n in syntax.walk(node) if n.type == "call")
        return
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "call":
            yield current
        stack.extend(
            reversed([c for c in current.named_children if c.type != "anonymous_function"])
        )


def def_guard(definition: Node) -> Node | None:
    """The ``when`` guard of a ``def`` head, if any."""
    args = syntax.call_args(definition)
    if args and args[0].type == "binary_operator" and syntax.operator(args[0]) == "when":
        return args[0].child_by_field_name("right")
    return None


def is_constant(node: Node) -> bool:
    """Built only from literals and module attributes (known when the code is written)."""
    if node.type in {"atom", "integer", "float", "boolean", "nil", "char", "quoted_atom"}:
        return True
    if node.type in {"string", "charlist", "sigil"}:
        return all(
            child.type in {"quoted_content", "escape_sequence", "sigil_name", "sigil_modifiers"}
            or (child.type == "interpolation" and _constant_interpolation(child))
            for child in node.named_children
        )
    if node.type == "unary_operator" and syntax.operator(node) == "@":
        return True
    if node.type in {"list", "tuple"}:
        return all(is_constant(c) for c in node.named_children)
    if node.type == "binary_operator" and syntax.operator(node) in {"<>", "++"}:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        return left is not None and right is not None and is_constant(left) and is_constant(right)
    return False


def _constant_interpolation(node: Node) -> bool:
    inner = [c for c in node.named_children if c.type != "comment"]
    return all(is_constant(c) for c in inner)


def root_variable(node: Node) -> Node | None:
    """The variable an access chain starts from: ``params`` in ``params["a"]["b"]``/``conn.params``."""
    current: Node | None = node
    while current is not None:
        if current.type == "identifier":
            return current
        if current.type == "access_call":
            current = current.child_by_field_name("target") or (
                current.named_children[0] if current.named_children else None
            )
        elif current.type == "call":
            target = syntax.call_target(current)
            if target is None or target.type != "dot" or syntax.arguments_node(current):
                return None
            current = target.child_by_field_name("left")
        else:
            return None
    return None


def binding_of(variable: Node) -> Node | None:
    """The value last matched into ``variable`` before its use in the same function.

    Unlike :func:`syntax.bound_value`, patterns count too: ``{:ok, bin} = decode(x)``
    and ``{:ok, bin} <- decode(x)`` bind ``bin`` from ``decode(x)``.
    """
    name = syntax.text(variable)
    definition = syntax.enclosing_def(variable)
    if definition is None:
        return None
    found: Node | None = None
    for node in syntax.walk(definition):
        if node.start_byte >= variable.start_byte:
            break
        if node.type == "binary_operator" and syntax.operator(node) in {"=", "<-"}:
            left = node.child_by_field_name("left")
            if left is not None and any(
                n.type == "identifier" and syntax.text(n) == name for n in syntax.walk(left)
            ):
                found = node.child_by_field_name("right")
    return found


def from_outside(node: Node, *, depth: int = 0) -> bool:
    """The value comes from outside: params, a conn's input, an event payload or a message."""
    for part in syntax.walk(node):
        if part.type == "call" and _is_conn_input(part):
            return True
        if part.type != "identifier" or _is_call_name(part):
            continue
        name = syntax.text(part)
        if OUTSIDE_NAMES.match(name):
            return True
        if _is_callback_parameter(part):
            return True
        if depth < 2:
            bound = binding_of(part)
            if bound is not None and from_outside(bound, depth=depth + 1):
                return True
    return False


def _is_conn_input(call: Node) -> bool:
    """``conn.params``, ``conn.body_params``... (a field read, not a function call)."""
    target = syntax.call_target(call)
    if target is None or target.type != "dot" or syntax.arguments_node(call) is not None:
        return False
    left, right = target.child_by_field_name("left"), target.child_by_field_name("right")
    return (
        left is not None
        and right is not None
        and syntax.text(left) == "conn"
        and syntax.text(right) in CONN_INPUTS
    )


def _is_call_name(identifier: Node) -> bool:
    parent = identifier.parent
    if parent is None:
        return False
    if parent.type == "call" and syntax.call_target(parent) == identifier:
        return True
    return parent.type == "dot" and parent.child_by_field_name("right") == identifier


def _is_callback_parameter(identifier: Node) -> bool:
    """A variable bound by a message callback's head (not the socket or state)."""
    definition = syntax.enclosing_def(identifier)
    if definition is None:
        return False
    named = syntax.def_name(definition)
    params = syntax.def_params(definition)
    if params and syntax.text(params[0]) == "conn":
        params = params[1:] + params[:1]  # a controller action or plug: (conn, params)
    elif named is None or named[1] not in MESSAGE_CALLBACKS:
        return False
    name = syntax.text(identifier)
    for param in params[:-1]:  # the last parameter is the socket, the state or the conn
        for node in syntax.walk(param):
            if node.type == "identifier" and syntax.text(node) == name:
                return True
    return False


# The words each OT rule requires in a file before it reads any code (its opening test).
OTP_WORDS = (
    b"spawn", b"Task.", b":ets.new", b"to_atom", b"binary_to_term", b":infinity", b"handle_call",
)  # fmt: skip


# The functions of every call OT001 accepts as a process start (spawn/spawn_link, Task.start
# and Task.async; see processes._spawn_kind).
PROCESS_STARTERS = frozenset({"spawn", "spawn_link", "start", "async"})
# Atom-creating functions and their non-creating counterparts (OT002).
TO_ATOM = {
    ("String", "to_atom"): "to_existing_atom",
    ("List", "to_atom"): "to_existing_atom",
    (":erlang", "binary_to_atom"): "binary_to_existing_atom",
    (":erlang", "list_to_atom"): "list_to_existing_atom",
}
# The functions TO_ATOM names: OT002 reads only their calls.
TO_ATOM_FUNCTIONS = frozenset(function for _, function in TO_ATOM)
# The functions whose calls each OT rule reads (OT003 `call`, OT004 `binary_to_term`, OT005
# `:ets.new`, OT006 `handle_call`, whose definitions' heads are calls of it): a file that
# calls none of them concerns none of the rules.
OTP_FUNCTIONS = (
    PROCESS_STARTERS | TO_ATOM_FUNCTIONS | {"binary_to_term", "call", "new", "handle_call"}
)


def may_concern_otp(ctx: FileContext) -> bool:
    """Every OT rule's ``applies`` test: production code that may call one of its functions.

    Each rule opens by requiring its word(s) and a file that is no script or
    test, and reads only calls of :data:`OTP_FUNCTIONS`; asked once per file,
    this spares the family's six rules on the (many) files that concern none
    of them. Where another rule has indexed the calls already, asking the
    index costs less than searching the text for the words.
    """
    # An `.exs` file is a script (see is_script_or_test), told by its name alone; then the
    # words, which most files spell none of, before the path (a new path costs a PurePosixPath).
    if ctx.path.endswith(".exs"):
        return False
    return ctx.may_call(OTP_FUNCTIONS, OTP_WORDS) and not is_script_or_test(ctx.path)
