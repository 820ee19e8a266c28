"""Limitless has no cancel-on-disconnect: Academy's watchdog is the dead-man's switch there (issue 14).

Against the real paper venue process, through the live code path (VENUE=limitless: LimitlessVenue,
LimitlessStream, ChainReader over JSON-RPC): the stream cut by the venue's fault control stops new
orders at once and, once cut for DEADMAN_WATCHDOG_S, halts through the one halt path, which leaves
nothing resting at the venue; an injected chain drift trips the drift shape from the JSON-RPC reading.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account

from agents import services
from agents.venue.limitless_client import LimitlessVenue
from agents.venue.schemas import OrderRequest, OrderStatus, OrderType, Outcome, Side
from monitoring.deadman import CoverBeater, LimitlessWatchdog
from monitoring.health import chain_drift
from monitoring.models import HaltEvent, HaltSource, KillSwitch
from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.fault]


@pytest.fixture
def live(venue: RunningVenue, faults: Faults, settings: Any) -> Iterator[dict[str, str]]:
    """Settings of a desk on Limitless, pointed at the paper venue's Limitless surface: a fresh account."""
    wallet, name = Account.create(), "live-" + secrets.token_hex(4)
    token, secret = f"tok-{name}", base64.b64encode(secrets.token_bytes(32)).decode()
    faults.account(name, f"key-{name}-0123456789", "1000", address=wallet.address, hmac_token_id=token,
                   hmac_secret=secret)
    settings.VENUE = "limitless"
    settings.LIMITLESS_API_URL = settings.LIMITLESS_WS_URL = venue.url
    settings.CHAIN_RPC_URL = venue.url + "/rpc"
    settings.LIMITLESS_PRIVATE_KEY = "0x" + wallet.key.hex().removeprefix("0x")
    settings.LIMITLESS_HMAC_TOKEN_ID, settings.LIMITLESS_HMAC_SECRET, settings.LIMITLESS_API_KEY = token, secret, ""
    settings.VENUE_CANCEL_ON_DISCONNECT, settings.REQUIRE_DEADMAN_COVER = False, True
    settings.DEADMAN_WATCHDOG_S = 2
    services._LIVE_VENUE.clear()
    yield {"name": name, "address": wallet.address, "key": settings.LIMITLESS_PRIVATE_KEY, "token": token,
           "secret": secret}
    services._LIVE_VENUE.clear()
    faults.cut_stream(False)


def resting(slug: str, n: int) -> list[str]:
    venue = services.venue_client()
    ids = []
    for i in range(n):
        req = OrderRequest(market=slug, side=Side.BUY, outcome=Outcome.YES, price=Decimal("0.1") + Decimal(i) / 100,
                           size=Decimal(2), order_type=OrderType.GTC, client_order_id=f"wd-{slug}-{i}")
        ids.append(venue.place(req).id)
    return ids


def test_it_halts_and_leaves_nothing_resting_once_the_stream_is_cut(
    live: dict[str, str], faults: Faults, settings: Any
) -> None:
    slug = "wd-" + secrets.token_hex(3)
    faults.create_market(slug)
    watchdog = LimitlessWatchdog()
    watchdog.start()
    beater = CoverBeater(watchdog, interval_s=0.2)
    beater.start()
    try:
        assert watchdog.armed and _until(lambda: services.cover_missing_reason() is None)
        placed = resting(slug, 3)
        assert [o.status for o in services.venue_client().orders(market=slug)] == [OrderStatus.LIVE] * 3
        observer = LimitlessVenue(settings.LIMITLESS_API_URL,  # its own rate budget
                                  private_key=live["key"], hmac_token_id=live["token"], hmac_secret=live["secret"])
        cut_at = time.monotonic()
        faults.cut_stream()  # the path to the venue's stream is lost; REST still answers
        assert _until(lambda: services.cover_missing_reason() is not None, 3.0)  # no new order from here on
        assert _until(lambda: not [o for o in observer.orders(market=slug) if o.status is OrderStatus.LIVE], 10.0)
        took = time.monotonic() - cut_at
        # The record lands after the known markets' cancel (it stops every other host), not after the sweep
        # of every active market at 0.3 s a market, which follows it.
        assert _until(lambda: HaltEvent.objects.filter(source=HaltSource.DEADMAN).exists(), 8.0)
        recorded = time.monotonic() - cut_at
    finally:
        beater.stop()
        watchdog.stop()
    assert 2.0 <= took < 2.0 + 4.0  # the watchdog's time, then one beat and the known markets' cancel
    assert recorded < 2.0 + 8.0
    event = HaltEvent.objects.get(source=HaltSource.DEADMAN)
    assert "stream has been lost" in event.reason and event.orders_cancelled == len(placed) == 3
    assert KillSwitch.objects.get(pk=1).active


def test_it_does_not_halt_for_a_stream_that_comes_back_in_time(live: dict[str, str], faults: Faults) -> None:
    watchdog = LimitlessWatchdog()
    watchdog.start()
    try:
        faults.cut_stream()
        time.sleep(0.5)
        assert not watchdog.watch()  # lost for less than DEADMAN_WATCHDOG_S
        faults.cut_stream(False)
        assert _until(lambda: watchdog.armed, 5.0) and not watchdog.watch()
    finally:
        watchdog.stop()
    assert not HaltEvent.objects.filter(source=HaltSource.DEADMAN).exists()


def test_it_trips_the_drift_shape_from_the_json_rpc_reading(live: dict[str, str], faults: Faults) -> None:
    venue = services.venue_client()
    bought = venue.place(OrderRequest(market="btc-above-100k-next-hour", side=Side.BUY, outcome=Outcome.YES,
                                      price=Decimal("0.99"), size=Decimal(1), order_type=OrderType.FAK,
                                      client_order_id="drift-1"))
    assert bought.filled > 0
    faults.settle_now()
    now = datetime.now(UTC)
    assert chain_drift(venue, now) is None  # REST positions and on-chain balances agree
    faults.chain_drift(live["name"], market="btc-above-100k-next-hour", outcome="YES", shares="-0.5")
    trip = chain_drift(venue, now)
    assert trip is not None and trip.source == HaltSource.CHAIN_DRIFT


def _until(done: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_it_halts_from_a_loop_when_the_monitor_itself_is_gone(live: dict[str, str], faults: Faults) -> None:
    """A dead monitor halts nothing: the loop that finds its beats stopped (orders possibly resting) does."""
    from django.utils import timezone

    from monitoring.models import CoverBeat
    from tests.factories import OrderFactory

    slug = "wd-" + secrets.token_hex(3)
    faults.create_market(slug)
    placed = resting(slug, 2)
    OrderFactory(market=slug, status="live", client_order_id=f"wd-{slug}-0")
    beat_at = timezone.now() - timedelta(seconds=30)  # armed, then nothing: the monitor died 30 s ago
    CoverBeat.objects.create(host="gone", account=services.cover_account(), armed=True, confirmed_at=beat_at,
                             armed_at=beat_at)
    assert services.stop_check()() is not None  # the loop refuses ...
    event = HaltEvent.objects.get(source=HaltSource.DEADMAN)  # ... and has halted through the one path
    assert "cover beats stopped" in event.reason and event.orders_cancelled == len(placed)
    observer = services.venue_client()
    assert not [o for o in observer.orders(market=slug) if o.status is OrderStatus.LIVE]


def test_it_does_not_halt_while_a_monitor_still_beats_or_nothing_rests(live: dict[str, str]) -> None:
    from django.utils import timezone

    from monitoring.models import CoverBeat
    from tests.factories import OrderFactory

    now = timezone.now()
    CoverBeat.objects.create(host="up", account=services.cover_account(), armed=False, confirmed_at=now,
                             armed_at=now - timedelta(seconds=60))  # alive, its stream down: it halts itself
    OrderFactory(status="live")
    assert not services.monitor_lost_watchdog()
    CoverBeat.objects.update(confirmed_at=now - timedelta(seconds=60))
    from agents.models import Order

    Order.objects.update(status="canceled")  # the monitor is gone but nothing of ours rests
    assert not services.monitor_lost_watchdog()
    assert not HaltEvent.objects.filter(source=HaltSource.DEADMAN).exists()


def test_it_trips_the_drift_shape_on_a_settlement_that_failed_on_chain(live: dict[str, str], faults: Faults) -> None:
    """A FAILED settlement leaves REST showing a trade the chain never got: chain is the source of truth."""
    venue = services.venue_client()
    faults.limitless(fail_settlements=1)
    bought = venue.place(OrderRequest(market="btc-above-100k-next-hour", side=Side.BUY, outcome=Outcome.YES,
                                      price=Decimal("0.99"), size=Decimal(1), order_type=OrderType.FAK,
                                      client_order_id="fail-1"))
    assert bought.filled > 0 and getattr(bought, "settlement", "") == "FAILED"
    faults.settle_now()
    trip = chain_drift(venue, datetime.now(UTC))
    assert trip is not None and trip.source == HaltSource.CHAIN_DRIFT
