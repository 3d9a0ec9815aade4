"""MG rules: destructive (being written)."""
