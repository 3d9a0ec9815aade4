"""The SC family's shared ``applies`` test never changes what its rules find."""

from __future__ import annotations

from hypothesis import given, settings

from tests.analyzers.rules.otp.family_applies import cases, findings_with_and_without_applies


@settings(max_examples=120, deadline=None)
@given(cases())
def test_applies_never_changes_findings(case: tuple[bytes, str]) -> None:
    gated, plain = findings_with_and_without_applies("SC", *case)
    assert gated == plain
