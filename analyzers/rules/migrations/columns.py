"""MG rules: columns (being written)."""
