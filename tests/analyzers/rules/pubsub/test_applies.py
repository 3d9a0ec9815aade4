"""The PS family's shared ``applies`` test never changes what its rules find."""

from __future__ import annotations

from hypothesis import given, settings

from analyzers.rules.pubsub.broadcasts import PUBSUB_BROADCASTS
from analyzers.rules.pubsub.relevance import PUBSUB_FUNCTIONS, may_concern_pubsub
from tests.analyzers.rules.family_applies import (
    cases,
    elixir_context,
    findings_with_and_without_applies,
)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_applies_asked_of_a_call_index_another_rule_built(case: tuple[bytes, str]) -> None:
    source, path = case
    if path.endswith(".heex"):
        return
    ctx = elixir_context(source, path, indexed=True)
    concerned = may_concern_pubsub(ctx)
    assert concerned == ctx.calls_any(PUBSUB_FUNCTIONS)
    if not concerned:
        _, plain = findings_with_and_without_applies("PS", source, path)
        assert plain == []


def test_the_functions_are_every_one_the_rules_read() -> None:
    assert set(PUBSUB_BROADCASTS) | {"join", "handle_info"} == PUBSUB_FUNCTIONS
