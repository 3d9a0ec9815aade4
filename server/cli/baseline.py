"""Baselines: accept the findings a legacy codebase already has, fail only on new ones.

A finding's fingerprint is its rule code, its path relative to the project
root (POSIX), the flagged source text with whitespace collapsed, and its
occurrence index among findings sharing those three. Line numbers are not part
of it, so edits elsewhere in a file (and the line shifts they cause) keep old
findings suppressed, while a second copy of the same mistake is new.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from analyzers.model import Finding

if TYPE_CHECKING:
    from server.cli.check import FileResult, Workspace

BASELINE_VERSION = 1
_WHITESPACE = re.compile(r"\s+")


class BaselineError(Exception):
    """A baseline file that is missing or cannot be read as a phxguard baseline."""


@dataclass(frozen=True, order=True)
class Fingerprint:
    """What identifies a finding across unrelated edits."""

    code: str
    path: str
    text: str
    occurrence: int


def normalised_text(source: bytes, start: int, end: int) -> str:
    """The flagged code with every run of whitespace collapsed to one space."""
    text = source[start:end].decode("utf-8", errors="replace")
    return _WHITESPACE.sub(" ", text).strip()


def file_fingerprints(
    rel_path: str, source: bytes, findings: Iterable[Finding]
) -> list[Fingerprint]:
    """Fingerprints of one file's findings, in the order given.

    Occurrences are counted in source order so they do not depend on the
    order rules ran in.
    """
    items = list(findings)
    order = sorted(range(len(items)), key=lambda i: (items[i].start, items[i].end, items[i].code))
    seen: Counter[tuple[str, str]] = Counter()
    prints: list[Fingerprint | None] = [None] * len(items)
    for i in order:
        finding = items[i]
        text = normalised_text(source, finding.start, finding.end)
        key = (finding.code, text)
        prints[i] = Fingerprint(finding.code, rel_path, text, seen[key])
        seen[key] += 1
    return [p for p in prints if p is not None]


@dataclass
class Baseline:
    """The fingerprints accepted by a baseline file."""

    entries: frozenset[Fingerprint]

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """Read ``path``; raises BaselineError with a message a user can act on."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(
                f"baseline {path} does not exist (create it with --update-baseline)"
            ) from None
        except OSError as exc:
            raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
            raise BaselineError(
                f"baseline {path} is not a phxguard baseline (version {BASELINE_VERSION})"
            )
        raw = data.get("findings")
        if not isinstance(raw, list):
            raise BaselineError(f"baseline {path}: 'findings' must be a list")
        entries: set[Fingerprint] = set()
        for item in raw:
            try:
                entries.add(
                    Fingerprint(
                        str(item["code"]),
                        str(item["path"]),
                        str(item["text"]),
                        int(item["occurrence"]),
                    )
                )
            except (TypeError, KeyError, ValueError):
                raise BaselineError(f"baseline {path}: malformed entry {item!r}") from None
        return cls(frozenset(entries))

    def dump(self) -> str:
        """The file's JSON text: sorted entries, so it diffs well in review."""
        payload = {
            "version": BASELINE_VERSION,
            "tool": "phxguard",
            "findings": [
                {"code": e.code, "path": e.path, "text": e.text, "occurrence": e.occurrence}
                for e in sorted(self.entries)
            ],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def fingerprints_of(
    ws: Workspace, results: dict[Path, FileResult]
) -> dict[Path, list[Fingerprint]]:
    """Each analysed file's findings' fingerprints, parallel to ``result.findings``."""
    return {
        path: file_fingerprints(ws.analysis_path(path), fr.source, fr.result.findings)
        for path, fr in results.items()
    }


def apply_baseline(
    ws: Workspace, results: dict[Path, FileResult], baseline: Baseline
) -> tuple[dict[Path, FileResult], list[Fingerprint]]:
    """Results without the baselined findings, and the stale entries.

    Stale entries are baseline entries for the files analysed in this run
    that no current finding matches; entries for files not analysed are
    neither used nor stale.
    """
    prints = fingerprints_of(ws, results)
    matched: set[Fingerprint] = set()
    kept: dict[Path, FileResult] = {}
    for path, fr in results.items():
        findings = []
        for finding, fingerprint in zip(fr.result.findings, prints[path], strict=True):
            if fingerprint in baseline.entries:
                matched.add(fingerprint)
            else:
                findings.append(finding)
        kept[path] = replace(fr, result=replace(fr.result, findings=findings))
    analysed = {ws.analysis_path(path) for path in results}
    stale = sorted(e for e in baseline.entries if e.path in analysed and e not in matched)
    return kept, stale


def updated_baseline(
    ws: Workspace, results: dict[Path, FileResult], previous: Baseline | None
) -> Baseline:
    """The current findings' fingerprints, keeping previous entries for files not analysed."""
    prints = fingerprints_of(ws, results)
    entries = {p for file_prints in prints.values() for p in file_prints}
    if previous is not None:
        analysed = {ws.analysis_path(path) for path in results}
        entries |= {e for e in previous.entries if e.path not in analysed}
    return Baseline(frozenset(entries))
