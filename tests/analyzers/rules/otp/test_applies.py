"""The OT family's shared ``applies`` test: the words and paths its rules require, nothing more."""

from __future__ import annotations

from hypothesis import given, settings

from analyzers.rules.otp import processes, terms
from analyzers.rules.otp.support import (
    OTP_FUNCTIONS,
    OTP_WORDS,
    is_script_or_test,
    may_concern_otp,
)
from tests.analyzers.rules.family_applies import (
    cases,
    elixir_context,
    findings_with_and_without_applies,
)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_applies_is_the_words_in_production_code(case: tuple[bytes, str]) -> None:
    # The `.exs` exit by name must agree with is_script_or_test.
    source, path = case
    ctx = elixir_context(source, path)
    expected = any(word in source for word in OTP_WORDS) and not is_script_or_test(path)
    assert may_concern_otp(ctx) == expected


def test_a_script_is_never_concerned() -> None:
    source = b"spawn(fn -> :ok end)\n"
    for path in ("priv/repo/seeds.exs", "x.exs", "a\\b.exs", "lib/app/worker.exs"):
        assert not may_concern_otp(elixir_context(source, path))


@settings(max_examples=200, deadline=None)
@given(cases())
def test_applies_asked_of_a_call_index_another_rule_built(case: tuple[bytes, str]) -> None:
    source, path = case
    ctx = elixir_context(source, path, indexed=True)
    concerned = may_concern_otp(ctx)
    assert concerned == (ctx.calls_any(OTP_FUNCTIONS) and not is_script_or_test(path))
    if not concerned:
        _, plain = findings_with_and_without_applies("OT", source, path)
        assert plain == []


def test_the_functions_are_every_one_the_rules_read() -> None:
    read = processes.PROCESS_STARTERS | terms.TO_ATOM_FUNCTIONS
    assert read | {"call", "binary_to_term", "new", "handle_call"} == OTP_FUNCTIONS
