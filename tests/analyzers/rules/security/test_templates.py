"""SC003 raw-html: raw/1 on non-literal data in ~H sigils and .heex files; HEEx suppressions."""

from __future__ import annotations

from analyzers.engine import analyze
from analyzers.model import Finding
from tests.ruletools import dedent, flagged_text, only

MODULE_PATH = "lib/blog_web/live/post_live/show.ex"
TEMPLATE_PATH = "lib/blog_web/live/post_live/show.html.heex"


def heex_check(template: str) -> list[Finding]:
    result = analyze(dedent(template).encode(), TEMPLATE_PATH)
    assert not result.failures
    return [f for f in result.findings if f.code == "SC003"]


def heex_flagged(template: str) -> list[str]:
    text = dedent(template).encode()
    return [text[f.start : f.end].decode() for f in heex_check(template)]


def test_sc003_flags_raw_of_assigns_fields_calls_and_interpolations() -> None:
    template = """
    <article>{raw(@post.body_html)}</article>
    <%= raw @bio %>
    <div>{@comment.body |> raw()}</div>
    <p>{Phoenix.HTML.raw(Earmark.as_html!(@post.body))}</p>
    <p>{raw("<b>#{@user.name}</b>")}</p>
    <p>{raw(@flash_html || "")} {raw(render_markdown(@post.body))}</p>
    <p>{raw(@post.body
         |> Markdown.to_html())}</p>
    """
    assert heex_flagged(template) == [
        "raw(@post.body_html)",
        "raw @bio",
        "@comment.body |> raw()",
        "Phoenix.HTML.raw(Earmark.as_html!(@post.body))",
        'raw("<b>#{@user.name}</b>")',
        'raw(@flash_html || "")',
        "raw(render_markdown(@post.body))",
        "raw(@post.body\n     |> Markdown.to_html())",
    ]
    assert "raw(@post.body |> Markdown.to_html())" in heex_check(template)[-1].message
    assert "raw(@post.body_html)" in heex_check(template)[0].message


def test_sc003_quiet_for_literals_translations_sanitisers_and_safe_json() -> None:
    template = """
    <p>{raw("&nbsp;&mdash;")} {raw(~s(<br/>))} {raw("<hr/>" <> "<hr/>")}</p>
    <p>{raw(gettext("Read the <a href=\\"/terms\\">terms</a>"))}</p>
    <p>{raw(HtmlSanitizeEx.basic_html(@post.body))} {raw(sanitize_html(@bio))}</p>
    <script>window.data = <%= raw(Jason.encode!(@data, escape: :html_safe)) %></script>
    <p>{@post.body}</p>
    <p>{draw(@shape)} {Raw.thing(@x)}</p>
    <style>{raw(MyAppWeb.ReadmeView.readme_css())} {raw(Theme.css)}</style>
    <div>{raw(qr_code_svg(@user, @secret))} {raw(Makeup.highlight(@source))}</div>
    <div>{raw(@bio |> Markdown.to_html() |> HtmlSanitizeEx.basic_html())}</div>
    <div>{raw(@bio |> Helpers.md_to_safe_html())}</div>
    """
    assert heex_flagged(template) == []


def test_sc003_in_a_sigil_and_not_in_plain_elixir_helpers() -> None:
    source = '''
    defmodule BlogWeb.PostLive.Show do
      use BlogWeb, :live_view
      import Phoenix.HTML

      def render(assigns) do
        ~H"""
        <div class="prose">{raw(@post.body_html)}</div>
        """
      end

      def markdown(text), do: raw(text)
    end
    '''
    found = only("SC003", source, MODULE_PATH)
    assert [flagged_text(source, f) for f in found] == ["raw(@post.body_html)"]


def test_sc003_second_sigil_still_checked_when_the_first_is_broken() -> None:
    source = '''
    defmodule BlogWeb.Components do
      use Phoenix.Component

      def broken(assigns) do
        ~H"""
        <div class="unclosed"
        """
      end

      def body(assigns) do
        ~H"""
        <div>{raw(@html)}</div>
        """
      end
    end
    '''
    found = only("SC003", source, "lib/blog_web/components.ex")
    assert [flagged_text(source, f) for f in found] == ["raw(@html)"]


def test_heex_suppression_comment_in_a_heex_file() -> None:
    template = """
    <%!-- phxguard:disable-next-line SC003 -- sanitised when saved --%>
    <article>{raw(@post.body_html)}</article>
    <article>{raw(@post.summary_html)}</article>
    """
    assert heex_flagged(template) == ["raw(@post.summary_html)"]


def test_heex_suppression_comment_inside_a_sigil() -> None:
    source = '''
    defmodule BlogWeb.PostLive.Show do
      use BlogWeb, :live_view

      def render(assigns) do
        ~H"""
        <!-- phxguard:disable-next-line SC003 -->
        <div>{raw(@post.body_html)}</div>
        <div>{raw(@post.summary_html)}</div>
        """
      end
    end
    '''
    found = only("SC003", source, MODULE_PATH)
    assert [flagged_text(source, f) for f in found] == ["raw(@post.summary_html)"]


def test_a_heex_file_with_syntax_errors_still_reports() -> None:
    template = """
    <div class="a">
      <span>{raw(@html)}
    <p class=
    """
    result = analyze(dedent(template).encode(), TEMPLATE_PATH)
    assert result.has_syntax_errors
    assert [f.code for f in result.findings] == ["SC003"]
