"""The "Convert @items to a stream" fix (LV001, LV006): one fix across module and template.

In the module, every write of the assign becomes a stream operation:
``assign(socket, :items, x)`` (also keyword, ``assign_new`` and piped forms)
becomes ``stream(socket, :items, x)`` (with ``reset: true`` outside
``mount``, where it replaces a list that may already be shown), and a growing
``update`` becomes ``stream_insert``. In the template (a ``~H`` sigil of the
module or its colocated ``.heex`` file) the one ``:for`` over ``@items``
becomes ``:for={{dom_id, item} <- @streams.items}`` with ``id={dom_id}`` on
the looped element and ``phx-update="stream"`` plus an ``id`` on its parent.

A stream cannot be read back, counted or looped twice: when the module or
template uses the assign any other way, there is no fix and
:attr:`StreamPlan.reason` says why (the hover shows it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from analyzers import heex, syntax
from analyzers.context import FileContext
from analyzers.model import Edit, Fix
from analyzers.rules.liveview.facts import LIVEVIEW_FACTS, LiveViewFacts
from analyzers.rules.liveview.module_rules import LiveModule
from analyzers.rules.liveview.template_sources import TEMPLATE_SOURCES, template_source
from analyzers.rules.liveview.writes import AssignWrite, Growth, assign_writes, assigns_read


@dataclass(frozen=True)
class StreamPlan:
    """The conversion of one assign: a fix, or the reason there is none."""

    fix: Fix | None
    reason: str = ""


def stream_plan(ctx: FileContext, module: LiveModule, key: str) -> StreamPlan:
    """Plan (memoised per module and assign) the conversion of ``@key`` to a stream."""
    memo_key = f"liveview.stream.{module.node.start_byte}.{key}"
    return ctx.memo(memo_key, lambda: _plan(ctx, module, key))


def _plan(ctx: FileContext, module: LiveModule, key: str) -> StreamPlan:
    module_edits, reason = _module_edits(ctx, module, key)
    if reason:
        return StreamPlan(None, reason)
    templates = module_templates(ctx, module)
    if not templates:
        return StreamPlan(None, "no automatic fix: the module's template was not found")
    uses = [(path, template, use) for path, template in templates for use in _uses(template, key)]
    sites = [site for path, template in templates for site in _sites(path, template, key)]
    if len(sites) != 1:
        found = "loops over it more than once" if sites else "has no loop over it"
        return StreamPlan(None, f"no automatic fix: the template {found}")
    site = sites[0]
    others = [u for u in uses if not (u[1] is site.template and u[2] == site.use)]
    if others:
        _, other_template, (start, end) = others[0]
        snippet = _snippet(other_template.source, start, end)
        return StreamPlan(
            None,
            f"no automatic fix: the template also reads `@{key}` in `{snippet}`, "
            "which a stream cannot serve (streams are write-only: no length, Enum or "
            "comparison)",
        )
    template_edits, reason = _loop_edits(site, key)
    if reason:
        return StreamPlan(None, reason)
    edits = [
        *module_edits,
        *(Edit(e.start, e.end, e.new_text, site.path) for e in template_edits),
    ]
    return StreamPlan(Fix(f"Convert @{key} to a stream", tuple(edits)))


@dataclass(frozen=True)
class _Site:
    """One loop over ``@key`` in a template: ``:for={...}`` or ``<%= for ... do %>``.

    ``head`` is the generator text to rewrite, ``use`` where it reads ``@key``,
    ``span`` the loop's whole extent inside its parent (the element, or the
    EEx ``for``/``end`` directives around it); ``simple`` is False when the
    generator has filters or the EEx body is not exactly one element.
    """

    path: str | None
    template: heex.Template
    element: heex.Element
    head: tuple[int, int]
    pattern: str
    use: tuple[int, int]
    span: tuple[int, int]
    simple: bool


def _sites(path: str | None, template: heex.Template, key: str) -> list[_Site]:
    found: list[_Site] = []
    for loop in template.loops_over(key):
        if loop.assign != key:
            continue
        found.append(
            _Site(
                path,
                template,
                loop.element,
                (loop.expression.start, loop.expression.end),
                syntax.text(loop.pattern),
                _use_in(template, key, loop.collection.start_byte, loop.collection.end_byte),
                (loop.element.start, loop.element.end),
                len(loop.expression.nodes) == 1,
            )
        )
    generator = re.compile(
        rb"\A\s*for\s+(?P<gen>(?P<pattern>[^\n]+?)\s*<-\s*@"
        + re.escape(key.encode())
        + rb")\s+do\s*\Z"
    )
    expressions = template.expressions
    for index, expression in enumerate(expressions):
        if expression.kind != "partial" or expression.element is None:
            continue
        match = generator.match(template.source[expression.start : expression.end])
        if match is None:
            continue
        site = _eex_site(path, template, expressions[index + 1 :], expression, match)
        if site is not None:
            found.append(site)
    return found


def _eex_site(
    path: str | None,
    template: heex.Template,
    following: list[heex.Expression],
    head: heex.Expression,
    match: re.Match[bytes],
) -> _Site | None:
    """``<%= for item <- @key do %> <li>...</li> <% end %>`` inside one parent element."""
    parent = head.element
    directive = head.node.parent
    closing = next(
        (
            e
            for e in following
            if e.element is parent and e.kind == "partial" and e.text.strip() == "end"
        ),
        None,
    )
    if parent is None or directive is None or closing is None or closing.node.parent is None:
        return None
    end_directive = closing.node.parent
    inside = [
        c
        for c in parent.children
        if directive.end_byte <= c.start and c.end <= end_directive.start_byte
    ]
    if not inside:
        return None
    element = inside[0]
    source = template.source
    simple = (
        len(inside) == 1
        and not source[directive.end_byte : element.start].strip()
        and not source[element.end : end_directive.start_byte].strip()
    )
    at = head.start
    gen_start, gen_end = match.span("gen")
    use_start = at + gen_start + match.group("gen").rindex(b"@")
    return _Site(
        path,
        template,
        element,
        (at + gen_start, at + gen_end),
        match.group("pattern").decode("utf-8", "replace").strip(),
        (use_start, at + gen_end),
        (directive.start_byte, end_directive.end_byte),
        simple,
    )


def _use_in(template: heex.Template, key: str, start: int, end: int) -> tuple[int, int]:
    """The ``@key`` read inside ``[start, end)`` (the loop's collection)."""
    for use in _uses(template, key):
        if start <= use[0] and use[1] <= end:
            return use
    return (start, end)


def _module_edits(ctx: FileContext, module: LiveModule, key: str) -> tuple[list[Edit], str]:
    writes = [w for w in assign_writes(module) if w.key == key]
    if not any(w.kind in ("assign", "assign_new") for w in writes):
        return [], "no automatic fix: the list is never assigned in this module"
    if _reads_in_code(module, key):
        return [], f"no automatic fix: the module reads `@{key}` back, which a stream cannot serve"
    edits: list[Edit] = []
    for write in writes:
        edit = _convert(ctx, write)
        if edit is None:
            return [], (
                f"no automatic fix: `{_snippet(ctx.source, write.call.start_byte, write.call.end_byte)}`"
                " has no stream equivalent"
            )
        edits.extend(edit)
    return edits, ""


def _reads_in_code(module: LiveModule, key: str) -> bool:
    """``socket.assigns.key`` / ``assigns[:key]`` outside the writes being converted."""
    for node in syntax.walk(module.node):
        if assigns_read(node) == key and not _inside_growth(node, module, key):
            return True
        if node.type == "access_call" and syntax.text(node).endswith(f"assigns[:{key}]"):
            return True
    return False


def _inside_growth(node: Node, module: LiveModule, key: str) -> bool:
    for write in assign_writes(module):
        if write.key == key and write.growth is not None and write.value is not None:
            value = write.value
            if value.start_byte <= node.start_byte and node.end_byte <= value.end_byte:
                return True
    return False


def _convert(ctx: FileContext, write: AssignWrite) -> list[Edit] | None:
    call = write.call
    piped = syntax.pipe_source(call) is not None
    socket = "" if piped else syntax.text(syntax.effective_args(call)[0]) + ", "
    if write.growth is not None:
        return [_insert_edit(call, socket, write.key, write.growth)]
    if write.kind == "update" or write.value is None:
        return None
    value = ctx.text(write.value.start_byte, write.value.end_byte)
    reset = ", reset: true" if write.function != "mount" else ""
    if write.kind == "assign" and write.style == "positional":
        target = syntax.call_target(call)
        if target is None or target.type != "identifier":
            return None
        edits = [Edit(target.start_byte, target.end_byte, "stream")]
        if reset:
            last = syntax.call_args(call)[-1]
            edits.append(Edit(last.end_byte, last.end_byte, reset))
        return edits
    stream = f"stream({socket}:{write.key}, {value}{reset})"
    if write.kind == "assign_new" or write.rest is None:
        return [Edit(call.start_byte, call.end_byte, stream)]
    # assign(socket, a: 1, items: x) keeps the other keys and streams the list.
    if piped:
        return [
            Edit(
                call.start_byte,
                call.end_byte,
                f"assign({write.rest}) |> stream(:{write.key}, {value}{reset})",
            )
        ]
    return [
        Edit(
            call.start_byte,
            call.end_byte,
            f"stream(assign({socket}{write.rest}), :{write.key}, {value}{reset})",
        )
    ]


def _insert_edit(call: Node, socket: str, key: str, growth: Growth) -> Edit:
    at = ", at: 0" if growth.prepend else ""
    return Edit(call.start_byte, call.end_byte, f"stream_insert({socket}:{key}, {growth.item}{at})")


def module_templates(
    ctx: FileContext, module: LiveModule
) -> list[tuple[str | None, heex.Template]]:
    """The module's templates: its ``~H`` sigils (path None), else its ``.heex`` files."""
    return ctx.memo(f"liveview.templates.{module.node.start_byte}", lambda: _templates(ctx, module))


def _templates(ctx: FileContext, module: LiveModule) -> list[tuple[str | None, heex.Template]]:
    inside: list[tuple[str | None, heex.Template]] = [
        (None, t)
        for t in heex.templates(ctx)
        if module.node.start_byte <= t.start and t.end <= module.node.end_byte
    ]
    if inside:
        return inside
    found: list[tuple[str | None, heex.Template]] = []
    facts = ctx.facts.get(LIVEVIEW_FACTS)
    if not isinstance(facts, LiveViewFacts):
        return found
    sources = ctx.facts.get(TEMPLATE_SOURCES)
    for path in facts.templates_of(module.aliases.module):
        source = template_source(sources, path)
        if source is not None:
            found.append((path, heex.template_of_heex(source)))
    return found


def _uses(template: heex.Template, key: str) -> list[tuple[int, int]]:
    """Every written read of ``@key``/``assigns.key`` in a template (comments skipped)."""
    pattern = re.compile(
        rb"(?<![\w@])@" + re.escape(key.encode()) + rb"(?![\w?!])"
        rb"|\bassigns(?:\.|\[:)" + re.escape(key.encode()) + rb"(?![\w?!])"
    )
    found: list[tuple[int, int]] = []
    for match in pattern.finditer(template.source, template.start, template.end):
        start, end = match.span()
        if any(c_start <= start < c_end for c_start, c_end in template.comments):
            continue
        found.append((start, end))
    return found


def _loop_edits(site: _Site, key: str) -> tuple[list[Edit], str]:
    element = site.element
    parent = element.parent
    source = site.template.source
    if element.kind != "tag":
        return [], "no automatic fix: the loop is on a component, which may not accept an `id`"
    if not site.simple or b"dom_id" in source[site.span[0] : site.span[1]]:
        return [], (
            "no automatic fix: the loop has filters, a body of more than one element, "
            "or already names `dom_id`"
        )
    if parent is None or parent.kind != "tag":
        return [], 'no automatic fix: the loop has no parent tag to hold `phx-update="stream"`'
    if not _only_child(source, parent, site.span):
        return [], "no automatic fix: the loop's parent has other content besides the stream items"
    update = parent.attribute("phx-update")
    if update is not None and update.value != "stream":
        return [], f'no automatic fix: the loop\'s parent already has `phx-update="{update.value}"`'
    edits = [
        Edit(site.head[0], site.head[1], f"{{dom_id, {site.pattern}}} <- @streams.{key}"),
        heex.set_attribute(source, element, "id", "dom_id", expression=True),
    ]
    if update is None:
        edits.append(heex.set_attribute(source, parent, "phx-update", "stream"))
    if parent.attribute("id") is None:
        taken = {a.value for e in site.template.elements for a in e.attributes if a.name == "id"}
        edits.append(
            heex.set_attribute(source, parent, "id", key if key not in taken else f"{key}-stream")
        )
    return _merge(edits), ""


def _merge(edits: list[Edit]) -> list[Edit]:
    """Edits at the same insertion point become one (their order kept)."""
    merged: list[Edit] = []
    for edit in sorted(edits, key=lambda e: e.start):
        last = merged[-1] if merged else None
        if last is not None and last.start == last.end == edit.start == edit.end:
            merged[-1] = Edit(last.start, last.end, last.new_text + edit.new_text, last.path)
        else:
            merged.append(edit)
    return merged


def _only_child(source: bytes, parent: heex.Element, span: tuple[int, int]) -> bool:
    close = next((c for c in parent.node.children if c.type.startswith("end_")), None)
    if close is None:
        return False
    before = source[parent.open_end : span[0]]
    after = source[span[1] : close.start_byte]
    return not before.strip() and not after.strip()


def _snippet(source: bytes, start: int, end: int) -> str:
    """A short one-line excerpt around a use, for messages."""
    line_start = syntax.line_start(source, start)
    line_end = source.find(b"\n", end)
    text = source[line_start : line_end if line_end != -1 else len(source)].decode(
        "utf-8", "replace"
    )
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
