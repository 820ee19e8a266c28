"""Chain drift measured while fills land between the venue reads (issue 12, item 4).

A fake venue shows the race one read at a time; the real venue, with a trading loop crossing
orders on the watched account, shows it end to end through Monitor.health_tick.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from agents.venue.client import HttpVenue
from agents.venue.schemas import Balance, ChainLedger, OrderRequest, OrderType, Outcome, Position, Side
from monitoring.health import DriftUnmeasurable, Monitor, chain_drift, chain_drift_amount
from monitoring.models import Alert, HaltEvent, KillSwitch, MetricSample

pytestmark = pytest.mark.django_db

PRICE = Decimal("0.500")
DRIFT_PAGE = "chain_rest_drift:system"


# --- a fake venue: REST and chain from one account state, fills landing after chosen reads -------


class MovingVenue:
    """One account whose REST view and chain ledger (minus `drift` USDC) always agree, except that
    the scripted fills land right after the numbered reads, as they land between HTTP calls."""

    def __init__(self, script: dict[int, int] | None = None, *, drift: str = "0", every_chain_read: bool = False):
        self.usdc, self.shares = Decimal("1000"), Decimal("0")
        self.script = script or {}  # read number -> +1 (a buy fills) or -1 (a sell fills)
        self.drift = Decimal(drift)
        self.every_chain_read = every_chain_read
        self.reads = 0

    def _after_read(self, chain: bool = False) -> None:
        self.reads += 1
        fill = self.script.get(self.reads, 1 if chain and self.every_chain_read else 0)
        self.usdc -= fill * PRICE
        self.shares += fill

    def balance(self) -> Balance:
        out = Balance(usdc=self.usdc, locked=Decimal(0), available=self.usdc)
        self._after_read()
        return out

    def positions(self) -> list[Position]:
        out = [Position(market="m", outcome=Outcome.YES, shares=self.shares, avg_price=PRICE)] if self.shares else []
        self._after_read()
        return out

    def chain_ledger(self) -> ChainLedger:
        held = [Position(market="m", outcome=Outcome.YES, shares=self.shares, avg_price=Decimal(0))]
        out = ChainLedger(usdc=self.usdc - self.drift, positions=held if self.shares else [])
        self._after_read(chain=True)
        return out


def drift_pages() -> int:
    return Alert.objects.filter(key=DRIFT_PAGE).count()


def test_it_does_not_trip_on_a_fill_landing_between_the_reads():
    """The old reading (chain, then balance, then positions) saw these fills on one side only."""
    fake = MovingVenue({1: 1, 2: 1, 3: 1})  # a fill after each of the first three reads, whatever they are
    assert chain_drift(fake, timezone.now()) is None
    assert drift_pages() == 0 and MetricSample.objects.get(name="chain_rest_drift").value == 0


def test_it_confirms_a_drift_that_a_fill_and_its_reverse_hid_from_the_bracket():
    """A buy just before the chain read and the sell just after: both REST readings agree, the chain
    does not. The second snapshot a moment later shows no drift, so there is no halt."""
    fake = MovingVenue({2: 1, 3: -1})  # after positions (read 2) a buy fills; after the chain read, the sell
    assert chain_drift(fake, timezone.now()) is None
    assert drift_pages() == 0


def test_it_trips_a_real_drift_in_one_evaluation_while_fills_land():
    fake = MovingVenue({1: 1, 3: 1, 4: 1, 8: 1, 12: 1}, drift="5")
    trip = chain_drift(fake, timezone.now())
    assert trip is not None and trip.needs_reconciliation and Decimal(trip.figures["drift"]) == 5
    assert Alert.objects.get(key=DRIFT_PAGE).state == "firing"


def test_it_cannot_compute_a_drift_that_never_holds_still():
    fake = MovingVenue(every_chain_read=True)
    with pytest.raises(DriftUnmeasurable, match="8 chain readings"):
        chain_drift_amount(fake, pause_s=0.001)
    assert drift_pages() == 0 and not MetricSample.objects.filter(name="chain_rest_drift").exists()


# --- the real venue: a second client of the watched account trading in a loop ---------------------


class Crossing:
    """Fills landing continuously on `watched`: a counterparty rests BUY NO, the watched account
    takes it with a BUY YES (one share at 0.5 each time), from a thread of its own."""

    def __init__(self, watched: HttpVenue, counterparty: HttpVenue, market: str, url: str) -> None:
        self.taker = HttpVenue(url, watched.api_key)  # type: ignore[attr-defined]  # its own connection
        self.maker, self.market = counterparty, market
        self.ids = itertools.count()
        self.fills = 0
        self.stop = threading.Event()

    def cross(self, taker: HttpVenue | None = None) -> None:
        i = next(self.ids)
        self.maker.place(OrderRequest(market=self.market, side=Side.BUY, outcome=Outcome.NO, price=1 - PRICE,
                                      size=Decimal(1), client_order_id=f"cross-no-{i}"))
        (taker or self.taker).place(OrderRequest(market=self.market, side=Side.BUY, price=PRICE, size=Decimal(1),
                                                 order_type=OrderType.FAK, client_order_id=f"cross-yes-{i}"))
        self.fills += 1

    def loop(self) -> None:
        while not self.stop.is_set():
            self.cross()
            self.stop.wait(0.01)  # ~50 fills a second: far busier than an agent desk, not a saturated venue


@pytest.fixture
def crossing(trader, make_trader, market, venue) -> Iterator[Callable[[], Crossing]]:
    started: list[tuple[Crossing, threading.Thread]] = []

    def start() -> Crossing:
        loop = Crossing(trader, make_trader(), market, venue.url)
        thread = threading.Thread(target=loop.loop, daemon=True)
        thread.start()
        started.append((loop, thread))
        return loop

    yield start
    for loop, thread in started:
        loop.stop.set()
        thread.join(timeout=10)
        loop.taker.close()


@pytest.mark.fault
def test_it_never_trips_or_pages_while_fills_land_during_the_readings(trader, crossing):
    loop = crossing()
    watch = Monitor(lambda: trader)  # GUARD_GRACE_S as configured: an odd unmeasurable tick waits
    halts = [h for _ in range(100) for h in watch.health_tick()]
    loop.stop.set()
    assert halts == [] and not HaltEvent.objects.exists(), [h.reason for h in halts]
    assert drift_pages() == 0
    measured = MetricSample.objects.filter(name="chain_rest_drift")
    assert measured.count() >= 50 and {s.value for s in measured} == {Decimal(0)}  # measured, not skipped
    assert loop.fills >= 50  # fills really were landing during the readings


@pytest.mark.fault
def test_it_halts_on_a_real_drift_in_one_tick_while_fills_land(trader, crossing, faults):
    loop = crossing()
    faults.chain_drift(trader.account_name, usdc="5")
    halts = Monitor(lambda: trader).health_tick()
    loop.stop.set()
    assert [h.source for h in halts] == ["chain_drift"], [h.reason for h in halts]
    assert Decimal(halts[0].figures["drift"]) == 5 and KillSwitch.objects.get(pk=1).needs_reconciliation
    assert Alert.objects.get(key=DRIFT_PAGE).state == "firing"


class FillAfterChainRead:
    """The real venue, with a real fill landing on the account right after every chain read."""

    def __init__(self, inner: HttpVenue, loop: Crossing) -> None:
        self.inner, self.loop = inner, loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def chain_ledger(self) -> ChainLedger:
        ledger = self.inner.chain_ledger()
        self.loop.cross(taker=self.inner)
        return ledger


@pytest.mark.fault
def test_it_trips_after_the_grace_period_when_no_reading_is_ever_consistent(trader, make_trader, market, venue):
    loop = Crossing(trader, make_trader(), market, venue.url)
    moving = FillAfterChainRead(trader, loop)
    watch = Monitor(lambda: moving, grace_s=30)
    assert watch.health_tick() == [] and drift_pages() == 0  # not a halt needing a reconcile, not a page
    halts = watch.health_tick(now=timezone.now() + timedelta(seconds=31))
    loop.taker.close()
    assert [h.source for h in halts] == ["chain_drift"] and "could not be computed" in halts[0].reason
    assert not KillSwitch.objects.get(pk=1).needs_reconciliation and drift_pages() == 0


class _DriftThenBusy(MovingVenue):
    """A real 5 USDC drift; the first snapshot is clean, then a fill lands after every chain read."""

    def chain_ledger(self):
        self.every_chain_read = self.reads >= 5
        return super().chain_ledger()


@pytest.mark.django_db
def test_it_keeps_a_measured_drift_that_could_not_be_confirmed_a_reconciliation_matter():
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.health import Monitor, chain_drift

    fake = _DriftThenBusy(drift="5")
    monitor = Monitor(lambda: fake, grace_s=30)
    now = timezone.now()
    assert monitor._evaluate("chain_drift", chain_drift, fake, now) is None  # within the grace
    trip = monitor._evaluate("chain_drift", chain_drift, fake, now + timedelta(seconds=31))
    assert trip is not None and trip.needs_reconciliation  # measured once: resume only after reconciling



@pytest.mark.django_db
def test_it_keeps_a_measured_drift_whose_confirmation_meets_a_settlement_in_progress(monkeypatch):
    import monitoring.health as health

    readings = iter([Decimal("5")])

    def amount(venue, **kwargs):
        for value in readings:
            return value
        raise health.SettlementPending("2 settlements pending (no amounts reported)")

    monkeypatch.setattr(health, "chain_drift_amount", amount)
    with pytest.raises(health.DriftUnconfirmed):  # not a plain "settling", which waits 300 s unreconciled
        health.chain_drift(None, None)
