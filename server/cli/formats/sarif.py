"""SARIF 2.1.0 output for code-scanning services (GitHub code scanning, Azure DevOps, IDEs).

One run: ``tool.driver.rules`` carries every enabled rule's metadata (help
text and Markdown from :mod:`analyzers.explain`), results carry locations
relative to ``%SRCROOT%`` (the current directory) and fixes as
``artifactChanges``. Columns count Unicode code points
(``columnKind: unicodeCodePoints``), matching the other formats.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from analyzers import __version__
from analyzers.explain import docs_uri, explain_text, hover_markdown
from analyzers.model import RuleMeta, Severity
from server.cli.formats import RunInfo
from server.cli.located import LocatedFinding, Span

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


def _artifact(path: str) -> dict[str, str]:
    return {"uri": quote(path), "uriBaseId": SRCROOT}


def rule_descriptor(meta: RuleMeta, severity: Severity) -> dict[str, Any]:
    """A ``reportingDescriptor`` for one rule."""
    descriptor: dict[str, Any] = {
        "id": meta.code,
        "name": meta.slug,
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.rationale},
        "help": {"text": explain_text(meta), "markdown": hover_markdown(meta)},
        "helpUri": docs_uri(meta),
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"tags": [meta.family]},
    }
    return descriptor


def result_object(finding: LocatedFinding, rule_index: dict[str, int]) -> dict[str, Any]:
    """A ``result`` with its location and fixes."""
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": _region(finding.span),
                }
            }
        ],
    }
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    if finding.fixes:
        result["fixes"] = [_fix_object(fix.title, fix.edits) for fix in finding.fixes]
    return result


def _fix_object(title: str, edits: Sequence[Any]) -> dict[str, Any]:
    by_path: dict[str, list[dict[str, Any]]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(
            {"deletedRegion": _region(edit.span), "insertedContent": {"text": edit.new_text}}
        )
    return {
        "description": {"text": title},
        "artifactChanges": [
            {"artifactLocation": _artifact(path), "replacements": replacements}
            for path, replacements in by_path.items()
        ],
    }


def sarif_log(
    findings: Sequence[LocatedFinding], info: RunInfo, cwd: Path | None = None
) -> dict[str, Any]:
    """The SARIF log as a dict."""
    rules = list(info.rules)
    rule_index = {meta.code: i for i, meta in enumerate(rules)}
    base = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if info.notifications:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": text}} for text in info.notifications
        ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "phxguard",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [
                    rule_descriptor(meta, info.severities.get(meta.code, meta.severity))
                    for meta in rules
                ],
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [result_object(f, rule_index) for f in findings],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(findings: Sequence[LocatedFinding], info: RunInfo) -> str:
    """The SARIF document, indented, ending in a newline."""
    return json.dumps(sarif_log(findings, info), indent=2, ensure_ascii=False) + "\n"
