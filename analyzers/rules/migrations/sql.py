"""MG rules: sql (being written)."""
