"""Running the analyzers over open documents, and remembering the latest result per document.

A result is tied to the document version and to the settings generation it
was computed with; anything else is stale and is recomputed (or dropped, if a
newer one already exists) rather than shown.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analyzers.config import Config
from analyzers.engine import RuleFailure, analyze
from analyzers.model import Finding
from analyzers.project import ProjectFacts
from server.files import is_excluded
from server.lsp.documents import Document

log = logging.getLogger(__name__)

_RESULT_IDS = itertools.count(1)


@dataclass(frozen=True)
class Analysis:
    """The findings of one document version under one settings generation."""

    uri: str
    version: int
    generation: int
    findings: tuple[Finding, ...]
    result_id: str = field(default_factory=lambda: str(next(_RESULT_IDS)))


class Analyzer:
    """Analyses documents with the current config and project facts; keeps the latest results."""

    def __init__(self, on_failures: Callable[[list[RuleFailure]], None]) -> None:
        self.config = Config()
        self.facts = ProjectFacts()
        self.root: Path | None = None
        self.generation = 0
        self._results: dict[str, Analysis] = {}
        self._on_failures = on_failures

    def reconfigure(
        self,
        *,
        config: Config | None = None,
        facts: ProjectFacts | None = None,
        root: Path | None = None,
    ) -> None:
        """Adopt new settings or facts; every stored result becomes stale."""
        if config is not None:
            self.config = config
        if facts is not None:
            self.facts = facts
        if root is not None:
            self.root = root
        self.generation += 1

    def latest(self, uri: str) -> Analysis | None:
        """The last result stored for ``uri`` (possibly stale)."""
        return self._results.get(uri)

    def is_fresh(self, doc: Document) -> bool:
        """Whether the stored result matches the document's version and current settings."""
        result = self._results.get(doc.uri)
        return (
            result is not None
            and result.version == doc.version
            and result.generation == self.generation
        )

    def current(self, doc: Document) -> Analysis:
        """The result for the document as it is now, analysing it if needed."""
        if self.is_fresh(doc):
            return self._results[doc.uri]
        return self.run(doc)

    def run(self, doc: Document) -> Analysis:
        """Analyse ``doc`` now and store the result."""
        findings: tuple[Finding, ...] = ()
        if doc.language is not None and not self._excluded(doc):
            result = analyze(
                doc.source,
                doc.path,
                config=self.config,
                facts=self.facts,
                tree=doc.tree,
                language=doc.language,
            )
            findings = tuple(result.findings)
            if result.failures:
                self._on_failures(result.failures)
        analysis = Analysis(doc.uri, doc.version, self.generation, findings)
        self._results[doc.uri] = analysis
        return analysis

    def forget(self, uri: str) -> None:
        """Drop the stored result of a closed document."""
        self._results.pop(uri, None)

    def _excluded(self, doc: Document) -> bool:
        if self.root is None or not doc.path:
            return False
        try:
            return is_excluded(Path(doc.path), self.root, self.config.exclude)
        except (OSError, ValueError):
            return False
