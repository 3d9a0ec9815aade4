"""MG rules: indexes (being written)."""
