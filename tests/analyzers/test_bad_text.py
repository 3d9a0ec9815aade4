"""The engine on files nobody should have to analyse: it reports, skips or degrades, never raises.

Every finding (and every fix edit) must lie inside the source, start and end
on character boundaries (never inside a UTF-8 sequence or a CRLF pair), and
convert to a line and column that names the same byte again. Positions are
checked against a line model written here, apart from ``analyzers.text``:
lines end at LF, CRLF or a lone CR only, and each byte of an invalid UTF-8
sequence counts as one character (what ``surrogateescape`` decoding gives).
"""

from __future__ import annotations

import pytest

from analyzers import budget
from analyzers.config import Config
from analyzers.engine import analyze
from analyzers.model import Finding, Severity
from analyzers.text import Encoding, LineIndex
from tests.bad_input_corpus import BY_NAME, CASES, FAST, BadFile

ENCODINGS: tuple[Encoding, ...] = ("utf-8", "utf-16", "utf-32")


def _units(ch: str, encoding: Encoding) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8", "surrogateescape"))
    if encoding == "utf-16":
        return 2 if ord(ch) > 0xFFFF else 1
    return 1


class Model:
    """Character boundaries and LSP positions of a byte string, computed naively."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.chars = source.decode("utf-8", "surrogateescape")
        self.boundaries = [0]
        for ch in self.chars:
            self.boundaries.append(self.boundaries[-1] + len(ch.encode("utf-8", "surrogateescape")))
        # Offsets between the CR and LF of a pair: no LSP position names them.
        self.inside_crlf = {i + 1 for i in range(len(source) - 1) if source[i : i + 2] == b"\r\n"}
        self.line_starts = [0]
        for i, byte in enumerate(source):
            if byte == 0x0A or (byte == 0x0D and source[i + 1 : i + 2] != b"\n"):
                self.line_starts.append(i + 1)

    def position(self, offset: int, encoding: Encoding) -> tuple[int, int]:
        """(line, column) of a character boundary that is not inside a CRLF pair."""
        line = max(n for n, start in enumerate(self.line_starts) if start <= offset)
        start = self.line_starts[line]
        text = self.source[start:offset].decode("utf-8", "surrogateescape")
        return line, sum(_units(ch, encoding) for ch in text)


def _edits(finding: Finding) -> list[tuple[int, int]]:
    return [
        (edit.start, edit.end) for fix in finding.fixes for edit in fix.edits if edit.path is None
    ]


def _check_ranges(case: BadFile, findings: list[Finding]) -> None:
    # Positions depend only on the bytes before them (and one after, for a CRLF pair).
    reach = max((end for f in findings for _, end in [(f.start, f.end), *_edits(f)]), default=0)
    model = Model(case.source[: reach + 1])
    boundaries = set(model.boundaries)
    index = LineIndex(case.source)
    for finding in findings:
        for start, end in [(finding.start, finding.end), *_edits(finding)]:
            assert 0 <= start <= end <= len(case.source), (finding.code, start, end)
            for offset in (start, end):
                assert offset in boundaries, f"{finding.code}: {offset} splits a character"
                assert offset not in model.inside_crlf, f"{finding.code}: {offset} splits CRLF"
                for encoding in ENCODINGS:
                    position = index.position(offset, encoding)
                    assert position == model.position(offset, encoding), (finding.code, encoding)
                    assert index.offset(*position, encoding) == offset, (finding.code, encoding)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_bad_file_is_analysed_or_skipped_without_raising(case: BadFile) -> None:
    result = analyze(case.source, case.path)
    assert result.failures == [], [f.traceback for f in result.failures]
    codes = [f.code for f in result.findings]
    if case.skipped is not None:
        (finding,) = result.findings
        assert (finding.code, finding.severity, finding.start, finding.end) == (
            budget.SKIPPED_CODE,
            Severity.INFO,
            0,
            0,
        )
        assert finding.message.startswith(budget.SKIPPED_PREFIX)
        assert case.skipped in finding.message
    else:
        assert budget.SKIPPED_CODE not in codes
        assert set(case.codes) <= set(codes), codes
    _check_ranges(case, result.findings)


@pytest.mark.parametrize("case", FAST, ids=lambda c: c.name)
def test_findings_point_at_the_code_they_name(case: BadFile) -> None:
    # The odd bytes sit before the findings: an offset error would show here.
    findings = {f.code: f for f in analyze(case.source, case.path).findings}
    expected = {
        "OT002": b"String.to_atom(params",
        "OT003": b":infinity",
        "OT004": b":erlang.binary_to_term(",
    }
    for code in case.codes:
        finding = findings[code]
        assert case.source[finding.start : finding.end].startswith(expected[code]), code


# The deep and huge files are checked through their findings (the model is quadratic).
@pytest.mark.parametrize("case", [c for c in CASES if len(c.source) < 4_000], ids=lambda c: c.name)
def test_line_index_agrees_with_the_model_on_every_character(case: BadFile) -> None:
    model = Model(case.source)
    index = LineIndex(case.source)
    assert index.line_starts == model.line_starts
    for offset in model.boundaries:
        if offset in model.inside_crlf:
            continue
        for encoding in ENCODINGS:
            position = model.position(offset, encoding)
            assert index.position(offset, encoding) == position, (offset, encoding)
            assert index.offset(*position, encoding) == offset, (offset, encoding)
    for line in range(index.line_count):
        assert "\n" not in index.line_text(line) and "\r" not in index.line_text(line)


def test_line_index_of_the_ten_megabyte_file_counts_its_lines() -> None:
    source = BY_NAME["ten-megabytes"].source
    index = LineIndex(source)
    assert index.line_count == source.count(b"\n") + 1
    last = len(source) - len(b"end\n")
    assert index.position(last, "utf-16") == (index.line_count - 2, 0)
    assert index.offset(index.line_count - 2, 0, "utf-16") == last


def test_a_position_inside_a_crlf_pair_maps_to_the_end_of_its_line() -> None:
    # Not a character boundary a finding may use, but a client may still name it.
    index = LineIndex(b"a\r\nb")
    assert index.position(2) == (0, 1)
    assert index.offset(0, 1) == 1


def test_the_time_budget_covers_deep_if_nesting_with_a_smaller_budget() -> None:
    result = analyze(
        BY_NAME["nested-ifs"].source, "lib/app/deep.ex", config=Config(time_budget_ms=50)
    )
    (finding,) = result.findings
    assert finding.code == budget.SKIPPED_CODE and "50 ms budget" in finding.message


def test_a_bom_is_not_counted_as_a_column_of_the_first_line() -> None:
    # U+FEFF is a character like any other to LSP: one UTF-16 unit, three UTF-8 bytes.
    index = LineIndex(b"\xef\xbb\xbfdefmodule")
    assert index.position(3, "utf-16") == (0, 1)
    assert index.position(3, "utf-8") == (0, 3)


@pytest.mark.parametrize("column", [2, 4, 5, 6])
def test_a_utf8_column_inside_a_character_means_its_start(column: int) -> None:
    # An edit there would otherwise cut `é` or `😀` in two and leave invalid UTF-8.
    source = "aé😀b".encode()
    assert LineIndex(source).offset(0, column, "utf-8") == (1 if column == 2 else 3)


def test_invalid_utf8_bytes_are_each_their_own_utf8_column() -> None:
    # No valid character to snap back to: a truncated sequence or stray continuation bytes.
    assert [LineIndex(b"\xe2\x82b").offset(0, c, "utf-8") for c in range(4)] == [0, 1, 2, 3]
    assert [LineIndex(b"a\x80\x80").offset(0, c, "utf-8") for c in range(4)] == [0, 1, 2, 3]
