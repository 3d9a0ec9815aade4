"""EC — Ecto queries and writes: N+1 queries, partial writes, raw SQL, unloaded associations.

Importing this package registers the EC rules and the Ecto schema facts.
"""

from analyzers.rules.ecto import facts  # noqa: F401 - imported to register the collector
