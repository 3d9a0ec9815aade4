"""LineIndex: byte offsets <-> positions in each LSP encoding, on every line-break style."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
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


# Pieces that make every line-break case: a \r\n split by an edit, a \r and a \n joined
# by one, a lone \r at the end, multi-byte and invalid UTF-8.
_PIECES = [b"a", b"\n", b"\r", b"\r\n", b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\xff", b"\xe2\x80\xa8"]
_bytes_of_pieces = st.lists(st.sampled_from(_PIECES), max_size=12).map(b"".join)


@st.composite
def _edit(draw: st.DrawFn) -> tuple[bytes, int, int, bytes]:
    """A source and an edit of it, at any byte offsets (between a \\r and its \\n too)."""
    source = draw(_bytes_of_pieces)
    start = draw(st.integers(0, len(source)))
    end = draw(st.integers(start, len(source)))
    return source, start, end, draw(_bytes_of_pieces)


@given(_edit())
def test_edited_index_equals_a_fresh_one(edit: tuple[bytes, int, int, bytes]) -> None:
    source, start, end, inserted = edit
    new = source[:start] + inserted + source[end:]
    index = LineIndex(source).edited(start, end, inserted, new)
    assert index.source is new
    assert index.line_starts == LineIndex(new).line_starts


def _same_answers(index: LineIndex, fresh: LineIndex) -> None:
    """Every query of ``index`` answers as ``fresh`` does (a pending shift must not show)."""
    source = fresh.source
    assert index.line_starts == fresh.line_starts
    assert index.line_count == fresh.line_count
    for line in range(-fresh.line_count, fresh.line_count):
        assert index.line_start(line) == fresh.line_starts[line]
        assert index.line_end(line) == fresh.line_end(line)
        assert index.line_text(line) == fresh.line_text(line)
        for column in (0, 1, 3, 99):
            assert index.offset(line, column) == fresh.offset(line, column)
    for offset in range(-1, len(source) + 2):
        assert index.line_of(offset) == fresh.line_of(offset)
        for encoding in ("utf-8", "utf-16", "utf-32"):
            assert index.position(offset, encoding) == fresh.position(offset, encoding)  # type: ignore[arg-type]


@st.composite
def _edits_in_a_row(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """A source and edits of it in turn; mostly next to the previous one, as typing goes."""
    source = draw(_bytes_of_pieces)
    length, edits, at = len(source), [], 0
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            at = draw(st.integers(0, length))
        start = min(max(0, at + draw(st.integers(-2, 2))), length)
        end = draw(st.integers(start, min(length, start + 3)))
        inserted = draw(_bytes_of_pieces)
        edits.append((start, end, inserted))
        length += len(inserted) - (end - start)
        at = start + len(inserted)
    return source, edits


@settings(max_examples=300)
@given(_edits_in_a_row())
def test_edits_in_a_row_stay_equal_to_a_fresh_index(
    case: tuple[bytes, list[tuple[int, int, bytes]]],
) -> None:
    source, edits = case
    index = LineIndex(source)
    for start, end, inserted in edits:
        source = source[:start] + inserted + source[end:]
        older = index
        index = index.edited(start, end, inserted, source)
        _same_answers(index, LineIndex(source))
    # The index an edit started from still answers for its own source.
    _same_answers(older, LineIndex(older.source))


@pytest.mark.parametrize(
    ("source", "start", "end", "inserted"),
    [
        (b"a\r\nb", 2, 2, b"x"),  # splits a \r\n: the \r now ends a line alone
        (b"a\rx\nb", 2, 3, b""),  # joins \r and \n into one break
        (b"a\r", 2, 2, b"\n"),  # completes a \r at the very end
        (b"a\r\n", 2, 3, b""),  # leaves a lone \r at the very end
        (b"", 0, 0, b"\r\n"),  # empty source
        (b"ab\n", 0, 3, b""),  # everything deleted
        (b"ab\ncd", 0, 0, b"\n"),  # at the start
        (b"ab\ncd", 5, 5, b"\r"),  # at the end
    ],
)
def test_edited_index_at_line_break_edges(
    source: bytes, start: int, end: int, inserted: bytes
) -> None:
    new = source[:start] + inserted + source[end:]
    assert LineIndex(source).edited(start, end, inserted, new).line_starts == (
        LineIndex(new).line_starts
    )


def test_edit_that_does_not_fit_is_refused() -> None:
    with pytest.raises(ValueError):
        LineIndex(b"abc").edited(2, 1, b"", b"abc")
    with pytest.raises(ValueError):
        LineIndex(b"abc").edited(0, 1, b"xy", b"abc")


def _slow_position(source: bytes, offset: int, encoding: str) -> tuple[int, int]:
    """Reference: the column counted character by character."""
    index = LineIndex(source)
    line, _ = index.position(offset, "utf-8")
    start = index.line_starts[line]
    clamped = min(max(0, min(offset, len(source))), max(start, index.line_end(line)))
    text = source[start:clamped].decode("utf-8", "surrogateescape")
    if encoding == "utf-16":
        return line, sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return line, len(text) if encoding == "utf-32" else clamped - start


def _slow_offset(source: bytes, line: int, column: int, encoding: str) -> int:
    """Reference: the byte offset found character by character."""
    index = LineIndex(source)
    if line < 0 or column <= 0 or line >= index.line_count or encoding == "utf-8":
        return index.offset(line, column, encoding)  # type: ignore[arg-type]
    start = index.line_starts[line]
    consumed = units = 0
    for ch in source[start : index.line_end(line)].decode("utf-8", "surrogateescape"):
        step = 1 if encoding == "utf-32" else (2 if ord(ch) > 0xFFFF else 1)
        if units + step > column:
            break
        units += step
        consumed += len(ch.encode("utf-8", "surrogateescape"))
    return start + consumed


@given(
    st.one_of(st.binary(max_size=30), _bytes_of_pieces),
    st.integers(-2, 40),
    st.integers(-2, 40),
    st.sampled_from(["utf-8", "utf-16", "utf-32"]),
)
def test_counted_columns_match_counting_character_by_character(
    source: bytes, offset: int, column: int, encoding: str
) -> None:
    index = LineIndex(source)
    assert index.position(offset, encoding) == _slow_position(source, offset, encoding)  # type: ignore[arg-type]
    line = offset % (index.line_count + 1)
    assert index.offset(line, column, encoding) == _slow_offset(source, line, column, encoding)  # type: ignore[arg-type]
