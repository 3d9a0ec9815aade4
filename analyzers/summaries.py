"""Facts a unit-scoped rule gathers across a module's definitions, cacheable per definition.

EC001 needs to know which local functions query the database, which depends
on other definitions than the one it reports in. It gives its contributions
here, keyed by an offset inside the definition they come from;
:mod:`analyzers.incremental` keeps each definition's contribution and, when
only some definitions are re-analysed, seeds the others' contributions back.

The contract that keeps this cheap: a rule asks a summary only about names
written in the definition it reports in (a local call's name, the definition's
own name). When a name comes into or leaves a summary, only the definitions
whose text contains it are checked again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from weakref import WeakKeyDictionary, WeakSet

from analyzers.context import FileContext

_recorded: WeakKeyDictionary[FileContext, dict[str, dict[int, frozenset[str]]]] = (
    WeakKeyDictionary()
)
_seeded: WeakKeyDictionary[FileContext, dict[str, frozenset[str]]] = WeakKeyDictionary()
_kept: WeakSet[FileContext] = WeakSet()


def keep(ctx: FileContext) -> None:
    """Mark ``ctx`` as analysed incrementally: its contributions will be read back."""
    _kept.add(ctx)


def kept(ctx: FileContext) -> bool:
    """Whether ``ctx``'s contributions are read back (see :func:`keep`).

    Only then must a rule gather a contribution it has no use for itself: a
    later re-check of another unit reads it. A one-off analysis (the CLI, a
    workspace scan) gathers a summary only when a finding depends on it.
    """
    return ctx in _kept


def unit_summary(
    ctx: FileContext, key: str, contributions: Mapping[int, Iterable[str]]
) -> frozenset[str]:
    """The union of ``contributions`` (offset -> names) and the seeded ones of other units."""
    recorded = {offset: frozenset(names) for offset, names in contributions.items()}
    _recorded.setdefault(ctx, {})[key] = recorded
    seeded = _seeded.get(ctx, {}).get(key, frozenset())
    return seeded.union(*recorded.values())


def recorded(ctx: FileContext) -> dict[str, dict[int, frozenset[str]]]:
    """What rules contributed on ``ctx``, by summary key and offset."""
    return _recorded.get(ctx, {})


def seed(ctx: FileContext, key: str, names: frozenset[str]) -> None:
    """Contributions of units that ``ctx`` does not contain (they did not change)."""
    _seeded.setdefault(ctx, {})[key] = names
