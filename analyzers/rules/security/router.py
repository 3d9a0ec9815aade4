"""SC rules about router pipelines: SC001 browser-pipeline-without-csrf, SC002 ...-secure-headers.

A browser pipeline (accepts ``html``, fetches the session) must protect
against cross-site request forgery and send the secure browser headers. A
plug counts when any pipeline piped through *alongside* it in the same scope
(enclosing scopes included) provides it, or, for headers, when the endpoint
sets them for every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from analyzers.context import FileContext
from analyzers.fixes import line_ending
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.security.relevance import may_concern_security
from analyzers.rules.security.router_facts import (
    ROUTER_FACTS,
    Pipeline,
    Plug,
    RouterFacts,
    RouterFile,
    read_router,
)
from analyzers.syntax import indentation_at

SAFE_BROWSER_PIPELINE = """\
defmodule MyAppWeb.Router do
  use MyAppWeb, :router

  pipeline :browser do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :fetch_live_flash
    plug :put_root_layout, html: {MyAppWeb.Layouts, :root}
    plug :protect_from_forgery
    plug :put_secure_browser_headers
  end

  scope "/", MyAppWeb do
    pipe_through :browser
    live "/posts", PostLive.Index, :index
  end
end"""

BROWSER_PIPELINE_WITHOUT_CSRF = RuleMeta(
    code="SC001",
    slug="browser-pipeline-without-csrf",
    title="Browser pipeline (html + session) without `:protect_from_forgery` (CSRF)",
    severity=Severity.ERROR,
    rationale=(
        "A pipeline that serves HTML and reads the session cookie authenticates requests by "
        "that cookie, which the browser sends with requests started by any other site. "
        "Without `:protect_from_forgery`, a page elsewhere can submit forms (and LiveView "
        "sockets can connect) as the logged-in user: cross-site request forgery. Phoenix's "
        "generated `:browser` pipeline plugs it; keep it in every pipeline that fetches the "
        "session, or in a pipeline always piped through with it."
    ),
    safe_pattern=SAFE_BROWSER_PIPELINE,
    fix_title="Add `plug :protect_from_forgery` to the pipeline",
    related=("SC002",),
)

BROWSER_PIPELINE_WITHOUT_SECURE_HEADERS = RuleMeta(
    code="SC002",
    slug="browser-pipeline-without-secure-headers",
    title="Browser pipeline (html + session) without `:put_secure_browser_headers`",
    severity=Severity.WARNING,
    rationale=(
        "`:put_secure_browser_headers` sets `x-frame-options`, `x-content-type-options`, "
        "`referrer-policy` and friends: without them, your logged-in pages can be framed by "
        "another site (clickjacking) and responses can be content-sniffed. Plug it in the "
        "browser pipeline (with a `content-security-policy` if you have one), or set the "
        "headers for every request in the endpoint."
    ),
    safe_pattern=SAFE_BROWSER_PIPELINE,
    fix_title="Add `plug :put_secure_browser_headers` to the pipeline",
    related=("SC001",),
)


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def provides_csrf(plug: str) -> bool:
    """``:protect_from_forgery``, ``Plug.CSRFProtection`` or a custom CSRF plug."""
    name = _normalise(plug)
    return "forgery" in name or "csrf" in name


def provides_secure_headers(plug: str) -> bool:
    """``:put_secure_browser_headers`` or a custom security-headers / CSP plug."""
    name = _normalise(plug)
    return (
        ("header" in name and "secur" in name) or "contentsecuritypolicy" in name or ("csp" in name)
    )


def _model(ctx: FileContext) -> RouterFile:
    return ctx.memo("security.router", lambda: read_router(ctx.root))


def _effective_plugs(
    model: RouterFile, name: str, seen: frozenset[str] = frozenset()
) -> list[Plug]:
    """A pipeline's plugs, pipelines plugged by name expanded (Phoenix compiles them to plugs)."""
    by_name = {p.name: p for p in model.pipelines}
    pipeline = by_name.get(name)
    if pipeline is None or name in seen:
        return []
    plugs: list[Plug] = []
    for plug in pipeline.plugs:
        inner = plug.name[1:] if plug.name.startswith(":") else None
        if inner is not None and inner in by_name:
            plugs.extend(_effective_plugs(model, inner, seen | {name}))
        else:
            plugs.append(plug)
    return plugs


def _plug_names(model: RouterFile, name: str) -> list[str]:
    return [p.name for p in _effective_plugs(model, name)]


def _is_browser(model: RouterFile, pipeline: Pipeline) -> bool:
    plugs = _effective_plugs(model, pipeline.name)
    return any(p.name == ":fetch_session" for p in plugs) and any(
        p.name == ":accepts" and any("html" in a for a in p.accepts) for p in plugs
    )


def _missing_in(
    model: RouterFile, pipeline: Pipeline, provides: Callable[[str], bool]
) -> list[str] | None:
    """Scopes (paths) where nothing piped through provides the plug; None when all are covered."""
    contexts = [s for s in model.scopes if pipeline.name in s.pipelines]
    routed = [s for s in contexts if s.has_routes] or contexts
    if not routed:
        if any(provides(p) for p in _plug_names(model, pipeline.name)):
            return None
        return []
    missing = [
        s.path
        for s in routed
        if not any(provides(p) for q in s.pipelines for p in _plug_names(model, q))
    ]
    return missing or None


@register(BROWSER_PIPELINE_WITHOUT_CSRF, applies=may_concern_security)
def check_browser_pipeline_without_csrf(ctx: FileContext) -> Iterator[Finding]:
    """Flag browser pipelines that no pipeline alongside them protects from forgery."""
    yield from _check(ctx, BROWSER_PIPELINE_WITHOUT_CSRF, ":protect_from_forgery", provides_csrf)


@register(BROWSER_PIPELINE_WITHOUT_SECURE_HEADERS, applies=may_concern_security)
def check_browser_pipeline_without_secure_headers(ctx: FileContext) -> Iterator[Finding]:
    """Flag browser pipelines without secure headers (here, alongside, or in the endpoint)."""
    if not ctx.contains(b"pipeline"):
        return
    facts = ctx.facts.get(ROUTER_FACTS)
    if isinstance(facts, RouterFacts) and any(
        provides_secure_headers(p) for p in facts.endpoint_plugs
    ):
        return
    yield from _check(
        ctx,
        BROWSER_PIPELINE_WITHOUT_SECURE_HEADERS,
        ":put_secure_browser_headers",
        provides_secure_headers,
    )


def _check(
    ctx: FileContext, meta: RuleMeta, plug: str, provides: Callable[[str], bool]
) -> Iterator[Finding]:
    if not ctx.contains(b"pipeline") or not ctx.contains(b"fetch_session"):
        return
    model = _model(ctx)
    for pipeline in model.pipelines:
        if not _is_browser(model, pipeline):
            continue
        missing = _missing_in(model, pipeline, provides)
        if missing is None:
            continue
        if missing:
            scopes = ", ".join(f'"{m}"' for m in missing)
            gap = f"in scope {scopes} no pipeline piped through with it plugs `{plug}`"
        else:
            gap = f"it does not plug `{plug}`"
        message = f"Pipeline `:{pipeline.name}` serves HTML with a session, but {gap}"
        fix = Fix(meta.fix_title or "", (_insert_plug(ctx.source, pipeline, plug),))
        yield ctx.finding(meta, (pipeline.start, pipeline.head_end), message, [fix])


def _insert_plug(source: bytes, pipeline: Pipeline, plug: str) -> Edit:
    """A ``plug`` line after the session plugs (and after CSRF protection, for headers)."""
    anchors = [":fetch_session", ":fetch_live_flash", ":fetch_flash"]
    if plug == ":put_secure_browser_headers":
        anchors.append(":protect_from_forgery")
    placed = [p for p in pipeline.plugs if p.name in anchors] or list(pipeline.plugs[-1:])
    anchor = placed[-1]
    end = anchor.end
    while end < len(source) and source[end : end + 1] not in (b"\n", b"\r"):
        end += 1
    indent = indentation_at(source, anchor.start)
    return Edit(end, end, f"{line_ending(source)}{indent}plug {plug}")
