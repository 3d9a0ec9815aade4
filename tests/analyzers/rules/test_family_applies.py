"""A family's shared ``applies`` test never changes what its rules find (LV, OT, PS, SC).

Each family's own ``test_applies`` checks what its test asks; here, its rules
must find the same with the test as without it, on cut sample-app files under
several paths (see :mod:`tests.analyzers.rules.family_applies`).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.analyzers.rules.family_applies import cases, findings_with_and_without_applies


@pytest.mark.parametrize("prefix", ["LV", "OT", "PS", "SC"])
@settings(max_examples=120, deadline=None)
@given(cases())
def test_applies_never_changes_findings(prefix: str, case: tuple[bytes, str]) -> None:
    gated, plain = findings_with_and_without_applies(prefix, *case)
    assert gated == plain
