"""Rendering rule metadata for people: hover Markdown, ``explain`` text, HTML docs, README table.

Every view is rendered from :class:`~analyzers.model.RuleMeta`, so they never
disagree.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

from analyzers.model import RuleMeta

DOCS_FILE = Path(__file__).parent / "docs" / "rules.html"
FAMILY_TITLES = {
    "MG": "Ecto migrations",
    "LV": "Phoenix LiveView",
    "EC": "Ecto queries and writes",
    "PS": "PubSub, Channels, Presence",
    "OT": "OTP / BEAM runtime",
    "SC": "Phoenix security-relevant config",
}


def anchor(meta: RuleMeta) -> str:
    """The HTML anchor of a rule in the docs: ``mg001-index-not-concurrent``."""
    return f"{meta.code.lower()}-{meta.slug}"


def docs_uri(meta: RuleMeta) -> str:
    """``file:`` URI of the rule's section in the docs shipped inside the package (works offline)."""
    return f"{DOCS_FILE.resolve().as_uri()}#{anchor(meta)}"


def suppression_comment(code: str, *, template: bool = False) -> str:
    """The disable-next-line directive as written in Elixir, or in a HEEx template."""
    directive = f"phxguard:disable-next-line {code} -- reason"
    return f"<%!-- {directive} --%>" if template else f"# {directive}"


def hover_markdown(
    meta: RuleMeta, message: str | None = None, note: str | None = None, *, template: bool = False
) -> str:
    """Hover text: what was found, why it hurts, and the safe pattern as Elixir code.

    ``template``: the finding is in HEEx, so the suppression shown is a HEEx comment.
    """
    parts = [f"**{meta.code} {meta.slug}** — {meta.title}"]
    if message and message != meta.title:
        parts.append(message)
    parts.append(meta.rationale)
    if note:
        parts.append(note)
    parts.append("**Safe pattern**\n\n```elixir\n" + meta.safe_pattern.strip("\n") + "\n```")
    if meta.fix_title:
        parts.append(f"Quick fix: *{meta.fix_title}*.")
    parts.append(
        f"Silence with `{suppression_comment(meta.code, template=template)}`. "
        f"[Rule documentation]({docs_uri(meta)})"
    )
    return "\n\n".join(parts)


def explain_text(meta: RuleMeta, *, template: bool = False) -> str:
    """Plain-text explanation for ``phxguard explain CODE`` (``template``: as in hover_markdown)."""
    lines = [
        f"{meta.code} {meta.slug} ({meta.severity.label})",
        "",
        meta.title,
        "",
        meta.rationale,
        "",
        "Safe pattern:",
        "",
        *("    " + line if line else "" for line in meta.safe_pattern.strip("\n").splitlines()),
        "",
    ]
    if meta.fix_title:
        lines += [f"Quick fix: {meta.fix_title}", ""]
    lines.append(f"Suppress: {suppression_comment(meta.code, template=template)}")
    return "\n".join(lines)


def markdown_table(metas: Iterable[RuleMeta]) -> str:
    """The README rule table (code, slug, severity, what it flags, fix)."""
    rows = ["| code | slug | severity | what it flags | quick fix |", "|---|---|---|---|---|"]
    for meta in metas:
        fix = meta.fix_title or "hint"
        title = meta.title.replace("|", "\\|")
        rows.append(f"| {meta.code} | {meta.slug} | {meta.severity.label} | {title} | {fix} |")
    return "\n".join(rows) + "\n"


def html_document(metas: Iterable[RuleMeta], version: str) -> str:
    """A self-contained HTML page documenting every rule, one anchored section each."""
    metas = list(metas)
    toc = "\n".join(
        f'<li><a href="#{anchor(m)}"><code>{m.code}</code> {html.escape(m.slug)}</a></li>'
        for m in metas
    )
    sections = []
    for meta in metas:
        fix = (
            f"<p><strong>Quick fix:</strong> {html.escape(meta.fix_title)}</p>"
            if meta.fix_title
            else ""
        )
        sections.append(
            f'<section id="{anchor(meta)}">\n'
            f"<h2><code>{meta.code}</code> {html.escape(meta.slug)}</h2>\n"
            f"<p><em>{html.escape(FAMILY_TITLES.get(meta.family, meta.family))}"
            f" · default severity: {meta.severity.label}</em></p>\n"
            f"<p><strong>{html.escape(meta.title)}</strong></p>\n"
            f"<p>{html.escape(meta.rationale)}</p>\n"
            f"<h3>Safe pattern</h3>\n<pre><code>{html.escape(meta.safe_pattern.strip())}</code></pre>\n"
            f"{fix}\n"
            f"<p>Suppress: <code># phxguard:disable-next-line {meta.code} -- reason</code></p>\n"
            "</section>"
        )
    body = "\n".join(sections)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>phxguard {version} rules</title>\n"
        "<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}pre{background:#f4f4f4;padding:.8rem;overflow:auto}"
        "section{border-top:1px solid #ddd;margin-top:2rem}</style>\n</head>\n<body>\n"
        f"<h1>phxguard {version} rules</h1>\n<ul>\n{toc}\n</ul>\n{body}\n</body>\n</html>\n"
    )
