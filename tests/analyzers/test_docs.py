"""The shipped rule docs and the README rule table are rendered from rule metadata and current."""

from __future__ import annotations

import re
from pathlib import Path

from analyzers import __version__
from analyzers.explain import DOCS_FILE, anchor, docs_uri, html_document, markdown_table
from analyzers.registry import all_rules

ROOT = Path(__file__).resolve().parents[2]


def test_every_rule_has_complete_metadata() -> None:
    rules = all_rules()
    assert rules, "no rules registered"
    for rule in rules:
        meta = rule.meta
        assert re.fullmatch(r"[A-Z]{2}\d{3}", meta.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta.slug), meta.slug
        assert meta.title and meta.rationale and meta.safe_pattern.strip(), meta.code
        assert len(meta.rationale) > 80, f"{meta.code}: rationale too thin to explain anything"


def test_shipped_html_docs_are_current() -> None:
    expected = html_document([r.meta for r in all_rules()], __version__)
    assert DOCS_FILE.read_text(encoding="utf-8") == expected, (
        "analyzers/docs/rules.html is stale: run `phxguard rules --format html > "
        "analyzers/docs/rules.html`"
    )


def test_docs_uri_points_at_an_anchor_in_the_shipped_file() -> None:
    html = DOCS_FILE.read_text(encoding="utf-8")
    for rule in all_rules():
        uri = docs_uri(rule.meta)
        assert uri.startswith("file:") and uri.endswith("#" + anchor(rule.meta))
        assert f'id="{anchor(rule.meta)}"' in html


def test_readme_rule_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- rules:start -->\n(.*?)<!-- rules:end -->", readme, re.DOTALL)
    assert match, "README.md lacks the <!-- rules:start --> / <!-- rules:end --> markers"
    assert match.group(1) == markdown_table(r.meta for r in all_rules()), (
        "README rule table is stale: run `phxguard rules --format markdown` and paste it"
    )
