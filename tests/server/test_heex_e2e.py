"""End to end: .heex templates in the editor, alone and beside their LiveView.

The template has non-ASCII text before flagged tokens, so columns differ per
client encoding; the LiveView is written to disk and announced with
``didChangeWatchedFiles``, then edited unsaved in the editor (which wins).
"""

from __future__ import annotations

import textwrap

from lsprotocol import types

from analyzers import heex
from analyzers.model import Finding, Severity
from server.lsp.code_actions import disable_file_edit, disable_line_edit
from server.lsp.documents import DocumentStore
from tests.server.lsp_client import (
    RecordingClient,
    apply_workspace_edit,
    current_diagnostics,
    edits_of,
    open_document,
    position_of,
    range_of,
)

TEMPLATE = textwrap.dedent("""\
    <h1>Grüße 😀</h1>
    <div class="prose">Ünïcode {raw(@post.body_html)}</div>
    <button class="btn" phx-click="place_order">Bestellen 😀</button>
    """)

LIVE_VIEW = textwrap.dedent("""\
    defmodule ShopWeb.OrderLive.Show do
      use ShopWeb, :live_view
      alias Shop.Orders

      def handle_event("place_order", _params, socket) do
        {:ok, order} = Orders.create_order(socket.assigns.cart)
        {:noreply, assign(socket, :order, order)}
      end
    end
    """)

FOLDER = "lib/shop_web/live/order_live"


def _codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def _announce(client: RecordingClient, text: str) -> str:
    """Write the LiveView to disk and tell the server, as a file watcher would."""
    path = client.root / FOLDER / "show.ex"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    return path.as_uri()


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
    actions = [a for a in result or [] if isinstance(a, types.CodeAction)]
    resolved = []
    for action in actions:
        if action.edit is None:
            action = await client.code_action_resolve_async(action)
        resolved.append(action)
    return resolved


async def test_a_heex_file_alone_gets_sc003_with_client_columns(client: RecordingClient) -> None:
    path = client.root / "lib/shop_web/components/post.html.heex"
    uri = open_document(client, path, TEMPLATE, language_id="phoenix-heex")
    diagnostics = await current_diagnostics(client, uri, lambda d: "SC003" in _codes(d))
    # Nothing knows this template's module: no handler, so no LV005.
    assert _codes(diagnostics) == ["SC003"]
    start = TEMPLATE.index("raw(")
    end = TEMPLATE.index(")}") + 1
    assert diagnostics[0].range == range_of(TEMPLATE, start, end, client.encoding)

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(TEMPLATE, start + 2, client.encoding),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "SC003" in hover.contents.value
    assert "<%!-- phxguard:disable-next-line SC003 -- reason --%>" in hover.contents.value

    # "Disable for this line" writes a HEEx comment, which silences the finding.
    actions = await _actions(client, uri, diagnostics[0])
    disable = next(a for a in actions if a.title == "Disable SC003 for this line")
    assert disable.edit is not None
    (edit,) = edits_of(disable.edit, uri)
    assert edit.new_text == "<%!-- phxguard:disable-next-line SC003 --%>\n"
    apply_workspace_edit(client, uri, disable.edit)
    await current_diagnostics(client, uri, lambda d: d == [])


async def test_lv005_in_a_colocated_template_and_its_fix(client: RecordingClient) -> None:
    _announce(client, LIVE_VIEW)
    uri = open_document(
        client, client.root / FOLDER / "show.html.heex", TEMPLATE, language_id="heex"
    )
    diagnostics = await current_diagnostics(client, uri, lambda d: "LV005" in _codes(d))
    assert _codes(diagnostics) == ["LV005", "SC003"]
    lv005 = next(d for d in diagnostics if d.code == "LV005")
    start = TEMPLATE.index('phx-click="place_order"')
    assert lv005.range == range_of(
        TEMPLATE, start, start + len('phx-click="place_order"'), client.encoding
    )
    assert "Orders.create_order" in lv005.message

    actions = await _actions(client, uri, lv005)
    fix = next(a for a in actions if a.title == "Add phx-disable-with")
    assert fix.edit is not None
    fixed = apply_workspace_edit(client, uri, fix.edit)
    assert fixed == TEMPLATE.replace(
        'phx-click="place_order"', 'phx-click="place_order" phx-disable-with="Saving..."'
    )
    assert not heex.template_of_heex(fixed.encode()).has_error
    after = await current_diagnostics(client, uri, lambda d: "LV005" not in _codes(d))
    assert _codes(after) == ["SC003"]


async def test_an_unsaved_live_view_wins_over_the_disk(client: RecordingClient) -> None:
    _announce(client, LIVE_VIEW)
    template_uri = open_document(
        client, client.root / FOLDER / "show.html.heex", TEMPLATE, language_id="phoenix-heex"
    )
    await current_diagnostics(client, template_uri, lambda d: "LV005" in _codes(d))

    # The LiveView, edited but not saved: the insert becomes an upsert.
    guarded = LIVE_VIEW.replace(
        "Orders.create_order(socket.assigns.cart)",
        "Orders.upsert_order(socket.assigns.cart, on_conflict: :nothing)",
    )
    live_uri = open_document(client, client.root / FOLDER / "show.ex", guarded)
    await current_diagnostics(client, template_uri, lambda d: _codes(d) == ["SC003"])

    # Closing it without saving: the disk copy counts again.
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=live_uri))
    )
    await current_diagnostics(client, template_uri, lambda d: "LV005" in _codes(d))


def test_disable_comments_follow_the_language_at_the_finding() -> None:
    source = textwrap.dedent('''\
        defmodule ShopWeb.PostLive do
          use ShopWeb, :live_view

          def render(assigns) do
            ~H"""
            <div>{raw(@html)}</div>
            """
          end

          def mount(_params, _session, socket), do: {:ok, socket}
        end
        ''')
    store = DocumentStore()
    doc = store.open("file:///p/post_live.ex", "/p/post_live.ex", "elixir", 1, source)

    def at(needle: str, code: str) -> Finding:
        start = source.encode().index(needle.encode())
        return Finding(code, start, start + len(needle), "m", Severity.INFO)

    in_sigil = disable_line_edit(doc, at("raw(@html)", "SC003"))
    assert in_sigil.new_text == "    <%!-- phxguard:disable-next-line SC003 --%>\n"
    in_code = disable_line_edit(doc, at("def mount", "LV002"))
    assert in_code.new_text == "  # phxguard:disable-next-line LV002\n"
    assert disable_file_edit(doc, "SC003").new_text == "# phxguard:disable-file SC003\n"

    template = store.open("file:///p/t.html.heex", "/p/t.html.heex", "phoenix-heex", 1, "<p/>\n")
    assert (
        disable_file_edit(template, "SC003").new_text == "<%!-- phxguard:disable-file SC003 --%>\n"
    )
