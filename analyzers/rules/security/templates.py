"""SC003: ``raw/1`` on data that is not a literal, inside HEEx templates (``~H`` and ``.heex``)."""

from __future__ import annotations

from collections.abc import Iterable

from tree_sitter import Node

from analyzers import heex, syntax
from analyzers.context import FileContext
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import register
from analyzers.rules.security.relevance import may_concern_security

RAW_HTML = RuleMeta(
    code="SC003",
    slug="raw-html",
    title="raw/1 renders data without HTML escaping (XSS if it can hold user input)",
    severity=Severity.INFO,
    rationale=(
        "HEEx escapes every value it renders; raw/1 switches that off. When the value comes "
        "from the database or a request (a post body, a profile field, rendered Markdown), a "
        "user can store <script> or an onerror= attribute that runs in every visitor's "
        "session: stored XSS with their cookies and their LiveView socket."
    ),
    safe_pattern=(
        "# Render the value escaped, or sanitise HTML you must keep:\n"
        "def render(assigns) do\n"
        '  ~H"""\n'
        "  <p>{@comment.body}</p>\n"
        "  <div>{raw(HtmlSanitizeEx.basic_html(@post.body_html))}</div>\n"
        '  """\n'
        "end\n"
    ),
)

RAW_FUNCTIONS = frozenset({"raw", "Phoenix.HTML.raw"})
# Functions whose result is developer-written text or HTML already made safe.
_TRUSTED_CALLS = frozenset(
    {
        "gettext",
        "dgettext",
        "pgettext",
        "dpgettext",
        "ngettext",
        "dngettext",
        "html_escape",
        "Phoenix.HTML.html_escape",
        "Phoenix.HTML.Engine.html_escape",
        "safe_to_string",
        "Phoenix.HTML.safe_to_string",
    }
)
_SANITIZERS = ("HtmlSanitizeEx.", "sanitize", "Sanitize", "scrub", "Scrub", "safe_html")


@register(RAW_HTML, languages=("elixir", "heex"), applies=may_concern_security)
def check_raw_html(ctx: FileContext) -> Iterable[Finding]:
    """SC003: ``raw(x)``/``Phoenix.HTML.raw(x)`` in a template where ``x`` is not a literal."""
    if not ctx.contains(b"raw"):
        return
    for template in heex.templates(ctx):
        for expression in template.expressions:
            if b"raw" not in ctx.source[expression.start : expression.end]:
                continue
            for call in expression.calls():
                if syntax.call_name(call) not in RAW_FUNCTIONS:
                    continue
                args = syntax.effective_args(call)
                if len(args) != 1 or _trusted(args[0]):
                    continue
                shown = " ".join(syntax.text(args[0]).split())
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                parent = call.parent
                piped = parent is not None and syntax.pipe_source(call) is not None
                yield ctx.finding(
                    RAW_HTML,
                    parent if piped and parent is not None else call,
                    f"raw({shown}) renders it without escaping: if it can contain user input, "
                    "this is stored XSS. Render it escaped, or sanitise it (HtmlSanitizeEx)",
                )


def _trusted(value: Node) -> bool:
    """A literal, or the result of translation, escaping, sanitising or generating markup."""
    if value.type in ("string", "charlist", "sigil"):
        return not any(c.type == "interpolation" for c in value.named_children)
    if value.type in ("integer", "float", "atom", "boolean", "nil"):
        return True
    if value.type == "binary_operator" and syntax.operator(value) == "|>":
        last = value.child_by_field_name("right")
        return last is not None and last.type == "call" and _trusted(last)
    if value.type == "binary_operator" and syntax.operator(value) == "<>":
        left, right = value.child_by_field_name("left"), value.child_by_field_name("right")
        return left is not None and right is not None and _trusted(left) and _trusted(right)
    if value.type != "call":
        return False
    name = syntax.call_name(value) or ""
    function = name.rsplit(".", 1)[-1]
    if name in _TRUSTED_CALLS or any(marker in name for marker in _SANITIZERS):
        return True
    called = syntax.arguments_node(value) is not None or name[:1].isupper()
    if called and not syntax.effective_args(value):
        return True  # ``readme_css()``: nothing flows in, the markup is the code's own
    if function.endswith("svg") or "highlight" in function:
        return True  # generated markup: QR codes and icons as SVG, syntax highlighters
    # Jason.encode!(data, escape: :html_safe) escapes "</script>" and friends.
    escape = syntax.option(value, "escape")
    return syntax.atom_value(escape) == "html_safe"
