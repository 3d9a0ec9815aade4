"""Rule families, one package or module each. Importing a family registers its rules."""
