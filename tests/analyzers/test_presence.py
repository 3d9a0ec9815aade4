"""Carried-over answers to "does the source contain this?" equal a fresh search, edit after edit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.presence import Presence

NEEDLES = (b"ab", b"abc", b"render", b"~H", b"a", b"cab")
ALPHABET = "abcHr~ender\n"


@st.composite
def edits(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """A source and edits (start, end, inserted) applied one after the other."""
    source = draw(st.text(alphabet=ALPHABET, max_size=40)).encode()
    steps: list[tuple[int, int, bytes]] = []
    length = len(source)
    for _ in range(draw(st.integers(1, 10))):
        start = draw(st.integers(0, length))
        end = draw(st.integers(start, length))
        inserted = draw(st.text(alphabet=ALPHABET, max_size=6)).encode()
        steps.append((start, end, inserted))
        length += len(inserted) - (end - start)
    return source, steps


@settings(max_examples=400, deadline=None)
@given(edits(), st.lists(st.sampled_from(NEEDLES), max_size=4))
def test_answers_after_edits_equal_a_fresh_search(
    case: tuple[bytes, list[tuple[int, int, bytes]]], asked_first: list[bytes]
) -> None:
    source, steps = case
    presence = Presence(source)
    for needle in asked_first:
        assert presence.contains(needle) == (needle in source)
    for start, end, inserted in steps:
        source = source[:start] + inserted + source[end:]
        presence = presence.after_edit(source)
        for needle in NEEDLES:
            assert presence.contains(needle) == (needle in source), (needle, source)


def test_an_absent_needle_is_looked_for_only_where_the_edit_was() -> None:
    source = b"x" * 10_000
    presence = Presence(source)
    assert not presence.contains(b"render")
    edited = source[:5000] + b"rend" + source[5000:]
    after = presence.after_edit(edited)
    assert not after.contains(b"render")
    # The whole source is never searched for it: the answer was already known.
    assert after._known == {b"render": False}
    completed = edited[:5004] + b"er" + edited[5004:]
    assert after.after_edit(completed).contains(b"render")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=60), st.binary(max_size=5), st.binary(max_size=3))
def test_any_needle_is_found_as_a_plain_search_finds_it(
    source: bytes, needle: bytes, glue: bytes
) -> None:
    # The rarest byte of the needle is looked for first: present, absent, or present
    # only apart from the rest of the needle.
    for text in (source, source + needle, needle[:1] + glue + needle[1:] + source):
        assert Presence(text).contains(needle) == (needle in text), (needle, text)
