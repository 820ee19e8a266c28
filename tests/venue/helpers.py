"""Plain helpers shared by the venue tests (importable, unlike conftest)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from agents.venue.schemas import MarketStatus
from paper_venue.engine import AccountSpec, Engine, MarketState


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


ACCOUNTS = [AccountSpec("alice", "alice-key", Decimal(1000)), AccountSpec("bob", "bob-key", Decimal(1000))]


def open_engine(path: Path, clock: Clock, seed: int = 1, demo: bool = False) -> Engine:
    eng = Engine(str(path), seed=seed, clock=clock, settle_lag=10.0, accounts=ACCOUNTS, demo_markets=demo)
    if not demo and "m" not in {m.slug for m in eng.markets()}:
        eng.create_market(quiet_market("m", clock()))
    return eng


def quiet_market(slug: str, now: float) -> MarketState:
    """A market the simulated counterparties leave alone."""
    return MarketState(slug, f"Market {slug}", "", "Test", "test", MarketStatus.OPEN, now + 3600, simulated=False)
