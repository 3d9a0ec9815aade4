"""OT and PS rules read only the calls of the functions they look for (``ctx.calls_named``).

The plain computation reads every call of the file: with ``calls_named``
answering every call, the rules must find exactly the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from tree_sitter import Node

from analyzers.context import FileContext
from analyzers.engine import analyze
from tests.analyzers.rules.family_applies import SAMPLE_FILES, cases, family


def _every_call(ctx: FileContext, functions: Iterable[str]) -> list[Node]:
    return ctx.nodes("call")


@pytest.mark.parametrize("prefix", ["OT", "PS"])
@settings(max_examples=120, deadline=None)
@given(case=cases())
def test_named_calls_find_what_every_call_finds(prefix: str, case: tuple[bytes, str]) -> None:
    source, path = case
    rules = family(prefix)
    fast = analyze(source, path, rules=rules).findings
    with patch.object(FileContext, "calls_named", _every_call):
        plain = analyze(source, path, rules=rules).findings
    assert fast == plain


def test_the_sample_app_shows_each_rule() -> None:
    # The cases start from these files: each rule must have something to lose.
    found = {f.code for p in SAMPLE_FILES for f in analyze(p.read_bytes(), str(p)).findings}
    assert {r.code for r in family("OT") + family("PS")} <= found
