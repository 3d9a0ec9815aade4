"""Whether a file could concern the PS rules at all (their shared ``applies`` test)."""

from __future__ import annotations

from analyzers.context import FileContext

# The words each PS rule requires before it reads any code: PS001 `broadcast`, PS002
# `def join`, PS003 `handle_info` and `subscribe` (of which `subscribe` is the rarer).
# `def join` first: its `j` is absent from most files, which settles it in one byte search.
PUBSUB_WORDS = (b"def join", b"broadcast", b"subscribe")
# Broadcast functions and the index of the message among their arguments (PS001).
PUBSUB_BROADCASTS = {
    "broadcast": 2,
    "broadcast!": 2,
    "local_broadcast": 2,
    "broadcast_from": 3,
    "broadcast_from!": 3,
    "local_broadcast_from": 3,
}
# The functions whose calls each PS rule reads: PS001 the broadcasts; PS002 and PS003 the
# `join/3` and `handle_info/2` definitions, whose heads are calls of them.
PUBSUB_FUNCTIONS = frozenset(PUBSUB_BROADCASTS) | {"join", "handle_info"}


def may_concern_pubsub(ctx: FileContext) -> bool:
    """Whether the file may concern a PS rule (asked once for the family).

    It must spell one of :data:`PUBSUB_WORDS`, and call one of
    :data:`PUBSUB_FUNCTIONS`: where another rule has indexed the calls
    already, asking the index costs less than searching the text.
    """
    return ctx.may_call(PUBSUB_FUNCTIONS, PUBSUB_WORDS)
