"""EC — Ecto queries and writes: N+1 queries, partial writes, raw SQL, unloaded associations.

Importing this package registers EC001–EC005 and the Ecto schema facts.
"""

from analyzers.rules.ecto import (  # noqa: F401 - imported to register rules and facts
    associations,
    facts,
    queries,
    raw_sql,
    writes,
)
