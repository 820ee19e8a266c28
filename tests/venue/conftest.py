"""Fixtures for the in-process engine tests (the real venue process fixtures are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.venue.engine import Engine
from tests.venue.helpers import Clock, open_engine


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Iterator[Engine]:
    """An in-process engine on a temp SQLite file: accounts alice and bob (1000 USDC), one quiet market 'm'."""
    eng = open_engine(tmp_path / "venue.sqlite3", clock)
    yield eng
    eng.close()
