"""Resolving module names as Elixir does inside a module: ``alias``, ``as:``, ``{A, B}``, ``__MODULE__``.

``Repo.insert`` inside a module that says ``alias MyApp.Repo`` is a call to
``MyApp.Repo.insert``; rules compare full names, so a module named ``Repo``
that is not an Ecto repo is never mistaken for one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from analyzers import syntax


@dataclass
class ModuleAliases:
    """The aliases in effect in one ``defmodule`` (lexical: nested modules inherit)."""

    module: str
    names: dict[str, str] = field(default_factory=dict)

    def expand(self, name: str) -> str:
        """Full name of a dotted module reference (``Repo`` -> ``MyApp.Repo``)."""
        if name == "__MODULE__":
            return self.module
        if name.startswith("__MODULE__."):
            return self.module + name[len("__MODULE__") :]
        head, _, rest = name.partition(".")
        full = self.names.get(head)
        if full is None:
            return name
        return f"{full}.{rest}" if rest else full

    def call_target(self, call: Node) -> tuple[str, str] | None:
        """``("MyApp.Repo", "insert")`` for a remote call ``Repo.insert(...)``; None otherwise."""
        name = syntax.call_name(call)
        if name is None or "." not in name:
            return None
        receiver, function = name.rsplit(".", 1)
        if receiver.endswith("()") or (receiver.startswith(":") and "." in receiver[1:]):
            return None
        if receiver.startswith(":"):
            return receiver, function  # Erlang module, e.g. :ets
        if not receiver[:1].isupper() and not receiver.startswith("__MODULE__"):
            return None  # a variable's field or a map access: post.comments
        return self.expand(receiver), function


def module_aliases(defmodule: Node, parent: ModuleAliases | None = None) -> ModuleAliases:
    """The aliases declared directly in ``defmodule``'s body (plus those of ``parent``)."""
    return _module_aliases(defmodule, parent, syntax.do_block(defmodule), None, None)


def _module_aliases(
    defmodule: Node,
    parent: ModuleAliases | None,
    block: Node | None,
    nested: list[Node] | None,
    text: _SourceText | None,
) -> ModuleAliases:
    """:func:`module_aliases`, given the do-block; the ``defmodule`` statements go to ``nested``.

    Without the tree's ``text``, one pass over the body finds both. With it,
    only where the body spells ``alias`` or ``defmodule`` is looked at: most
    statements (``def``, ``@doc``) are neither, and a module has few of these.
    """
    raw = syntax.module_name(defmodule) or ""
    name = raw
    if parent is not None and raw and "." not in raw.split(".", 1)[0]:
        # defmodule Child inside defmodule Parent defines Parent.Child.
        name = f"{parent.module}.{raw}"
    aliases = ModuleAliases(name, dict(parent.names) if parent else {})
    if parent is not None and raw:
        # A nested module is aliased in its parent by its last segment.
        aliases.names[raw.split(".")[0]] = f"{parent.module}.{raw.split('.')[0]}"
    if text is not None:
        if block is not None:
            for statement in text.statements_calling(block, b"alias"):
                _read_alias(statement, aliases)
            if nested is not None:
                nested.extend(text.statements_calling(block, b"defmodule"))
        return aliases
    for statement in syntax.block_statements(block):
        target = syntax.identifier_target(statement)
        if target == b"alias":
            _read_alias(statement, aliases)
        elif target == b"defmodule" and nested is not None:
            nested.append(statement)
    return aliases


def _read_alias(node: Node, aliases: ModuleAliases) -> None:
    args = syntax.call_args(node)
    if not args:
        return
    target = args[0]
    as_value = syntax.option(node, "as")
    if target.type == "alias" or syntax.text(target).startswith("__MODULE__"):
        full = aliases.expand(syntax.text(target))
        short = syntax.text(as_value) if as_value is not None else full.rsplit(".", 1)[-1]
        aliases.names[short] = full
        return
    # alias MyApp.{Repo, Accounts.User}
    if target.type == "dot":
        left = target.child_by_field_name("left")
        right = target.child_by_field_name("right")
        if left is None or right is None or right.type != "tuple":
            return
        base = aliases.expand(syntax.text(left))
        for item in right.named_children:
            if item.type == "alias":
                full = f"{base}.{syntax.text(item)}"
                aliases.names[full.rsplit(".", 1)[-1]] = full


def aliases_by_module(root: Node) -> list[tuple[Node, ModuleAliases]]:
    """Every ``defmodule`` in a tree (nested ones too) with its aliases, outermost first.

    The last few trees' answers are kept: fact collectors and rules of one
    file each ask for the same tree's (callers must not change the aliases).
    """
    global _recent
    for cached_root, cached in _recent:
        if cached_root == root:
            return list(cached)
    found: list[tuple[Node, ModuleAliases]] = []
    text = _SourceText(root)

    def visit(modules: list[Node], parent: ModuleAliases | None) -> None:
        for module in modules:
            block = syntax.do_block(module)
            nested: list[Node] = []
            # Without a do-block the call's own children are where nested modules would be.
            aliases = _module_aliases(
                module, parent, block, nested if block is not None else None, text
            )
            found.append((module, aliases))
            if block is None:
                nested = [c for c in module.named_children if _is_defmodule(c)]
            visit(nested, aliases)

    visit([c for c in root.named_children if _is_defmodule(c)], None)
    # The cache holds the root node, so its tree (and its node ids) stay alive while cached;
    # replaced whole, never mutated, so threads analysing other files can read it meanwhile.
    _recent = ((root, found), *_recent[: _RECENT_TREES - 1])
    return list(found)


class _SourceText:
    """The bytes of a tree under ``root``, to find statements by their first word."""

    def __init__(self, root: Node) -> None:
        self._root = root
        self._offset = root.start_byte
        self._bytes = root.text or b""

    def statements_calling(self, block: Node, function: bytes) -> list[Node]:
        """The statements of ``block`` that are calls of the identifier ``function``, in order.

        Such a statement starts with its target, so only where the block's text
        spells ``function`` can one start: the identifier found there must be
        its call's target, and that call a statement of ``block``.
        """
        found: list[Node] = []
        data, offset, size = self._bytes, self._offset, len(function)
        end = block.end_byte - offset
        at = data.find(function, block.start_byte - offset, end)
        while at >= 0:
            start = at + offset
            word = self._root.named_descendant_for_byte_range(start, start + size)
            at = data.find(function, at + 1, end)
            if word is None or word.start_byte != start or word.end_byte != start + size:
                continue
            call = word.parent
            if (
                call is not None
                and call.type == "call"
                and call.parent == block
                and call.child_by_field_name("target") == word
            ):
                found.append(call)
        return found


def _is_defmodule(node: Node) -> bool:
    return syntax.identifier_target(node) == b"defmodule"


_RECENT_TREES = 2
_recent: tuple[tuple[Node, list[tuple[Node, ModuleAliases]]], ...] = ()


def aliases_at(root: Node, node: Node) -> ModuleAliases | None:
    """The aliases in effect at ``node`` (its innermost enclosing module's)."""
    best: ModuleAliases | None = None
    for module, aliases in aliases_by_module(root):
        if module.start_byte <= node.start_byte and node.end_byte <= module.end_byte:
            best = aliases
    return best
