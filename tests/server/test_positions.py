"""Position codec: byte offsets <-> LSP positions in UTF-8, UTF-16 and UTF-32."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from analyzers.text import LineIndex
from server.lsp.positions import PositionCodec, encoding_from_lsp
from tests.server.lsp_client import position_of

ENCODINGS = ("utf-8", "utf-16", "utf-32")


def codec(text: str, encoding: str) -> PositionCodec:
    return PositionCodec(LineIndex(text.encode("utf-8")), encoding)  # type: ignore[arg-type]


def byte_offset(text: str, needle: str) -> int:
    return len(text[: text.index(needle)].encode("utf-8"))


@pytest.mark.parametrize(
    ("encoding", "column"),
    [("utf-8", len("é😀x = ".encode())), ("utf-16", 1 + 2 + 4), ("utf-32", 1 + 1 + 4)],
)
def test_astral_and_accented_characters_count_per_encoding(encoding: str, column: int) -> None:
    text = "a = 1\né😀x = :json\n"
    c = codec(text, encoding)
    offset = byte_offset(text, ":json")
    assert c.position(offset) == types.Position(line=1, character=column)
    assert c.offset(types.Position(line=1, character=column)) == offset


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_lsp_line_break(encoding: str, newline: str) -> None:
    text = newline.join(["one", "two", "add :x, :json"]) + newline
    c = codec(text, encoding)
    offset = byte_offset(text, ":json")
    assert c.position(offset) == types.Position(line=2, character=len("add :x, "))
    assert c.offset(types.Position(line=2, character=len("add :x, "))) == offset
    # The end of the last line and the empty line after the final break.
    assert c.position(len(text.encode())) == types.Position(line=3, character=0)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_crlf_is_one_break_and_columns_stop_before_it(encoding: str) -> None:
    text = "ab\r\ncd"
    c = codec(text, encoding)
    assert c.position(3) == types.Position(line=0, character=2)  # between \r and \n
    assert c.offset(types.Position(line=0, character=99)) == 2
    assert c.offset(types.Position(line=1, character=0)) == 4


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_line_separator_and_form_feed_do_not_end_lines(encoding: str) -> None:
    text = 'x = "a\u2028b"\x0c\nremove :col\n'
    c = codec(text, encoding)
    offset = byte_offset(text, "remove")
    assert c.position(offset) == types.Position(line=1, character=0)
    after = byte_offset(text, 'b"')
    expected = {"utf-8": len('x = "a\u2028'.encode()), "utf-16": 7, "utf-32": 7}[encoding]
    assert c.position(after) == types.Position(line=0, character=expected)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_positions_outside_the_document_clamp_and_say_so(encoding: str) -> None:
    text = "ab\ncd\n"
    c = codec(text, encoding)
    assert c.resolve(0, 2).clamped is False
    assert c.resolve(0, 3) == c.resolve(0, 2).__class__(2, True)
    assert c.resolve(7, 0).offset == len(text) and c.resolve(7, 0).clamped
    assert c.resolve(-1, 0).clamped
    assert c.resolve(2, 0) == c.resolve(2, 0).__class__(6, False)


def test_inside_a_surrogate_pair_rounds_down() -> None:
    text = "😀x"
    c = codec(text, "utf-16")
    assert c.offset(types.Position(line=0, character=1)) == 0
    assert c.offset(types.Position(line=0, character=2)) == 4


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-32", "utf-32"),
        ("utf-16", "utf-16"),
        (None, "utf-16"),
        ("latin-1", "utf-16"),
        (types.PositionEncodingKind.Utf8, "utf-8"),
    ],
)
def test_encoding_names(kind: str | None, expected: str) -> None:
    assert encoding_from_lsp(kind) == expected


_CHARS = st.sampled_from([*"ab é😀\u2028\x0c\t", "\n", "\r\n", "\r"])


@given(st.lists(_CHARS, max_size=30), st.sampled_from(ENCODINGS), st.data())
def test_round_trip_matches_an_independent_model(
    parts: list[str], encoding: str, data: st.DataObject
) -> None:
    text = "".join(parts)
    # Code point indexes that do not split a CRLF.
    boundaries = [0]
    for part in parts:
        boundaries.append(boundaries[-1] + len(part))
    boundaries = [
        b for b in boundaries if not (text[b - 1 : b] == "\r" and text[b : b + 1] == "\n")
    ]
    index = data.draw(st.sampled_from(boundaries))
    offset = len(text[:index].encode("utf-8"))
    c = codec(text, encoding)
    expected = position_of(text, index, encoding)
    assert c.position(offset) == expected
    assert c.offset(expected) == offset
