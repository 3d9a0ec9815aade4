"""In-process checks of server pieces that the end-to-end tests cannot reach directly."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from lsprotocol import types

import analyzers.engine
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, RuleMeta, Severity
from analyzers.registry import Rule, all_rules
from server.lsp.code_actions import disable_file_edit, disable_line_edit, workspace_edit
from server.lsp.server import PhxguardServer

MIGRATION = (
    "defmodule M do\r\n"
    "  use Ecto.Migration\r\n"
    "  def change do\r\n"
    "\talter table(:posts) do\r\n"
    "\t  add :meta, :json\r\n"
    "\tend\r\n"
    "  end\r\n"
    "end\r\n"
)
PATH = "/ws/priv/repo/migrations/20240101000000_m.exs"


def _server(capabilities: types.ClientCapabilities | None = None) -> PhxguardServer:
    server = PhxguardServer()
    server.protocol.client_capabilities = capabilities or types.ClientCapabilities()
    return server


def _broken(_ctx: FileContext) -> Iterable[Finding]:
    raise RuntimeError("boom")


def test_a_failing_rule_is_logged_and_the_others_still_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    meta = RuleMeta("ZZ999", "broken", "broken", Severity.ERROR, "r", "s")
    rules = (*all_rules(), Rule(meta, _broken, frozenset({"elixir"})))
    monkeypatch.setattr(analyzers.engine, "registered_rules", lambda: rules)
    server = _server()
    sent: list[tuple[str, types.MessageType]] = []
    monkeypatch.setattr(
        server, "log_to_client", lambda m, k=types.MessageType.Log: sent.append((m, k))
    )
    doc = server.documents.open("file://" + PATH, PATH, "elixir", 1, MIGRATION)
    analysis = server.analyzer.run(doc)
    assert [f.code for f in analysis.findings] == ["MG012"]
    assert sent == [
        (f"phxguard: rule ZZ999 failed on {PATH}: RuntimeError: boom", types.MessageType.Warning)
    ]


def test_disable_comments_keep_indentation_and_line_endings() -> None:
    server = _server()
    doc = server.documents.open("file://" + PATH, PATH, "elixir", 1, MIGRATION)
    (finding,) = server.analyzer.run(doc).findings
    line = disable_line_edit(doc, finding)
    assert line.new_text == "\t  # phxguard:disable-next-line MG012\r\n"
    assert doc.source[line.start : line.start + 7] == b"\t  add "
    file = disable_file_edit(doc, "MG012")
    assert (file.start, file.end, file.new_text) == (0, 0, "# phxguard:disable-file MG012\r\n")


def test_edits_in_other_files_become_edits_of_their_uris(tmp_path: Path) -> None:
    template = tmp_path / "page.html.heex"
    template.write_text("<ul>\n  <li :for={i <- @items}>é{i}</li>\n</ul>\n")
    module = tmp_path / "page_live.ex"
    server = _server(
        types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(
                workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)
            )
        )
    )
    doc = server.documents.open(module.as_uri(), str(module), "elixir", 3, "defmodule P do\nend\n")
    li = template.read_bytes().index(b"{i}")
    edit = workspace_edit(
        server,
        doc,
        [Edit(0, 0, "# x\n"), Edit(li, li + 3, "{i.name}", path=str(template))],
    )
    assert edit.document_changes is not None
    changes = [c for c in edit.document_changes if isinstance(c, types.TextDocumentEdit)]
    by_uri = {c.text_document.uri: c for c in changes}
    assert by_uri[module.as_uri()].text_document.version == 3
    other = by_uri[template.as_uri()]
    assert other.text_document.version is None
    (text_edit,) = other.edits
    assert isinstance(text_edit, types.TextEdit)
    assert text_edit.range == types.Range(
        start=types.Position(line=1, character=26), end=types.Position(line=1, character=29)
    )


def test_without_document_changes_support_edits_go_in_changes() -> None:
    server = _server()
    doc = server.documents.open("file://" + PATH, PATH, "elixir", 1, MIGRATION)
    edit = workspace_edit(server, doc, [Edit(0, 0, "# x\r\n")])
    assert edit.document_changes is None
    assert edit.changes == {
        doc.uri: [
            types.TextEdit(
                range=types.Range(
                    start=types.Position(line=0, character=0),
                    end=types.Position(line=0, character=0),
                ),
                new_text="# x\r\n",
            )
        ]
    }
