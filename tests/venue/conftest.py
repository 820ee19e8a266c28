"""Fixtures for the in-process engine tests (the real venue process fixtures are in tests/conftest.py)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from paper_venue.engine import Engine
from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue
from tests.venue.helpers import Clock, open_engine
from tests.venue.lmts import MakeTrader, Recorder, Trader


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Iterator[Engine]:
    """An in-process engine on a temp SQLite file: accounts alice and bob (1000 USDC), one quiet market 'm'."""
    eng = open_engine(tmp_path / "venue.sqlite3", clock)
    yield eng
    eng.close()


@pytest.fixture
def lmts(venue: RunningVenue, faults: Faults) -> Iterator[MakeTrader]:
    """Make a fresh funded account with its own wallet and HMAC token (or only an API key) and a client."""
    made: list[Trader] = []

    def make(usdc: str = "10000", *, hmac: bool = True, **kwargs: Any) -> Trader:
        name = "lmts-" + secrets.token_hex(5)
        wallet, api_key = Account.create(), f"key-{name}-0123456789"
        token, secret = f"tok-{name}", base64.b64encode(secrets.token_bytes(32)).decode()
        faults.account(name, api_key, usdc, address=wallet.address, hmac_token_id=token, hmac_secret=secret)
        recorder = Recorder()
        kwargs = {"min_interval_s": 0.0, "backoff": 0.01, "transport": recorder, **kwargs}
        creds = {"hmac_token_id": token, "hmac_secret": secret} if hmac else {"api_key": api_key}
        trader = Trader(venue.url, private_key=wallet.key.hex(), **creds, **kwargs)
        trader.recorder, trader.name = recorder, name
        made.append(trader)
        return trader

    yield make
    for trader in made:
        trader.close()


@pytest.fixture
def slug(faults: Faults) -> str:
    """A fresh quiet market whose slug is no other slug's prefix (fault path prefixes stay precise)."""
    name = f"lc-{secrets.token_hex(4)}-m"
    faults.create_market(name, title=f"Test {name}")
    return name
