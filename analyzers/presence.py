"""Which byte strings a source contains, remembered across the edits of one document.

Most rules first ask whether the file could concern them at all (``b"render"
in source``); on a large module the twenty such scans cost about a millisecond
per keystroke, mostly to learn again that a string is still absent. An absent
string stays absent after an edit unless it now occurs where the edit touched,
so only that window is searched again. A string that was present is searched
for afresh when asked (the edit may have removed its last occurrence).
"""

from __future__ import annotations

import functools

from analyzers.parsing import changed_span

# Bytes of Elixir source, from the most to the least common (by the share of files that
# contain each, over ~4,700 files of public Phoenix applications); unlisted bytes are rarer.
_COMMON_FIRST = b" nomefislud.ratpc,g:b_()hvyE\"xCwkTM{}ASLR[]=>P%-UD@1Hq|#/I0NOWB2Fj!3z<?4G5~V6&'\\KQ8`9+J7^*Y;XZ$"
_RANK = {byte: rank for rank, byte in enumerate(_COMMON_FIRST)}


@functools.cache
def _rarest_byte(needle: bytes) -> bytes:
    """The byte of ``needle`` least likely to occur in a source file (none of an empty one)."""
    if not needle:
        return b""
    return bytes([max(needle, key=lambda byte: _RANK.get(byte, len(_COMMON_FIRST)))])


class Presence:
    """Answers ``needle in source`` for one source, remembering the answers."""

    __slots__ = ("_known", "source")

    def __init__(self, source: bytes, known: dict[bytes, bool] | None = None) -> None:
        self.source = source
        self._known: dict[bytes, bool] = known if known is not None else {}

    def contains(self, needle: bytes) -> bool:
        """Whether ``needle`` occurs in the source.

        Its rarest byte is looked for first: a one-byte search runs several
        times faster than a longer one, and an absent byte settles it (``~`` of
        ``~H`` is in under a third of files).
        """
        found = self._known.get(needle)
        if found is None:
            source = self.source
            found = self._known[needle] = _rarest_byte(needle) in source and needle in source
        return found

    def after_edit(self, source: bytes) -> Presence:
        """The answers for ``source``, an edited version of this one, as far as they carry over.

        A needle absent before is present now only if an occurrence overlaps
        the changed stretch, so only that window (widened by the needle's
        length) is searched.
        """
        if source is self.source or source == self.source:
            return Presence(source, dict(self._known))
        start, _, new_end = changed_span(self.source, source)
        known: dict[bytes, bool] = {}
        for needle, present in self._known.items():
            if present:
                continue
            reach = len(needle) - 1
            window = source[max(0, start - reach) : new_end + reach]
            known[needle] = needle in window
        return Presence(source, known)
