"""LineIndex: byte offsets <-> positions in each LSP encoding, on every line-break style."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzers.text import LineIndex


def test_line_breaks_are_lf_crlf_and_lone_cr_only() -> None:
    source = "a\r\nb\rc\nd\u2028e\x0cf".encode()
    index = LineIndex(source)
    assert index.line_count == 4
    assert [index.line_text(i) for i in range(4)] == ["a", "b", "c", "d\u2028e\x0cf"]


@pytest.mark.parametrize(
    ("encoding", "column"),
    [("utf-8", len("é😀".encode())), ("utf-16", 3), ("utf-32", 2)],
)
def test_columns_count_encoding_units(encoding: str, column: int) -> None:
    source = "x = 1\n  é😀create index\n".encode()
    offset = source.index(b"create")
    index = LineIndex(source)
    assert index.position(offset, encoding) == (1, 2 + column)  # type: ignore[arg-type]
    assert index.offset(1, 2 + column, encoding) == offset  # type: ignore[arg-type]


def test_positions_past_line_end_clamp_to_it() -> None:
    index = LineIndex(b"ab\r\ncd")
    assert index.offset(0, 99) == 2
    assert index.offset(7, 0) == len(b"ab\r\ncd")
    assert index.position(3) == (0, 2)  # inside the \r\n pair


def test_column_inside_a_surrogate_pair_does_not_split_the_character() -> None:
    index = LineIndex("😀x".encode())
    assert index.offset(0, 1, "utf-16") == 0


def test_invalid_utf8_does_not_raise() -> None:
    index = LineIndex(b"ok\n\xff\xfeend\n")
    assert index.position(7, "utf-16")[0] == 1
    assert "end" in index.line_text(1)


@given(
    st.lists(st.sampled_from(["a", "é", "😀", "\n", "\r", "\r\n", "\u2028", " "]), max_size=40).map(
        "".join
    )
)
def test_roundtrip_on_character_boundaries(text: str) -> None:
    source = text.encode()
    index = LineIndex(source)
    for encoding in ("utf-8", "utf-16", "utf-32"):
        offset = 0
        for ch in text:
            line, col = index.position(offset, encoding)  # type: ignore[arg-type]
            back = index.offset(line, col, encoding)  # type: ignore[arg-type]
            # Offsets inside a \r\n pair map to the line end; all others round-trip.
            assert back == offset or source[back : offset + 1] in (b"\r\n", b"\n")
            offset += len(ch.encode())
