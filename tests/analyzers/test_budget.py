"""Analysis bounds: oversized, binary, too slow or too deeply nested files degrade to one PX000."""

from __future__ import annotations

import time

import pytest

from analyzers import budget, registry
from analyzers.config import Config, ConfigError, parse_config
from analyzers.context import FileContext
from analyzers.engine import analyze
from analyzers.model import Finding, Severity

FLAGGED = b"""defmodule Shop.Repo.Migrations.AddIndex do
  use Ecto.Migration

  def change do
    create index(:orders, [:user_id])
  end
end
"""
MIGRATION = "priv/repo/migrations/20240101000000_add_index.exs"


def _only_skip(source: bytes, path: str = MIGRATION, config: Config | None = None) -> str:
    findings = analyze(source, path, config=config).findings
    assert [(f.code, f.severity, f.start, f.end, f.path) for f in findings] == [
        (budget.SKIPPED_CODE, Severity.INFO, 0, 0, path)
    ]
    assert findings[0].message.startswith("analysis skipped: ")
    return findings[0].message


def test_a_file_within_the_limits_is_analysed() -> None:
    assert [f.code for f in analyze(FLAGGED, MIGRATION).findings] == ["MG001"]


def test_an_oversized_file_is_skipped_before_parsing() -> None:
    big = FLAGGED + b"# padding\n" * 250_000
    assert len(big) > budget.DEFAULT_MAX_FILE_BYTES
    message = _only_skip(big)
    assert "2.5 MB, over the 2.0 MB limit" in message and "max_file_bytes" in message


def test_the_size_limit_is_configurable() -> None:
    assert (
        analyze(FLAGGED, MIGRATION, config=Config(max_file_bytes=10_000)).findings[0].code
        == "MG001"
    )
    assert "over the 0.0 MB limit" in _only_skip(FLAGGED, config=Config(max_file_bytes=50))


def test_binary_content_is_skipped() -> None:
    binary = bytes(range(256)) * 64
    assert "binary content" in _only_skip(binary, "lib/blob.ex")


def test_a_stray_nul_in_source_is_still_analysed() -> None:
    source = FLAGGED.replace(b"def change do", b'def change do\n    _ = "a\\0b\x00c"')
    assert not budget.is_binary(source)
    assert [f.code for f in analyze(source, MIGRATION).findings] == ["MG001"]


def test_pathological_nesting_stops_at_the_time_budget() -> None:
    depth = 2000
    # String.to_atom's rule climbs the call's parents (the Ecto rules no longer do).
    body = "if x do\n" * depth + "String.to_atom(y)\n" + "end\n" * depth
    source = f"defmodule A do\n  def a(x) do\n    Enum.map(x, fn y -> {body} end)\n  end\nend\n"
    start = time.monotonic()
    message = _only_skip(source.encode(), "lib/a.ex", Config(time_budget_ms=100))
    # The deadline is cooperative but checked while climbing: it stops long before the ~1 s it
    # would otherwise take (generous bound for a loaded machine).
    assert time.monotonic() - start < 5
    assert "longer than the 100 ms budget" in message


def test_the_deadline_is_checked_between_rules() -> None:
    ran: list[str] = []

    def slow(ctx: FileContext) -> list[Finding]:
        ran.append("slow")
        time.sleep(0.05)
        return []

    def after(ctx: FileContext) -> list[Finding]:
        ran.append("after")
        return []

    meta = registry.all_rules()[0].meta
    rules = [registry.Rule(meta, check, frozenset({"elixir"})) for check in (slow, after)]
    findings = analyze(b"x = 1\n", "lib/a.ex", config=Config(time_budget_ms=10), rules=rules)
    assert [f.code for f in findings.findings] == [budget.SKIPPED_CODE]
    assert ran == ["slow"]


def test_recursion_limits_become_a_skip_not_a_rule_failure() -> None:
    def deep(ctx: object) -> list[object]:
        raise RecursionError("maximum recursion depth exceeded")

    rule = registry.all_rules()[0]
    result = analyze(FLAGGED, MIGRATION, rules=[registry.Rule(rule.meta, deep, rule.languages)])
    assert result.failures == []
    assert [f.message for f in result.findings] == [
        "analysis skipped: the code is nested too deeply to analyse"
    ]


@pytest.mark.parametrize("key", ["max_file_bytes", "time_budget_ms"])
@pytest.mark.parametrize("value", ["0", "-5", '"big"', "true", "1.5"])
def test_limits_must_be_positive_whole_numbers(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"`{key}`: expected a positive whole number"):
        parse_config(f"{key} = {value}\n".encode(), ".phxguard.toml")


def test_limits_are_read_from_config() -> None:
    config = parse_config(b"max_file_bytes = 5000000\ntime_budget_ms = 800\n", ".phxguard.toml")
    assert (config.max_file_bytes, config.time_budget_ms) == (5_000_000, 800)


def test_a_nested_deadline_keeps_the_earliest_and_each_is_undone_on_leaving() -> None:
    assert budget.current_deadline() is None
    with budget.deadline(10):
        outer = budget.current_deadline()
        assert outer is not None
        with budget.deadline(100):
            assert budget.current_deadline() == outer
        with budget.deadline(0.001):
            inner = budget.current_deadline()
            assert inner is not None and inner < outer
            time.sleep(0.002)
            with pytest.raises(budget.BudgetExceeded):
                budget.check()
        assert budget.current_deadline() == outer
    assert budget.current_deadline() is None
