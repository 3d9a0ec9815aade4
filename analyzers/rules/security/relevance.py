"""Whether a file could concern the SC rules at all (their shared ``applies`` test)."""

from __future__ import annotations

from analyzers.context import FileContext

# The words each SC rule requires before it reads any code: SC001 and SC002 `pipeline`
# (a router's), SC003 `raw`.
SECURITY_WORDS = (b"pipeline", b"raw")


def may_concern_security(ctx: FileContext) -> bool:
    """Whether the file spells one of :data:`SECURITY_WORDS` (asked once for the SC rules)."""
    return any(ctx.contains(word) for word in SECURITY_WORDS)
