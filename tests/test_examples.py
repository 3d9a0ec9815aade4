"""The sample app in examples/ shows every rule that has landed, and its safe code stays quiet."""

from __future__ import annotations

from pathlib import Path

from analyzers.config import load_config
from analyzers.engine import analyze
from analyzers.project import load_project_facts
from analyzers.registry import all_rules

APP = Path(__file__).resolve().parents[1] / "examples" / "sample_app"
SAFE_FILES = {
    "20240101090000_create_posts.exs",
    "20240702110000_add_posts_published_index.exs",
}


def findings_by_file() -> dict[str, list[str]]:
    facts = load_project_facts(APP)
    config = load_config(APP / ".phxguard.toml")
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in APP.rglob("*") if p.suffix in {".ex", ".exs", ".heex"}):
        result = analyze(path.read_bytes(), str(path), facts=facts, config=config)
        assert result.failures == [], result.failures
        found[path.name] = [f.code for f in result.findings]
    return found


def test_every_registered_rule_is_shown_by_the_sample_app() -> None:
    shown = {code for codes in findings_by_file().values() for code in codes}
    expected = {r.code for r in all_rules()}
    assert expected - shown == set(), f"no example shows {sorted(expected - shown)}"


def test_safe_migrations_and_reviewed_annotations_stay_quiet() -> None:
    found = findings_by_file()
    for name in SAFE_FILES:
        assert found[name] == [], (name, found[name])
    # The reviewed check constraint is annotated; the NOT VALID one is safe.
    assert found["20240805140000_add_reviewed_constraint.exs"] == []
