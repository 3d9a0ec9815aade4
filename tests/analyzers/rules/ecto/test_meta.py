"""EC metadata: slugs as catalogued, safe patterns that parse and do not trip any EC rule."""

from __future__ import annotations

import pytest

from analyzers.registry import get_rule
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_parses, check

SLUGS = {
    "EC001": "n-plus-one",
    "EC002": "multi-write-without-transaction",
    "EC003": "raw-sql-interpolation",
    "EC004": "unbounded-query",
    "EC005": "unloaded-association",
}


@pytest.mark.parametrize("code", sorted(SLUGS))
def test_safe_pattern_parses_and_stays_quiet(code: str, elixir_parser: ElixirParser) -> None:
    rule = get_rule(code)
    assert rule is not None
    assert rule.meta.slug == SLUGS[code]
    sample = rule.meta.safe_pattern
    assert_parses(sample, elixir_parser)
    body = "\n".join("  " + line if line else "" for line in sample.splitlines())
    module = "MyAppWeb.PostController" if code == "EC004" else "MyApp.Blog"
    path = (
        "lib/my_app_web/controllers/post_controller.ex" if code == "EC004" else "lib/my_app/blog.ex"
    )
    source = f"defmodule {module} do\n  import Ecto.Query\n  alias MyApp.Repo\n\n{body}\nend\n"
    assert [f.code for f in check(source, path) if f.code.startswith("EC")] == []
