"""Whether a file could concern the SC rules at all (their shared ``applies`` test)."""

from __future__ import annotations

from analyzers.context import FileContext

# SC001 and SC002 read a router's `pipeline`s. SC003 reads `raw` calls in templates: a
# `.heex` file, or the `~H` sigils of an Elixir file (see analyzers.heex.templates).
PIPELINE_WORD = b"pipeline"
RAW_WORD = b"raw"
SIGIL_WORD = b"~H"


def may_concern_security(ctx: FileContext) -> bool:
    """Whether a router rule (``pipeline``) or the template rule (``raw`` in a template) may apply.

    Asked once for the SC rules. ``~H`` comes first: its ``~`` is absent from
    most Elixir files, which settles the template rule in one byte search.
    """
    in_template = ctx.language != "elixir" or ctx.contains(SIGIL_WORD)
    return (in_template and ctx.contains(RAW_WORD)) or ctx.contains(PIPELINE_WORD)
