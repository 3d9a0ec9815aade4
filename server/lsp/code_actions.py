"""Code actions: a finding's fix, "disable for this line/file", and "fix all".

Edits go out eagerly in the action, unless the client can resolve a code
action's ``edit``; then the actions are sent bare and their edits kept here,
keyed by (uri, version, range, code), until ``codeAction/resolve`` asks. eglot
neither resolves nor round-trips ``Diagnostic.data``, so nothing depends on
the client keeping data on diagnostics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from analyzers.edits import compatible_fixes
from analyzers.engine import HEEX
from analyzers.model import Edit, Finding
from analyzers.text import LineIndex
from server.lsp.diagnostics import SOURCE, to_diagnostic
from server.lsp.documents import Document
from server.lsp.positions import PositionCodec

if TYPE_CHECKING:
    from server.lsp.server import PhxguardServer

log = logging.getLogger(__name__)

FIX_ALL_KIND = "source.fixAll.phxguard"
FIX_ALL_TITLE = "Fix all phxguard problems"
KINDS = (types.CodeActionKind.QuickFix, FIX_ALL_KIND)


@dataclass(frozen=True)
class StoredAction:
    """The edits of an action sent without them, for ``codeAction/resolve``."""

    uri: str
    version: int
    edits: tuple[Edit, ...]


class FixStore:
    """Edits of unresolved actions, by key; only the latest version of a document is kept."""

    def __init__(self) -> None:
        self._actions: dict[str, StoredAction] = {}

    def put(
        self,
        uri: str,
        version: int,
        start: int,
        end: int,
        code: str,
        kind: str,
        edits: tuple[Edit, ...],
    ) -> str:
        """Remember ``edits``; returns the key to put in the action's ``data``."""
        stale = [k for k, a in self._actions.items() if a.uri == uri and a.version != version]
        for key in stale:
            del self._actions[key]
        key = f"{uri}#{version}:{start}-{end}:{code}:{kind}"
        self._actions[key] = StoredAction(uri, version, edits)
        return key

    def get(self, key: str) -> StoredAction | None:
        """The stored action, or None."""
        return self._actions.get(key)

    def forget(self, uri: str) -> None:
        """Drop everything about a closed document."""
        for key in [k for k, a in self._actions.items() if a.uri == uri]:
            del self._actions[key]


def _kind_wanted(kind: str, only: Sequence[str] | None) -> bool:
    if only is None:
        return True
    return any(kind == want or kind.startswith(want + ".") for want in only)


def _line_break(index: LineIndex, line: int) -> str:
    source = index.source
    end = index.line_end(line)
    if source[end : end + 2] == b"\r\n":
        return "\r\n"
    if source[end : end + 1] == b"\r":
        return "\r"
    if source[end : end + 1] == b"\n":
        return "\n"
    first = min((i for i in (source.find(b"\n"), source.find(b"\r")) if i != -1), default=-1)
    if first != -1 and source[first : first + 2] == b"\r\n":
        return "\r\n"
    return "\r" if first != -1 and source[first : first + 1] == b"\r" else "\n"


def in_template(doc: Document, offset: int) -> bool:
    """Whether ``offset`` is HEEx: a ``.heex`` document, or inside a ``~H`` sigil."""
    if doc.language == HEEX:
        return True
    if doc.tree is None or b"~H" not in doc.source:
        return False
    node = doc.tree.root_node.descendant_for_byte_range(offset, offset)
    while node is not None:
        if node.type == "sigil":
            name = next((c for c in node.children if c.type == "sigil_name"), None)
            return name is not None and name.text == b"H"
        node = node.parent
    return False


def _comment(directive: str, heex: bool) -> str:
    return f"<%!-- {directive} --%>" if heex else f"# {directive}"


def disable_line_edit(doc: Document, finding: Finding) -> Edit:
    """Insert ``# phxguard:disable-next-line CODE`` above the finding, at its indentation.

    In a template (``.heex`` or ``~H``) the directive is a HEEx comment.
    """
    index = doc.index
    line = index.line_of(finding.start)
    text = index.line_text(line)
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    start = index.line_starts[line]
    directive = _comment(
        f"phxguard:disable-next-line {finding.code}", in_template(doc, finding.start)
    )
    return Edit(start, start, f"{indent}{directive}{_line_break(index, line)}")


def disable_file_edit(doc: Document, code: str) -> Edit:
    """Insert ``# phxguard:disable-file CODE`` (a HEEx comment in ``.heex``) as the first line."""
    directive = _comment(f"phxguard:disable-file {code}", doc.language == HEEX)
    return Edit(0, 0, f"{directive}{_line_break(doc.index, 0)}")


def _selected(
    doc: Document,
    codec: PositionCodec,
    findings: Iterable[Finding],
    params: types.CodeActionParams,
) -> list[Finding]:
    """Findings under the requested range, or named by a diagnostic in the context.

    Diagnostics are matched by code and start line only: some clients (Neovim
    0.7) send back columns in another unit than the one they received.
    """
    start, end = codec.byte_range(params.range)
    wanted_lines = {
        (d.range.start.line, str(d.code))
        for d in params.context.diagnostics
        if d.code is not None and d.source in (None, SOURCE)
    }
    out = []
    for finding in findings:
        overlaps = finding.start <= end and start <= finding.end
        named = (doc.index.line_of(finding.start), finding.code) in wanted_lines
        if overlaps or named:
            out.append(finding)
    return out


async def code_actions(
    server: PhxguardServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    """``textDocument/codeAction`` (waits for the document's analysis if it is not current)."""
    found = await server.diagnostics.current(params.text_document.uri)
    if found is None:
        return None
    doc, analysis = found
    # Whether a finding sits in a ~H template is read from the tree.
    server.documents.ensure_tree(doc)
    codec = server.codec(doc)
    only = (
        [str(getattr(k, "value", k)) for k in params.context.only]
        if (params.context.only is not None)
        else None
    )
    builder = _ActionBuilder(server, doc, codec)
    if _kind_wanted(types.CodeActionKind.QuickFix.value, only):
        selected = _selected(doc, codec, analysis.findings, params)
        for finding in selected:
            for n, fix in enumerate(finding.fixes):
                builder.add(
                    fix.title,
                    types.CodeActionKind.QuickFix,
                    finding,
                    fix.edits,
                    preferred=fix.preferred and n == 0,
                    tag=f"fix{n}",
                )
        seen_lines: set[tuple[int, str]] = set()
        for finding in selected:
            key = (doc.index.line_of(finding.start), finding.code)
            if key not in seen_lines:
                seen_lines.add(key)
                builder.add(
                    f"Disable {finding.code} for this line",
                    types.CodeActionKind.QuickFix,
                    finding,
                    (disable_line_edit(doc, finding),),
                    tag="line",
                )
        seen_codes: set[str] = set()
        for finding in selected:
            if finding.code not in seen_codes:
                seen_codes.add(finding.code)
                builder.add(
                    f"Disable {finding.code} for this file",
                    types.CodeActionKind.QuickFix,
                    finding,
                    (disable_file_edit(doc, finding.code),),
                    tag="file",
                )
    if _kind_wanted(FIX_ALL_KIND, only):
        fixes = compatible_fixes(analysis.findings, doc.path)
        if fixes:
            edits = tuple(edit for fix in fixes for edit in fix.edits)
            builder.add(FIX_ALL_TITLE, FIX_ALL_KIND, None, edits, tag="all")
    return builder.actions


class _ActionBuilder:
    def __init__(self, server: PhxguardServer, doc: Document, codec: PositionCodec) -> None:
        self.server = server
        self.doc = doc
        self.codec = codec
        self.actions: list[types.CodeAction] = []
        self.resolve = server.resolves_code_action_edits

    def add(
        self,
        title: str,
        kind: str,
        finding: Finding | None,
        edits: tuple[Edit, ...],
        *,
        preferred: bool = False,
        tag: str,
    ) -> None:
        diagnostics = [to_diagnostic(finding, self.codec)] if finding is not None else None
        action = types.CodeAction(
            title=title, kind=kind, diagnostics=diagnostics, is_preferred=preferred or None
        )
        if self.resolve:
            start, end, code = (
                (finding.start, finding.end, finding.code)
                if finding
                else (0, len(self.doc.source), "ALL")
            )
            key = self.server.fixes.put(
                self.doc.uri, self.doc.version, start, end, code, f"{kind}/{tag}", edits
            )
            action.data = {"key": key}
        else:
            action.edit = workspace_edit(self.server, self.doc, edits)
        self.actions.append(action)


def resolve(server: PhxguardServer, action: types.CodeAction) -> types.CodeAction:
    """``codeAction/resolve``: attach the stored edits, if the document has not moved on."""
    data: Any = action.data
    key = data.get("key") if isinstance(data, dict) else None
    stored = server.fixes.get(key) if isinstance(key, str) else None
    if stored is None:
        log.warning("codeAction/resolve for an unknown action %r", action.title)
        return action
    doc = server.documents.get(stored.uri)
    if doc is None or doc.version != stored.version:
        log.warning(
            "codeAction/resolve for %r: the document changed since; not applied", action.title
        )
        return action
    action.edit = workspace_edit(server, doc, stored.edits)
    return action


def workspace_edit(
    server: PhxguardServer, doc: Document, edits: Iterable[Edit]
) -> types.WorkspaceEdit:
    """A WorkspaceEdit for byte edits of ``doc`` (and of other files named by ``Edit.path``).

    Versioned ``documentChanges`` when the client supports them, else ``changes``.
    """
    by_file: dict[str | None, list[Edit]] = {}
    for edit in edits:
        target = None if edit.path in (None, doc.path) else edit.path
        by_file.setdefault(target, []).append(edit)
    files: list[tuple[str, int | None, list[types.TextEdit]]] = []
    for path, file_edits in by_file.items():
        located = _locate(server, doc, path)
        if located is None:
            log.warning("cannot edit %s: not open and not readable; edits skipped", path)
            continue
        uri, version, codec = located
        ordered = sorted(enumerate(file_edits), key=lambda p: (p[1].start, p[1].end, p[0]))
        files.append(
            (
                uri,
                version,
                [
                    types.TextEdit(range=codec.range(e.start, e.end), new_text=e.new_text)
                    for _, e in ordered
                ],
            )
        )
    if server.capability("workspace.workspace_edit.document_changes", False):
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=list(text_edits),
                )
                for uri, version, text_edits in files
            ]
        )
    return types.WorkspaceEdit(changes={uri: text_edits for uri, _, text_edits in files})


def _locate(
    server: PhxguardServer, doc: Document, path: str | None
) -> tuple[str, int | None, PositionCodec] | None:
    if path is None:
        return doc.uri, doc.version, server.codec(doc)
    file_path = Path(path)
    if not file_path.is_absolute():
        base = server.analyzer.root or (Path(doc.path).parent if doc.path else Path.cwd())
        file_path = base / file_path
    uri = from_fs_path(str(file_path)) or file_path.as_uri()
    other = server.documents.get(uri)
    if other is not None:
        return other.uri, other.version, server.codec(other)
    try:
        source = file_path.read_bytes()
    except OSError:
        return None
    return uri, None, PositionCodec(LineIndex(source), server.encoding)
