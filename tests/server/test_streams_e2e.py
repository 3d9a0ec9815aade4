"""End to end: "Convert @posts to a stream" edits a LiveView and its open template in one action.

The template is open with unsaved, non-ASCII text above the loop, so the
template half of the workspace edit must address the editor's buffer in the
client's column unit. The LV003 hover shows the user's callback rewritten
with ``start_async``.
"""

from __future__ import annotations

import textwrap

from lsprotocol import types

from analyzers import heex
from tests.server.lsp_client import (
    RecordingClient,
    apply_workspace_edit,
    current_diagnostics,
    edits_of,
    open_document,
    position_of,
)

FOLDER = "lib/my_app_web/live/post_live"

REPO = textwrap.dedent("""\
    defmodule MyApp.Repo do
      use Ecto.Repo, otp_app: :my_app, adapter: Ecto.Adapters.Postgres
    end
    """)

LIVE_VIEW = textwrap.dedent("""\
    defmodule MyAppWeb.PostLive.Index do
      use MyAppWeb, :live_view

      alias MyApp.Blog

      # Überblick 😀
      def mount(_params, _session, socket) do
        {:ok, assign(socket, :posts, Blog.list_posts())}
      end

      def handle_info({:post_created, post}, socket) do
        {:noreply, update(socket, :posts, &[post | &1])}
      end

      def handle_event("preview", %{"url" => url}, socket) do
        preview = Req.get!(url).body
        {:noreply, assign(socket, :preview, preview)}
      end
    end
    """)

SAVED_TEMPLATE = textwrap.dedent("""\
    <ul>
      <li :for={post <- @posts}>{post.title}</li>
    </ul>
    """)

UNSAVED_TEMPLATE = "<h1>Beiträge 😀</h1>\n" + SAVED_TEMPLATE


def _codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


async def _actions(
    client: RecordingClient, uri: str, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    resolved = []
    for action in [a for a in result or [] if isinstance(a, types.CodeAction)]:
        if action.edit is None:
            action = await client.code_action_resolve_async(action)
        resolved.append(action)
    return resolved


def _write(client: RecordingClient, relative: str, text: str) -> None:
    path = client.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Created)]
        )
    )


async def test_stream_fix_edits_module_and_open_template(client: RecordingClient) -> None:
    _write(client, "lib/my_app/repo.ex", REPO)
    _write(client, f"{FOLDER}/index.html.heex", SAVED_TEMPLATE)
    _write(client, f"{FOLDER}/index.ex", LIVE_VIEW)
    template_uri = open_document(
        client, client.root / FOLDER / "index.html.heex", UNSAVED_TEMPLATE, language_id="heex"
    )
    uri = open_document(client, client.root / FOLDER / "index.ex", LIVE_VIEW)
    diagnostics = await current_diagnostics(
        client, uri, lambda d: {"LV001", "LV003", "LV006"} <= set(_codes(d))
    )
    lv001 = next(d for d in diagnostics if d.code == "LV001")

    actions = await _actions(client, uri, lv001)
    convert = next(a for a in actions if a.title == "Convert @posts to a stream")
    assert convert.edit is not None
    assert edits_of(convert.edit, template_uri), "the template is edited by the same action"
    new_module = apply_workspace_edit(client, uri, convert.edit)
    new_template = apply_workspace_edit(client, template_uri, convert.edit)

    assert new_module == LIVE_VIEW.replace(
        "assign(socket, :posts, Blog.list_posts())", "stream(socket, :posts, Blog.list_posts())"
    ).replace("update(socket, :posts, &[post | &1])", "stream_insert(socket, :posts, post, at: 0)")
    assert new_template == (
        "<h1>Beiträge 😀</h1>\n"
        '<ul phx-update="stream" id="posts">\n'
        "  <li :for={{dom_id, post} <- @streams.posts} id={dom_id}>{post.title}</li>\n"
        "</ul>\n"
    )
    assert not heex.template_of_heex(new_template.encode()).has_error
    after = await current_diagnostics(client, uri, lambda d: "LV001" not in _codes(d))
    assert "LV006" not in _codes(after)


async def test_lv003_hover_shows_the_start_async_rewrite(client: RecordingClient) -> None:
    uri = open_document(client, client.root / FOLDER / "index.ex", LIVE_VIEW)
    await current_diagnostics(client, uri, lambda d: "LV003" in _codes(d))
    start = LIVE_VIEW.index("Req.get!")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(LIVE_VIEW, start + 2, client.encoding),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "LV003" in hover.contents.value
    assert "start_async(socket, :preview, fn -> Req.get!(url).body end)" in hover.contents.value
    assert "def handle_async(:preview, {:ok, preview}, socket) do" in hover.contents.value
