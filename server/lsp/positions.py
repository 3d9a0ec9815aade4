"""LSP positions <-> byte offsets, in the encoding negotiated with the client.

Everything inside the server works on UTF-8 byte offsets (what tree-sitter and
the analyzers use); this module is the only place that speaks LSP's
``(line, character)``. Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lsprotocol import types

from analyzers.text import Encoding, LineIndex

log = logging.getLogger(__name__)

_ENCODINGS: dict[str, Encoding] = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


def encoding_from_lsp(kind: str | None) -> Encoding:
    """The analyzers' name for an LSP ``PositionEncodingKind`` (UTF-16 when absent or unknown)."""
    if kind is None:
        return "utf-16"
    return _ENCODINGS.get(str(getattr(kind, "value", kind)).lower(), "utf-16")


@dataclass(frozen=True)
class ResolvedOffset:
    """A byte offset, and whether the requested position lay outside the document."""

    offset: int
    clamped: bool


class PositionCodec:
    """Converts between byte offsets of one document version and LSP positions."""

    __slots__ = ("encoding", "index")

    def __init__(self, index: LineIndex, encoding: Encoding) -> None:
        self.index = index
        self.encoding = encoding

    def position(self, offset: int) -> types.Position:
        """The LSP position of byte ``offset``."""
        line, column = self.index.position(offset, self.encoding)
        return types.Position(line=line, character=column)

    def range(self, start: int, end: int) -> types.Range:
        """The LSP range of bytes ``[start, end)``."""
        return types.Range(start=self.position(start), end=self.position(end))

    def resolve(self, line: int, character: int) -> ResolvedOffset:
        """Byte offset of an LSP position; positions past a line or the document clamp.

        ``clamped`` is true when the client named a position that does not exist
        (a line beyond the last, or a column beyond the line's end), which
        indicates the client's copy has drifted from ours.
        """
        index = self.index
        if line < 0 or character < 0:
            return ResolvedOffset(
                index.offset(max(line, 0), max(character, 0), self.encoding), True
            )
        if line >= index.line_count:
            return ResolvedOffset(len(index.source), True)
        offset = index.offset(line, character, self.encoding)
        if character == 0:
            return ResolvedOffset(offset, False)
        line_end = index.line_end(line)
        if offset < line_end:
            return ResolvedOffset(offset, False)
        _, end_column = index.position(line_end, self.encoding)
        return ResolvedOffset(offset, character > end_column)

    def offset(self, position: types.Position) -> int:
        """Byte offset of an LSP position (clamped into the document)."""
        return self.resolve(position.line, position.character).offset

    def byte_range(self, lsp_range: types.Range) -> tuple[int, int]:
        """Byte offsets ``(start, end)`` of an LSP range, ordered."""
        start = self.offset(lsp_range.start)
        end = self.offset(lsp_range.end)
        return (start, end) if start <= end else (end, start)
