"""MG rules: constraints (being written)."""
