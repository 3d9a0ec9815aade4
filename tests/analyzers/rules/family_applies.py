"""Shared by the LV, OT, PS and SC ``applies`` tests: a family's test never changes its findings.

The sample app shows every rule of these families. Each case is one of its
files with a stretch of lines left out (so words and modules come and go) under
one of several paths (production, test, script, template); the family's rules
must find the same with their shared ``applies`` test as without it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import strategies as st

from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.engine import analyze
from analyzers.model import Finding
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from analyzers.registry import Rule, all_rules

APP = Path(__file__).resolve().parents[3] / "examples" / "sample_app"
SAMPLE_FILES = sorted(p for p in APP.rglob("*") if p.suffix in {".ex", ".exs", ".heex"})
# Where a file may live: what the OT rules' script/test test and the language read.
PATH_KINDS = (
    "lib/app/{name}",
    "test/app/{name}",
    "lib/mix/tasks/{name}",
    "priv/repo/migrations/{stem}.exs",
    "lib/app_web/{stem}.html.heex",
    "lib/app_web/{stem}.ex",
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[bytes, str]:
    """A sample-app file with some lines left out, and a path for it."""
    file = draw(st.sampled_from(SAMPLE_FILES))
    lines = file.read_bytes().splitlines(keepends=True)
    start = draw(st.integers(0, len(lines)))
    end = draw(st.integers(start, len(lines)))
    kind = draw(st.sampled_from((str(file.relative_to(APP)), *PATH_KINDS)))
    return b"".join(lines[:start] + lines[end:]), kind.format(name=file.name, stem=file.stem)


def family(prefix: str) -> list[Rule]:
    """The registered rules whose codes start with ``prefix``."""
    return [rule for rule in all_rules() if rule.code.startswith(prefix)]


def findings_with_and_without_applies(
    prefix: str, source: bytes, path: str
) -> tuple[list[Finding], list[Finding]]:
    """The family's findings as registered, and with every rule's ``applies`` test removed."""
    rules = family(prefix)
    assert rules and all(rule.applies is not None for rule in rules)
    gated = analyze(source, path, rules=rules)
    plain = analyze(source, path, rules=[replace(rule, applies=None) for rule in rules])
    assert not gated.failures and not plain.failures
    return gated.findings, plain.findings


def elixir_context(source: bytes, path: str, *, indexed: bool = False) -> FileContext:
    """A context of Elixir ``source`` at ``path``; ``indexed``: its calls already indexed.

    An indexed context is what a family's ``applies`` test meets after another
    rule (EC's, in a context module) has read the calls by name.
    """
    ctx = FileContext(
        source, path, "elixir", parse_elixir(source), config=Config(), facts=ProjectFacts()
    )
    if indexed:
        ctx.call_names()
    return ctx
