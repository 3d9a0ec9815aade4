"""GitHub Actions workflow commands: one ``::warning file=...::message`` annotation per finding.

Severities map to ``error``, ``warning`` and ``notice``. Values are escaped as
the Actions runner expects (``%``, CR, LF everywhere; ``:`` and ``,`` in
properties too).
"""

from __future__ import annotations

from collections.abc import Sequence

from analyzers.model import Severity
from server.cli.formats import RunInfo
from server.cli.located import LocatedFinding

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: LocatedFinding) -> str:
    """The workflow command for one finding."""
    span = finding.span
    props = ",".join(
        [
            f"file={escape_property(finding.path)}",
            f"line={span.line}",
            f"col={span.column}",
            f"endLine={span.end_line}",
            f"endColumn={span.end_column}",
            f"title={escape_property(f'{finding.code} {finding.slug}')}",
        ]
    )
    return f"::{COMMANDS[finding.severity]} {props}::{escape_data(finding.message)}"


def render(findings: Sequence[LocatedFinding], info: RunInfo) -> str:
    """All annotations, one per line (nothing else: the runner reads every line)."""
    return "".join(annotation(f) + "\n" for f in findings)
