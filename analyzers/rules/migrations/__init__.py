"""MG — Ecto migrations: locks, rewrites, irreversible and unsafe changes.

Importing this package registers MG001–MG013.
"""

from analyzers.rules.migrations import (  # noqa: F401 - imported to register rules
    columns,
    constraints,
    data,
    destructive,
    indexes,
    sql,
)
