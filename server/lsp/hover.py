"""Hover over a finding: what was found, why it hurts, the safe pattern (from the rule's metadata)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from analyzers.explain import explain_text, hover_markdown
from analyzers.registry import get_rule
from server.lsp.code_actions import in_template

if TYPE_CHECKING:
    from server.lsp.server import PhxguardServer


def _markdown_supported(server: PhxguardServer) -> bool:
    formats = server.capability("text_document.hover.content_format") or ()
    # A client that states nothing gets plain text, as the spec's default.
    return any(str(getattr(f, "value", f)) == "markdown" for f in formats)


async def hover(server: PhxguardServer, params: types.HoverParams) -> types.Hover | None:
    """``textDocument/hover``: the explanation of every finding under the cursor.

    Waits for the document's analysis (run off the event loop) if it is not current.
    """
    found = await server.diagnostics.current(params.text_document.uri)
    if found is None:
        return None
    doc, analysis = found
    # Whether a finding sits in a ~H template is read from the tree.
    server.documents.ensure_tree(doc)
    codec = server.codec(doc)
    offset = codec.offset(params.position)
    hits = [f for f in analysis.findings if f.start <= offset <= f.end]
    if not hits:
        return None
    markdown = _markdown_supported(server)
    parts = []
    for finding in hits:
        rule = get_rule(finding.code)
        if rule is None:
            parts.append(f"{finding.code}: {finding.message}")
        elif markdown:
            parts.append(
                hover_markdown(
                    rule.meta,
                    finding.message,
                    finding.note or None,
                    template=in_template(doc, finding.start),
                )
            )
        else:
            message = "" if finding.message == rule.meta.title else finding.message + "\n\n"
            note = finding.note + "\n\n" if finding.note else ""
            template = in_template(doc, finding.start)
            parts.append(message + note + explain_text(rule.meta, template=template))
    separator = "\n\n---\n\n" if markdown else "\n\n"
    start = min(f.start for f in hits)
    end = max(f.end for f in hits)
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText,
            value=separator.join(parts),
        ),
        range=codec.range(start, end),
    )
