"""Whether a file could concern the PS rules at all (their shared ``applies`` test)."""

from __future__ import annotations

from analyzers.context import FileContext

# The words each PS rule requires before it reads any code: PS001 `broadcast`, PS002
# `def join`, PS003 `handle_info` and `subscribe` (of which `subscribe` is the rarer).
# `def join` first: its `j` is absent from most files, which settles it in one byte search.
PUBSUB_WORDS = (b"def join", b"broadcast", b"subscribe")


def may_concern_pubsub(ctx: FileContext) -> bool:
    """Whether the file spells one of :data:`PUBSUB_WORDS` (asked once for the PS rules)."""
    return any(ctx.contains(word) for word in PUBSUB_WORDS)
