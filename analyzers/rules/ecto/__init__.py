"""EC — Ecto queries and writes: N+1 queries, partial writes, raw SQL, unloaded associations.

Importing this package registers the EC rules.
"""
