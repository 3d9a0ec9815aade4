"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.elixir_parser import ElixirParser


@pytest.fixture(scope="session")
def elixir_parser() -> Iterator[ElixirParser]:
    """One Elixir VM for the whole session, answering parse checks."""
    parser = ElixirParser()
    yield parser
    parser.close()
