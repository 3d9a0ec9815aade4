"""Suppression comments, phxguard's own and excellent_migrations' aliases."""

from __future__ import annotations

from analyzers.model import Finding, Severity
from analyzers.suppressions import collect, comment_spans_fallback, comment_spans_heex
from analyzers.text import LineIndex


def finding_at(source: bytes, needle: bytes, code: str) -> Finding:
    start = source.index(needle)
    return Finding(code, start, start + len(needle), "m", Severity.WARNING)


def silenced(source: bytes, needle: bytes, code: str) -> bool:
    index = LineIndex(source)
    found = collect(source, comment_spans_fallback(source), index)
    return found.covers(finding_at(source, needle, code), index)


def test_next_line_skips_stacked_comments_and_reasons() -> None:
    source = (
        b"# phxguard:disable-next-line MG001, MG002 -- small table\n"
        b"# reviewed by ops\n"
        b"create index(:t, [:a])\n"
        b"create index(:u, [:a])\n"
    )
    assert silenced(source, b"create index(:t", "MG001")
    assert silenced(source, b"create index(:t", "MG002")
    assert not silenced(source, b"create index(:t", "MG004")
    assert not silenced(source, b"create index(:u", "MG001")


def test_same_line_and_file_wide() -> None:
    source = b"remove :a # phxguard:disable-line MG008\nremove :b\n"
    assert silenced(source, b"remove :a", "MG008")
    assert not silenced(source, b"remove :b", "MG008")
    whole = b"# phxguard:disable-file MG\nremove :b\n"
    assert silenced(whole, b"remove :b", "MG008")


def test_bare_directive_silences_every_rule_on_its_line() -> None:
    source = b"# phxguard:disable-next-line\nremove :a\n"
    assert silenced(source, b"remove :a", "MG008")


def test_excellent_migrations_aliases() -> None:
    source = (
        b"# excellent_migrations:safety-assured-for-this-file column_removed\n"
        b"# excellent_migrations:safety-assured-for-next-line index_not_concurrently raw_sql_executed\n"
        b"create index(:t, [:a])\n"
        b"remove :a\n"
        b'execute "x"\n'
    )
    assert silenced(source, b"create index", "MG001")
    assert silenced(source, b"create index", "MG011")
    assert silenced(source, b"remove :a", "MG008")
    assert not silenced(source, b"execute", "MG011")


def test_heex_comment_spans() -> None:
    source = b'<%!-- phxguard:disable-next-line LV005 --%>\n<button phx-click="go">Go</button>\n'
    index = LineIndex(source)
    found = collect(source, comment_spans_heex(source), index)
    assert found.covers(finding_at(source, b"<button", "LV005"), index)
