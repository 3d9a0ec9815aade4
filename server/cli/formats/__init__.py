"""Output formats of ``phxguard check``: one module each, all reading located findings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from analyzers.model import RuleMeta, Severity
from server.cli.located import LocatedFinding


@dataclass(frozen=True)
class RunInfo:
    """What a format may say besides the findings: the run's rules and totals."""

    rules: Sequence[RuleMeta]
    severities: dict[str, Severity] = field(default_factory=dict)
    files_checked: int = 0
    fix_headline: str | None = None
    notifications: Sequence[str] = ()


Renderer = Callable[[Sequence[LocatedFinding], RunInfo], str]
FORMAT_NAMES = ("text", "json", "sarif", "github")


def renderer(name: str) -> Renderer:
    """The render function of format ``name`` (one of :data:`FORMAT_NAMES`)."""
    if name == "json":
        from server.cli.formats.json_output import render as render_json

        return render_json
    if name == "sarif":
        from server.cli.formats.sarif import render as render_sarif

        return render_sarif
    if name == "github":
        from server.cli.formats.github import render as render_github

        return render_github
    if name == "text":
        from server.cli.formats.text import render as render_text

        return render_text
    raise ValueError(f"unknown format {name!r}")
