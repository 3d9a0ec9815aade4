"""Helpers for rule tests: check a snippet, pick findings, apply a fix, prove it parses.

A rule test shows code that is flagged, code that is not, and the exact text
after the fix; :func:`assert_fixed` also proves the fixed text parses (tree-sitter
and Elixir's own parser) and no longer has the finding.
"""

from __future__ import annotations

import textwrap

from analyzers.config import Config
from analyzers.edits import apply_edits
from analyzers.engine import analyze
from analyzers.model import Finding
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts, RepoFacts
from tests.elixir_parser import ElixirParser

MIGRATION_PATH = "priv/repo/migrations/20240101000000_change.exs"


def dedent(source: str) -> str:
    """Dedent a triple-quoted snippet and drop its leading newline."""
    return textwrap.dedent(source).lstrip("\n")


def migration(body: str, *, down: str | None = None, definition: str = "change") -> str:
    """A migration module with ``body`` (unindented) as ``def <definition>``, optionally a ``down``."""

    def indent(text: str) -> str:
        return "\n".join(("    " + line) if line else "" for line in dedent(text).splitlines())

    source = (
        "defmodule MyApp.Repo.Migrations.Change do\n"
        "  use Ecto.Migration\n"
        "\n"
        f"  def {definition} do\n"
        f"{indent(body)}\n"
        "  end\n"
    )
    if down is not None:
        source += f"\n  def down do\n{indent(down)}\n  end\n"
    return source + "end\n"


def check(
    source: str,
    path: str = MIGRATION_PATH,
    *,
    config: Config | None = None,
    facts: ProjectFacts | None = None,
) -> list[Finding]:
    """All findings for ``source`` (dedented) at ``path``; rule failures raise."""
    result = analyze(dedent(source).encode("utf-8"), path, config=config, facts=facts)
    if result.failures:
        raise AssertionError(f"rule failures: {[f.traceback for f in result.failures]}")
    return result.findings


def codes(source: str, path: str = MIGRATION_PATH, **kwargs: object) -> list[str]:
    """The codes found in ``source``, in order."""
    return [f.code for f in check(source, path, **kwargs)]  # type: ignore[arg-type]


def only(code: str, source: str, path: str = MIGRATION_PATH, **kwargs: object) -> list[Finding]:
    """Findings of one rule."""
    return [f for f in check(source, path, **kwargs) if f.code == code]  # type: ignore[arg-type]


def flagged_text(source: str, finding: Finding) -> str:
    """The source text a finding points at."""
    return dedent(source).encode("utf-8")[finding.start : finding.end].decode("utf-8")


def fixed(source: str, finding: Finding, index: int = 0) -> str:
    """``source`` after applying the finding's ``index``-th fix (same-file edits)."""
    fix = finding.fixes[index]
    assert all(e.path is None for e in fix.edits), "cross-file fix: apply per file"
    return apply_edits(dedent(source).encode("utf-8"), fix.edits).decode("utf-8")


def assert_parses(text: str, parser: ElixirParser) -> None:
    """tree-sitter and Elixir both accept ``text``."""
    tree = parse_elixir(text.encode("utf-8"))
    assert not tree.root_node.has_error, f"tree-sitter error in:\n{text}"
    error = parser.check(text)
    assert error is None, f"Elixir cannot parse the fixed code: {error}\n{text}"


def assert_fixed(
    code: str,
    source: str,
    expected: str,
    parser: ElixirParser,
    *,
    path: str = MIGRATION_PATH,
    index: int = 0,
    finding_index: int = 0,
    **kwargs: object,
) -> None:
    """The ``finding_index``-th ``code`` finding's fix turns ``source`` into ``expected``.

    Also: the result parses, and re-checking it no longer reports that finding
    at the fixed place (the rule is satisfied by its own fix).
    """
    findings = only(code, source, path, **kwargs)
    assert findings, f"{code} not reported"
    result = fixed(source, findings[finding_index], index)
    assert result == dedent(expected), f"fixed text differs:\n{result}"
    assert_parses(result, parser)
    after = only(code, result, path, **kwargs)
    assert len(after) < len(findings), f"{code} still reported after its fix: {after}"


def advisory_lock_facts() -> ProjectFacts:
    """A project whose repo config sets ``migration_lock: :pg_advisory_lock``."""
    return ProjectFacts(
        root=".", repos={"MyApp.Repo": RepoFacts("MyApp.Repo", migration_lock="pg_advisory_lock")}
    )


def adapter_facts(adapter: str) -> ProjectFacts:
    """A project whose only repo uses ``adapter`` (e.g. ``Ecto.Adapters.SQLite3``)."""
    return ProjectFacts(root=".", repos={"MyApp.Repo": RepoFacts("MyApp.Repo", adapter=adapter)})
