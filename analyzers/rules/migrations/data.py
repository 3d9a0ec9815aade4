"""MG rules: data (being written)."""
