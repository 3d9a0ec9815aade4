"""The engine: rule isolation, language dispatch, suppressions, severity overrides."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers import engine, registry
from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.engine import analyze, language_for
from analyzers.model import Finding, RuleMeta, Severity
from analyzers.registry import Rule
from tests.ruletools import dedent

META = RuleMeta(
    code="ZZ001",
    slug="every-def",
    title="A def",
    severity=Severity.WARNING,
    rationale="Test rule: flags every def so the engine's plumbing can be observed.",
    safe_pattern="defp x, do: :ok",
)
BROKEN = RuleMeta(
    code="ZZ002",
    slug="broken",
    title="Broken",
    severity=Severity.ERROR,
    rationale="Test rule that raises, to prove one broken rule cannot hide the others.",
    safe_pattern=":ok",
)


def flag_defs(ctx: FileContext) -> Iterable[Finding]:
    for node in ctx.nodes("call"):
        if (
            node.child_by_field_name("target") is not None
            and node.text
            and node.text.startswith(b"def ")
        ):
            yield ctx.finding(META, node)


def explode(ctx: FileContext) -> Iterable[Finding]:
    raise RuntimeError("boom")


RULES = [Rule(BROKEN, explode, frozenset({"elixir"})), Rule(META, flag_defs, frozenset({"elixir"}))]

SOURCE = dedent(
    """
    defmodule M do
      def a, do: 1
      # phxguard:disable-next-line ZZ001 -- generated
      def b, do: 2
      def c, do: 3 # phxguard:disable-line ZZ001
      def d, do: 4
    end
    """
).encode()


def test_a_failing_rule_is_recorded_and_the_others_still_report() -> None:
    result = analyze(SOURCE, "lib/m.ex", rules=RULES)
    assert [f.code for f in result.failures] == ["ZZ002"]
    assert "boom" in result.failures[0].error
    lines = [SOURCE[: f.start].count(b"\n") for f in result.findings]
    assert lines == [1, 5]  # b and c are suppressed


def test_disable_file_and_family_prefix() -> None:
    source = b"# phxguard:disable-file ZZ\n" + SOURCE
    assert analyze(source, "lib/m.ex", rules=RULES).findings == []


def test_config_disables_and_overrides_severity() -> None:
    config = Config(severity={"ZZ001": Severity.INFO})
    findings = analyze(SOURCE, "lib/m.ex", rules=RULES, config=config).findings
    assert {f.severity for f in findings} == {Severity.INFO}
    assert analyze(SOURCE, "lib/m.ex", rules=RULES, config=Config(ignore=("ZZ001",))).findings == []


def test_language_dispatch_by_id_and_suffix() -> None:
    assert language_for("a.ex") == "elixir" and language_for("a.exs") == "elixir"
    assert language_for("a.html.heex") == "heex"
    assert language_for("x", "phoenix-heex") == "heex" and language_for("x", "heex") == "heex"
    assert language_for("a.txt") is None


def test_broken_and_binary_input_never_raise() -> None:
    for source in (b"", b"\x00\xff\xfe" * 100, b"defmodule M do\n  def (\n", "é\u2028".encode()):
        result = analyze(source, "priv/repo/migrations/1_x.exs")
        assert result.failures == []


def test_registered_rules_follow_registration_and_config() -> None:
    # The engine keeps each config's selection of registered rules between files;
    # registering a rule, or another config, must still be seen on the next file.
    config = Config(select=("ZZ",))
    assert analyze(SOURCE, "lib/m.ex", config=config).findings == []
    registry.register(META)(flag_defs)
    try:
        found = analyze(SOURCE, "lib/m.ex", config=config).findings
        assert [SOURCE[: f.start].count(b"\n") for f in found] == [1, 5]
        assert analyze(SOURCE, "lib/m.ex", config=Config(select=("ZZ002",))).findings == []
    finally:
        registry.unregister(META.code)
    assert analyze(SOURCE, "lib/m.ex", config=config).findings == []


def test_findings_keep_their_path_and_take_configured_severity() -> None:
    def elsewhere(ctx: FileContext) -> Iterable[Finding]:
        # A rule that builds its finding by hand, without the file's path.
        yield Finding(META.code, 0, 9, "here", Severity.WARNING)

    rules = [Rule(META, elsewhere, frozenset({"elixir"}))]
    (plain,) = analyze(SOURCE, "lib/m.ex", rules=rules).findings
    assert (plain.path, plain.severity) == ("lib/m.ex", Severity.WARNING)
    config = Config(severity={"ZZ": Severity.ERROR})
    (raised,) = analyze(SOURCE, "lib/m.ex", rules=rules, config=config).findings
    assert (raised.path, raised.severity) == ("lib/m.ex", Severity.ERROR)


def test_a_shared_applies_test_is_asked_once_per_file_and_skips_its_rules() -> None:
    asked: list[str] = []
    checked: list[str] = []

    def mentions_migration(ctx: FileContext) -> bool:
        asked.append(ctx.path)
        return b"Ecto.Migration" in ctx.source

    def recording(ctx: FileContext) -> Iterable[Finding]:
        checked.append(ctx.path)
        yield from flag_defs(ctx)

    rules = [
        Rule(META, recording, frozenset({"elixir"}), applies=mentions_migration),
        Rule(BROKEN, recording, frozenset({"elixir"}), applies=mentions_migration),
    ]
    assert analyze(SOURCE, "lib/m.ex", rules=rules).findings == []
    assert (asked, checked) == (["lib/m.ex"], [])
    migration = b"# Ecto.Migration\n" + SOURCE
    found = analyze(migration, "lib/n.ex", rules=rules).findings
    assert asked == ["lib/m.ex", "lib/n.ex"] and checked == ["lib/n.ex", "lib/n.ex"]
    assert {f.code for f in found} == {"ZZ001"}

    # A rule without the test between two with it runs; the two are skipped all the same.
    asked.clear()
    checked.clear()
    between = [rules[0], Rule(META, recording, frozenset({"elixir"})), rules[1]]
    assert {f.code for f in analyze(SOURCE, "lib/o.ex", rules=between).findings} == {"ZZ001"}
    assert (asked, checked) == (["lib/o.ex"], ["lib/o.ex"])


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab./\\xeEhs", max_size=14))
def test_a_files_suffix_is_read_as_pathlib_reads_it(path: str) -> None:
    assert engine._suffix(path) == PurePath(path).suffix
