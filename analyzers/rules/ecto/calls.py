"""Which calls are Ecto repo calls, and which code already runs inside a transaction.

Other rule families may use these helpers ("is this a ``Repo`` call?"):

* :func:`repo_calls` - every call to a repo module in a file, resolved through
  the module's aliases (``alias MyApp.Repo``, ``alias MyApp.{Repo, Accounts}``,
  ``alias MyApp.Repo, as: DB``, ``__MODULE__``);
* :func:`is_repo_module` - whether a full module name is an Ecto repo;
* :func:`in_transaction` - whether a node runs inside ``Repo.transaction``,
  ``Repo.transact`` or an ``Ecto.Multi`` step.

What is a repo: a module that ``use Ecto.Repo`` anywhere in the workspace or in
the analysed file, or that ``defdelegate``s to one (a wrapper such as a
read-only-mode repo); repos named only in config count when their adapter
is an ``Ecto.*`` one (config also names mailers and endpoints with adapters). When neither names any repo (a file
analysed alone, or a repo defined through a project macro) a module whose last
name segment ends in ``Repo`` (``MyApp.Repo``, ``MyApp.ReadRepo``) is taken for
one, unless the analysed file defines that module without ``use Ecto.Repo``.
Once the workspace names its repos, no other ``Repo`` module is one, except
that a bare ``Repo`` the file never aliases is taken for the workspace repo of
that short name when exactly one exists: ``use MyApp.Context`` or
``use MyAppWeb, :controller`` commonly alias it inside a macro.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import summaries, syntax
from analyzers.aliases import ModuleAliases, aliases_by_module
from analyzers.context import FileContext
from analyzers.rules.ecto.facts import REPOS
from analyzers.rules.ecto.scopes import definition_name, enclosing_def

READS = frozenset(
    {
        "all", "all_by", "one", "one!", "get", "get!", "get_by", "get_by!", "aggregate", "exists?",
        "preload", "reload", "reload!", "stream",
    }
)  # fmt: skip
WRITES = frozenset(
    {
        "insert", "insert!", "insert_all", "insert_or_update", "insert_or_update!", "update",
        "update!", "update_all", "delete", "delete!", "delete_all",
    }
)  # fmt: skip
QUERIES = frozenset({"query", "query!", "query_many", "query_many!"})
TRANSACTIONS = frozenset({"transaction", "transact"})
# Every Ecto.Repo function a rule asks about; other names are never resolved (per keystroke,
# resolving every remote call of a large module is the expensive part).
REPO_FUNCTIONS = READS | WRITES | QUERIES | TRANSACTIONS | {"rollback", "checkout", "load"}
MULTI = "Ecto.Multi"
SQL_ADAPTER = "Ecto.Adapters.SQL"


@dataclass(frozen=True)
class RepoCall:
    """A call to a repo function: ``Repo.insert(changeset)`` -> (``MyApp.Repo``, ``insert``)."""

    node: Node
    module: str
    function: str

    @property
    def is_read(self) -> bool:
        """Reads rows (``all``, ``get!``, ``preload``...)."""
        return self.function in READS

    @property
    def is_write(self) -> bool:
        """Writes rows (``insert``, ``update_all``, ``delete!``...)."""
        return self.function in WRITES


def module_aliases(ctx: FileContext) -> list[tuple[Node, ModuleAliases]]:
    """Every ``defmodule`` of the file with its aliases (computed once per file)."""
    return ctx.memo("ecto.aliases", lambda: aliases_by_module(ctx.root))


def aliases_for(ctx: FileContext, node: Node) -> ModuleAliases | None:
    """The aliases in effect at ``node`` (its innermost module's)."""
    best: ModuleAliases | None = None
    for module, aliases in module_aliases(ctx):
        if module.start_byte <= node.start_byte and node.end_byte <= module.end_byte:
            best = aliases
    return best


def resolve(ctx: FileContext, call: Node) -> tuple[str, str] | None:
    """``(full module, function)`` of a remote call, module aliases applied."""
    aliases = aliases_for(ctx, call)
    target = call.child_by_field_name("target")
    if target is not None and target.type == "dot":
        left = target.child_by_field_name("left")
        right = target.child_by_field_name("right")
        if left is not None and right is not None and left.type != "call":
            # The answer depends only on the module's aliases and the text either side of
            # the dot: most files call a few receivers (Repo, Enum) many times.
            key = (id(aliases), left.text, right.text)
            cache: dict[tuple[int, bytes | None, bytes | None], tuple[str, str] | None]
            cache = ctx.memo("ecto.resolved", dict)
            if key in cache:
                return cache[key]
            found = cache[key] = _resolve(call, aliases)
            return found
    return _resolve(call, aliases)


def _resolve(call: Node, aliases: ModuleAliases | None) -> tuple[str, str] | None:
    if aliases is None:
        name = syntax.call_name(call)
        if name is None or "." not in name or not name[:1].isupper():
            return None
        module, function = name.rsplit(".", 1)
        return module, function
    return aliases.call_target(call)


def _file_modules(ctx: FileContext) -> tuple[frozenset[str], frozenset[str]]:
    """(modules this file defines, those of them that ``use Ecto.Repo``)."""

    def build() -> tuple[frozenset[str], frozenset[str]]:
        defined: set[str] = set()
        repos: set[str] = set()
        # `use Ecto.Repo` is written out: without the words no statement needs reading.
        declares_repo = ctx.contains(b"Ecto.Repo")
        for module, aliases in module_aliases(ctx):
            defined.add(aliases.module)
            if not declares_repo:
                continue
            for statement in syntax.block_statements(syntax.do_block(module)):
                if syntax.identifier_target(statement) == b"use":
                    args = syntax.call_args(statement)
                    if args and syntax.text(args[0]) == "Ecto.Repo":
                        repos.add(aliases.module)
        return frozenset(defined), frozenset(repos)

    return ctx.memo("ecto.file_modules", build)


def workspace_repos(ctx: FileContext) -> frozenset[str]:
    """The Ecto repo modules the workspace declares (see the module docstring)."""

    def build() -> frozenset[str]:
        declared: frozenset[str] = ctx.facts.get(REPOS) or frozenset()
        configured = {
            name
            for name, repo in ctx.facts.repos.items()
            if repo.adapter is None or repo.adapter.startswith("Ecto.")
        }
        return declared | configured

    return ctx.memo("ecto.workspace_repos", build)


def is_repo_module(ctx: FileContext, module: str) -> bool:
    """Whether ``module`` (a full name) is an Ecto repo (see the module docstring)."""
    defined, file_repos = _file_modules(ctx)
    known = workspace_repos(ctx)
    if module in file_repos or module in known:
        return True
    if module in defined or known or file_repos:
        return False
    return module.rsplit(".", 1)[-1].endswith("Repo")


def repo_calls(ctx: FileContext) -> list[RepoCall]:
    """Every call to a repo function in the file, in document order (computed once)."""
    return repo_calls_of(ctx, REPO_FUNCTIONS)


def repo_calls_of(ctx: FileContext, functions: frozenset[str]) -> list[RepoCall]:
    """The repo calls of ``functions`` (some of :data:`REPO_FUNCTIONS`), in document order.

    Resolves only calls of those names: a rule about writes need not learn
    which module every ``all`` or ``get`` is called on.
    """
    cache: dict[frozenset[str], list[RepoCall]] = ctx.memo("ecto.repo_calls_of", dict)
    found = cache.get(functions)
    if found is None:
        found = cache[functions] = _as_repo_calls(ctx, functions)
    return found


def _as_repo_calls(ctx: FileContext, functions: frozenset[str]) -> list[RepoCall]:
    """The calls of ``functions`` that are on a repo module, in document order."""
    found: list[RepoCall] = []
    # Resolved module -> the repo it is (None: not one); a file names a few modules.
    repos: dict[str, str | None] = ctx.memo("ecto.repo_of_module", dict)
    for call in ctx.calls_named(functions):
        target = syntax.call_target(call)
        if target is None or target.type != "dot" or not _may_name_repo(ctx, target):
            continue
        resolved = resolve(ctx, call)
        if resolved is None:
            continue
        if resolved[0] in repos:
            repo = repos[resolved[0]]
        else:
            module = _macro_aliased_repo(ctx, resolved[0]) or resolved[0]
            repo = repos[resolved[0]] = module if is_repo_module(ctx, module) else None
        if repo is not None:
            found.append(RepoCall(call, repo, resolved[1]))
    return found


# How a keyword option `as:` can be written (`as: X`, `"as": X`, `'as': X`): one scan.
_AS_OPTION = re.compile(rb"""as["']?:""")


def _may_name_repo(ctx: FileContext, target: Node) -> bool:
    """Whether the receiver of a dot call (``target``) could resolve to a repo module.

    An alias keeps a module's last name segment unless it renames it (``as:``),
    and a repo is one by its full name (whose last segment is a known repo's)
    or, failing that, by a last segment ending in ``Repo``. So in a file that
    renames nothing, ``Map.update`` needs neither the module's aliases nor a
    resolution.
    """
    renames, segments = ctx.memo("ecto.repo_segments", lambda: _repo_segments(ctx))
    left = target.child_by_field_name("left")
    if renames or left is None:
        return True
    raw = left.text or b""
    if raw.startswith(b"__MODULE__"):
        return True
    last = raw.rsplit(b".", 1)[-1]
    return last.endswith(b"Repo") or last in segments


def _repo_segments(ctx: FileContext) -> tuple[bool, frozenset[bytes]]:
    """(whether the file may rename an alias, the last name segments of the repos it may call)."""
    if _AS_OPTION.search(ctx.source):
        return True, frozenset()
    repos = set(workspace_repos(ctx))
    if ctx.contains(b"Ecto.Repo"):
        repos |= _file_modules(ctx)[1]
    return False, frozenset(name.rsplit(".", 1)[-1].encode() for name in repos)


def _macro_aliased_repo(ctx: FileContext, module: str) -> str | None:
    """The workspace repo a bare, never-aliased name (``Repo``) stands for, if only one fits."""
    known = workspace_repos(ctx)
    if "." in module or module in known:
        return None
    defined, _ = _file_modules(ctx)
    if module in defined:
        return None
    matches = [name for name in known if name.rsplit(".", 1)[-1] == module]
    return matches[0] if len(matches) == 1 else None


def repo_call(ctx: FileContext, node: Node) -> RepoCall | None:
    """The :class:`RepoCall` for ``node`` if it is one."""
    by_range = ctx.memo(
        "ecto.repo_calls_by_range",
        lambda: {(c.node.start_byte, c.node.end_byte): c for c in repo_calls(ctx)},
    )
    found = by_range.get((node.start_byte, node.end_byte))
    return found if found is not None and found.node == node else None


def is_multi_call(ctx: FileContext, call: Node) -> bool:
    """A call to an ``Ecto.Multi`` function (``Multi.insert`` after ``alias Ecto.Multi``)."""
    if call.type != "call":
        return False
    resolved = resolve(ctx, call)
    return resolved is not None and resolved[0] == MULTI


def is_transaction_call(ctx: FileContext, call: Node) -> bool:
    """``Repo.transaction(...)``/``Repo.transact(...)`` on a repo module."""
    found = repo_call(ctx, call)
    return found is not None and found.function in TRANSACTIONS


def in_transaction(ctx: FileContext, node: Node) -> bool:
    """``node`` runs inside a repo transaction, an ``Ecto.Multi`` step, or a helper called there.

    A local function called or captured inside a transaction in the same
    module counts as running in one (``Repo.transaction(fn -> do_merge(a) end)``
    makes ``do_merge``'s writes transactional); callers elsewhere are not
    followed.
    """
    scopes = ctx.memo(
        "ecto.transaction_scope_index", lambda: syntax.Enclosing(transaction_scopes(ctx))
    )
    decided, scope = scopes.around(node)
    if not decided:
        scope = transaction_scope_climbing(ctx, node)
    if scope is not None:
        return True
    definition = enclosing_def(ctx, node)
    named = definition_name(ctx, definition) if definition is not None else None
    return named is not None and named[1] in transaction_helpers(ctx)


def transaction_scope_climbing(ctx: FileContext, node: Node) -> Node | None:
    """The innermost transaction or ``Ecto.Multi`` call among ``node``'s parents, by climbing.

    What :func:`in_transaction` looks up by byte range, for the nodes ranges cannot decide.
    """
    for parent in syntax.ancestors(node):
        if parent.type == "call" and (
            is_transaction_call(ctx, parent) or is_multi_call(ctx, parent)
        ):
            return parent
    return None


def transaction_scopes(ctx: FileContext) -> list[Node]:
    """Every repo transaction call and ``Ecto.Multi`` call of the file (computed once)."""

    def build() -> list[Node]:
        scopes = [c.node for c in repo_calls_of(ctx, TRANSACTIONS)]
        # Resolving every call is costly; no file without the word calls Ecto.Multi.
        if ctx.contains(b"Multi"):
            scopes += [c for c in ctx.nodes("call") if is_multi_call(ctx, c)]
        return scopes

    return ctx.memo("ecto.transaction_scopes", build)


def transaction_helpers(ctx: FileContext) -> frozenset[str]:
    """Names of local functions called or captured inside a transaction or a Multi step.

    ``Multi.run(:profile, &create_profile/2)`` and
    ``Multi.run(:profile, __MODULE__, :create_profile, [])`` name helpers too.
    Contributed per definition (see ``analyzers.summaries``): whether one
    function's writes run in a transaction depends on the other functions.
    """

    def build() -> frozenset[str]:
        contributions: dict[int, set[str]] = {}
        for scope in transaction_scopes(ctx):
            names = contributions.setdefault(scope.start_byte, set())
            names |= _local_references(scope)
            args = syntax.call_args(scope)
            if any(syntax.text(a) == "__MODULE__" for a in args):
                names |= {v for a in args if (v := syntax.atom_value(a)) is not None}
        return summaries.unit_summary(ctx, "ecto.transaction_helpers", contributions)

    return ctx.memo("ecto.transaction_helpers", build)


def _local_references(scope: Node) -> set[str]:
    """Local functions called (``helper(x)``) or captured (``&helper/2``) inside ``scope``."""
    names: set[str] = set()
    for node in syntax.walk(scope):
        if node.type == "call" and node != scope:
            name = syntax.call_name(node)
            if name is not None and "." not in name:
                names.add(name)
        elif node.type == "unary_operator" and syntax.operator(node) == "&":
            operand = node.child_by_field_name("operand")
            if operand is not None and operand.type == "binary_operator":
                left = operand.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    names.add(syntax.text(left))
    return names
