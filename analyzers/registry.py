"""The rule registry: every rule's metadata and check function, by code."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzers.model import Finding, RuleMeta

if TYPE_CHECKING:
    from analyzers.context import FileContext

CheckFunction = Callable[["FileContext"], Iterable[Finding]]

# Families register themselves on import; this list is what "all rules" means.
RULE_MODULES = (
    "analyzers.rules.migrations",
    "analyzers.rules.liveview",
    "analyzers.rules.ecto",
    "analyzers.rules.pubsub",
    "analyzers.rules.otp",
    "analyzers.rules.security",
)


@dataclass(frozen=True)
class Rule:
    """A rule: its metadata, the function that finds it, and the languages it reads."""

    meta: RuleMeta
    check: CheckFunction
    languages: frozenset[str]
    # What its findings depend on (see analyzers.incremental): "file", "module" or "definition".
    scope: str = "file"
    # A cheap test a family's rules share ("could this file concern us at all?"): the engine
    # asks it once per file for all of them and skips them where it is false.
    applies: Callable[[FileContext], bool] | None = None

    @property
    def code(self) -> str:
        """The rule's code, e.g. ``MG001``."""
        return self.meta.code


_RULES: dict[str, Rule] = {}
# _RULES sorted by code; rebuilt after each registration (analysis asks for it per file).
_SORTED: tuple[Rule, ...] | None = None
_FAMILIES_LOADED = False
_LOAD_LOCK = threading.RLock()


def register(
    meta: RuleMeta,
    *,
    languages: Iterable[str] = ("elixir",),
    scope: str = "file",
    applies: Callable[[FileContext], bool] | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: register ``check`` as the implementation of ``meta``.

    ``scope`` is a promise about what the findings depend on, which lets the
    server re-check only what an edit touched: ``"module"`` (a top-level
    module's findings depend only on that module), ``"definition"`` (a
    definition's findings depend only on it and its module's skeleton; see
    :mod:`analyzers.incremental`), or ``"file"`` (anything in the file).
    ``applies``, shared by a family's rules, must be false only where ``check``
    would find nothing; the engine then does not run ``check`` at all.
    """
    if scope not in {"file", "module", "definition"}:
        raise ValueError(f"rule {meta.code}: unknown scope {scope!r}")

    def decorate(check: CheckFunction) -> CheckFunction:
        global _SORTED
        if meta.code in _RULES and _RULES[meta.code].check is not check:
            raise ValueError(f"rule {meta.code} registered twice")
        _SORTED = None
        _RULES[meta.code] = Rule(
            meta=meta, check=check, languages=frozenset(languages), scope=scope, applies=applies
        )
        return check

    return decorate


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by code (rule families imported on first call)."""
    return list(registered_rules())


def registered_rules() -> tuple[Rule, ...]:
    """Every registered rule, sorted by code, as one shared tuple until the next registration.

    The same object is returned while no rule is registered, so callers may key
    caches on it.
    """
    global _FAMILIES_LOADED, _SORTED
    if not _FAMILIES_LOADED:
        # The server's analysis and facts threads may both ask first: one imports,
        # the other waits (a second importer would see half-initialised modules).
        with _LOAD_LOCK:
            if not _FAMILIES_LOADED:
                for module in RULE_MODULES:
                    importlib.import_module(module)
                _FAMILIES_LOADED = True
    rules = _SORTED
    if rules is None:
        rules = _SORTED = tuple(_RULES[code] for code in sorted(_RULES))
    return rules


def unregister(code: str) -> None:
    """Remove rule ``code`` if registered (tests register throwaway rules)."""
    global _SORTED
    _RULES.pop(code, None)
    _SORTED = None


def get_rule(code: str) -> Rule | None:
    """The rule with ``code`` (case-insensitive), or None."""
    registered_rules()
    return _RULES.get(code.upper())


def known_codes() -> list[str]:
    """All registered rule codes, sorted."""
    return [rule.code for rule in all_rules()]
