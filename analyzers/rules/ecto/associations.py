"""EC005 unloaded-association: ``record.assoc`` on a record loaded without that preload.

In one function: ``post = Repo.get!(Post, id)`` (also ``get``, ``get_by[!]``,
``one[!]``, written inline, through a pipeline, or one variable away) whose
query names a schema the workspace declares, then ``post.comments`` where
``comments`` is an association of that schema (``has_many``, ``has_one``,
``belongs_to``, ``many_to_many``). Not flagged when the query or a
``Repo.preload`` of the record mentions the association, when the variable
is rebound in between, or when the function checks ``Ecto.assoc_loaded?``
on it. Inserted records
are not followed: ``cast_assoc``/``put_assoc`` load what they were given.

The fix adds the association to the ``from`` query's ``preload:`` when the
query is a ``from`` with keyword options, and otherwise pipes the loaded
record into ``Repo.preload(:assoc)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import syntax
from analyzers.context import FileContext
from analyzers.fixes import add_keyword_option
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.ecto.calls import RepoCall, aliases_for, repo_call, repo_calls_of
from analyzers.rules.ecto.facts import SCHEMAS, SchemaFacts, collect_schemas

LOADS = frozenset({"get", "get!", "get_by", "get_by!", "one", "one!"})

META = RuleMeta(
    code="EC005",
    slug="unloaded-association",
    title="Association read on a record loaded without preloading it",
    severity=Severity.ERROR,
    rationale=(
        "Ecto never loads associations lazily: a record fetched without preload has "
        "%Ecto.Association.NotLoaded{} in each association field. Enumerating it raises "
        "Protocol.UndefinedError and rendering it fails, on the first request that reaches "
        "that line."
    ),
    safe_pattern=(
        "def get_post_with_comments!(id) do\n"
        "  Post\n"
        "  |> Repo.get!(id)\n"
        "  |> Repo.preload(:comments)\n"
        "end\n"
    ),
    fix_title="Preload the association",
)


@dataclass(frozen=True)
class Load:
    """``variable = <repo load>``: the binding, the repo call and the schema it loads."""

    variable: str
    binding: Node
    value: Node
    call: RepoCall
    schema: SchemaFacts


@register(META, scope="definition")
def check(ctx: FileContext) -> Iterable[Finding]:
    """EC005: association fields read on records loaded without them."""
    if not ctx.contains(b"Repo"):
        return
    # Schemas first: with no workspace facts and no schema in the file this needs no call
    # index. A finding depends only on its definition and what lies outside definitions
    # (aliases, schema blocks): after an edit only the edited definition is read again.
    schemas = _schemas(ctx)
    if not schemas or not _may_load(ctx):
        return
    for load in _loads(ctx, schemas):
        reported: set[str] = set()
        for use, assoc in _association_reads(load):
            if assoc in reported or _preloaded(load, assoc):
                continue
            reported.add(assoc)
            fix = _fix(ctx, load, assoc)
            yield ctx.finding(
                META,
                use,
                f"`{load.variable}.{assoc}` is not loaded: `{load.variable}` comes from "
                f"`{syntax.call_name(load.call.node)}` without preloading `:{assoc}`",
                [fix] if fix is not None else [],
            )


def _may_load(ctx: FileContext) -> bool:
    """Whether any call is named like a load: a repo call is indexed by its function name.

    Asked of the call index rather than the text: a text test for ``get``/``one``
    costs more (short needles: ~2.5 us each on a 120-line module).
    """
    return ctx.calls_any(LOADS)


def _schemas(ctx: FileContext) -> dict[str, SchemaFacts]:
    def build() -> dict[str, SchemaFacts]:
        known: dict[str, SchemaFacts] = dict(ctx.facts.get(SCHEMAS) or {})
        if ctx.contains(b"schema"):
            known.update(collect_schemas(ctx.tree))
        return known

    return ctx.memo("ecto.schemas", build)


def _loads(ctx: FileContext, schemas: dict[str, SchemaFacts]) -> Iterator[Load]:
    for found in repo_calls_of(ctx, LOADS):
        value = syntax.pipeline_top(found.node)
        binding = value.parent
        if binding is None or binding.type != "binary_operator" or syntax.operator(binding) != "=":
            continue
        left = binding.child_by_field_name("left")
        if (
            left is None
            or left.type != "identifier"
            or binding.child_by_field_name("right") != value
        ):
            continue
        query = _query_of(found)
        if query is None:
            continue
        schema_name = _schema_name(query)
        aliases = aliases_for(ctx, found.node)
        if schema_name is None:
            continue
        full = aliases.expand(schema_name) if aliases is not None else schema_name
        schema = schemas.get(full)
        if schema is not None and schema.associations:
            yield Load(syntax.text(left), binding, value, found, schema)


def _query_of(found: RepoCall) -> Node | None:
    args = syntax.positional_args(found.node)
    if not args:
        return None
    query = args[0]
    if query.type == "identifier":
        bound = syntax.bound_value(query)
        return bound
    return query


def _schema_name(query: Node) -> str | None:
    """The schema alias a query reads from: ``Post``, ``from p in Post``, ``Post |> where(...)``."""
    if query.type == "alias":
        return syntax.text(query)
    if query.type == "binary_operator" and syntax.operator(query) == "|>":
        left = query.child_by_field_name("left")
        return _schema_name(left) if left is not None else None
    if query.type == "call" and syntax.call_name(query) in {"from", "Ecto.Query.from"}:
        args = syntax.call_args(query)
        source = args[0] if args else None
        if (
            source is not None
            and source.type == "binary_operator"
            and syntax.operator(source) == "in"
        ):
            right = source.child_by_field_name("right")
            return syntax.text(right) if right is not None and right.type == "alias" else None
        return syntax.text(source) if source is not None and source.type == "alias" else None
    if query.type == "call":
        piped = syntax.pipe_source(query)
        if piped is not None:
            return _schema_name(piped)
        args = syntax.call_args(query)
        if args and syntax.call_function(query) in {"where", "order_by", "select", "join"}:
            return _schema_name(args[0])
    return None


def _preloaded(load: Load, assoc: str) -> bool:
    """The load's query or pipeline preloads ``assoc`` (or preloads something unreadable)."""
    query = _query_of(load.call)
    for root in (query, load.value):
        for value in _preload_values(root):
            if value.type not in {"list", "atom", "keywords"}:
                return True  # preload built at run time: assume it covers the association
            for inner in syntax.walk(value):
                if syntax.atom_value(inner) == assoc or (
                    inner.type == "keyword" and syntax.keyword_name(inner) == assoc
                ):
                    return True
    return False


def _preload_values(root: Node | None) -> Iterator[Node]:
    if root is None:
        return
    for inner in syntax.walk(root):
        if inner.type == "pair":
            key = inner.child_by_field_name("key")
            value = inner.child_by_field_name("value")
            if key is not None and value is not None and syntax.keyword_name(key) == "preload":
                yield value
        elif inner.type == "call" and syntax.call_function(inner) == "preload":
            args = syntax.positional_args(inner)
            yield from args[1:]


def _association_reads(load: Load) -> Iterator[tuple[Node, str]]:
    definition = syntax.enclosing_def(load.binding)
    if definition is None:
        return
    for node in syntax.walk(definition):
        if node.start_byte < load.binding.end_byte:
            continue
        if _rebinds(node, load.variable) or _preloads(node, load.variable):
            return
        assoc = _field_read(node, load.variable)
        if assoc is None or load.schema.association(assoc) is None:
            continue
        if _checks_loaded(definition, f"{load.variable}.{assoc}"):
            continue
        yield node, assoc


def _field_read(node: Node, variable: str) -> str | None:
    """``comments`` for ``post.comments`` (a field access, not a call with arguments)."""
    if node.type != "call" or syntax.arguments_node(node) is not None:
        return None
    target = syntax.call_target(node)
    if target is None or target.type != "dot":
        return None
    left = target.child_by_field_name("left")
    right = target.child_by_field_name("right")
    if left is None or right is None or left.type != "identifier" or syntax.text(left) != variable:
        return None
    return syntax.text(right)


def _rebinds(node: Node, variable: str) -> bool:
    if node.type != "binary_operator" or syntax.operator(node) not in {"=", "<-"}:
        return False
    left = node.child_by_field_name("left")
    return left is not None and any(
        n.type == "identifier" and syntax.text(n) == variable for n in syntax.walk(left)
    )


def _preloads(node: Node, variable: str) -> bool:
    if node.type != "call" or syntax.call_function(node) != "preload":
        return False
    args = syntax.effective_args(node)
    return bool(args) and args[0].type == "identifier" and syntax.text(args[0]) == variable


def _checks_loaded(definition: Node, field: str) -> bool:
    """The function tests whether the association is loaded (``Ecto.assoc_loaded?``)."""
    body = syntax.text(definition)
    return f"assoc_loaded?({field})" in body or "Association.NotLoaded" in body


def _fix(ctx: FileContext, load: Load, assoc: str) -> Fix | None:
    query = syntax.positional_args(load.call.node)[0]
    if query.type == "call" and syntax.call_name(query) == "from" and syntax.options_node(query):
        existing = syntax.option(query, "preload")
        if existing is None:
            edit = add_keyword_option(ctx.source, query, "preload", f"[:{assoc}]")
        elif existing.type == "atom":
            edit = Edit(
                existing.start_byte, existing.end_byte, f"[{syntax.text(existing)}, :{assoc}]"
            )
        elif existing.type == "list" and existing.named_children:
            last = existing.named_children[-1]
            edit = Edit(last.end_byte, last.end_byte, f", :{assoc}")
        else:
            return None
        return Fix(META.fix_title or "", (edit,))
    receiver = syntax.call_receiver(load.call.node)
    if receiver is None or repo_call(ctx, load.call.node) is None:
        return None
    value = load.value
    return Fix(
        META.fix_title or "",
        (Edit(value.end_byte, value.end_byte, f" |> {receiver}.preload(:{assoc})"),),
    )
