"""The venue process restarted mid-session loses no order, fill or balance."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import httpx

from agents.venue.client import HttpVenue, VenueStream
from agents.venue.schemas import OrderRequest, OrderStatus, Outcome, Side
from paper_venue.faults import Faults
from paper_venue.testing import restart_venue, running_venue

D = Decimal


def test_it_loses_nothing_across_a_restart(tmp_path: Path) -> None:
    with running_venue(tmp_path, VENUE_SETTLE_LAG="3600") as venue:
        faults = Faults(venue.url, venue.faults_token)
        faults.create_market("restart-m")
        faults.account("bob", "bob-key-0123456789", "500")
        alice, bob = HttpVenue(venue.url, venue.api_key), HttpVenue(venue.url, "bob-key-0123456789")
        bob.place(
            OrderRequest(
                market="restart-m", side=Side.BUY, outcome=Outcome.NO, price=D("0.6"), size=D(10), client_order_id="b"
            )
        )
        alice.place(OrderRequest(market="restart-m", side=Side.BUY, price=D("0.45"), size=D(4), client_order_id="a1"))
        resting = alice.place(
            OrderRequest(market="restart-m", side=Side.BUY, price=D("0.2"), size=D(3), client_order_id="a2")
        )
        before = (alice.balance(), alice.positions(), alice.orders(), alice.fills(), bob.fills(), alice.chain_ledger())
        book_before = alice.book("restart-m")
        faults.close(), alice.close(), bob.close()

        venue = restart_venue(venue)
        try:
            alice, bob = HttpVenue(venue.url, venue.api_key), HttpVenue(venue.url, "bob-key-0123456789")
            after = (
                alice.balance(),
                alice.positions(),
                alice.orders(),
                alice.fills(),
                bob.fills(),
                alice.chain_ledger(),
            )
            assert after == before
            book = alice.book("restart-m")
            assert (book.bids, book.asks) == (book_before.bids, book_before.asks)
            again = alice.place(
                OrderRequest(market="restart-m", side=Side.BUY, price=D("0.2"), size=D(3), client_order_id="a2")
            )
            assert again.id == resting.id and len(alice.orders()) == 2
            assert alice.cancel(resting.id).status is OrderStatus.CANCELED
            assert alice.balance().locked == 0
        finally:
            venue.stop()


def test_it_applies_cancel_on_disconnect_for_sessions_cut_by_a_crash(tmp_path: Path) -> None:
    with running_venue(tmp_path) as venue:
        faults = Faults(venue.url, venue.faults_token)
        faults.create_market("crash-m")
        trader = HttpVenue(venue.url, venue.api_key)

        async def open_session_and_place() -> tuple[VenueStream, str]:
            stream = VenueStream(venue.ws_url, venue.api_key, cancel_on_disconnect="session", max_backoff=60)
            stream.backoff = 60
            await stream.start()
            trader.session_id = await stream.wait_connected()
            placed = await asyncio.to_thread(
                trader.place,
                OrderRequest(market="crash-m", side=Side.BUY, price=D("0.3"), size=D(1), client_order_id="c"),
            )
            venue.process.kill()  # a crash: no graceful close, no cancel on the way down
            venue.process.wait()
            await stream.stop()
            return stream, placed.id

        _, order_id = asyncio.run(open_session_and_place())
        venue = restart_venue(venue)
        try:
            trader = HttpVenue(venue.url, venue.api_key)
            cancelled = trader.order(order_id)
            assert cancelled.status is OrderStatus.CANCELED and "venue restart" in cancelled.reason
            assert httpx.get(venue.url + "/healthz").json()["status"] == "ok"
        finally:
            venue.stop()


def test_it_refuses_an_unrepresentable_close_time_and_keeps_serving_across_a_restart(tmp_path: Path) -> None:
    with running_venue(tmp_path) as venue:
        token = {"X-Faults-Token": venue.faults_token, "Content-Type": "application/json"}
        for raw in (b"1e400", b'"1e999999999"', b"3.2e8", b"0"):  # inf, overflow, > 10 years, not > 0
            body = b'{"slug": "far-future", "close_in_seconds": ' + raw + b"}"
            r = httpx.post(venue.url + "/_faults/markets", content=body, headers=token)
            assert r.status_code == 400 and r.json()["message"].startswith("close_in_seconds"), (raw, r.text)
        _assert_serving(venue.url, broken=None)
        venue = restart_venue(venue)
        try:
            _assert_serving(venue.url, broken=None)
            assert httpx.get(venue.url + "/paper/markets/far-future").status_code == 404  # nothing was stored
        finally:
            venue.stop()


def test_it_serves_every_other_market_when_one_stored_row_cannot_be_rendered(tmp_path: Path) -> None:
    with running_venue(tmp_path) as venue:
        Faults(venue.url, venue.faults_token).create_market("damaged")
        venue.stop()
        with sqlite3.connect(venue.data_dir / "venue.sqlite3") as db:  # as an older build could have saved it
            (data,) = db.execute("SELECT data FROM markets WHERE slug='damaged'").fetchone()
            db.execute(
                "UPDATE markets SET data=? WHERE slug='damaged'",
                (json.dumps({**json.loads(data), "close_time": float("inf")}),),
            )
        venue = restart_venue(venue)
        try:
            _assert_serving(venue.url, broken="damaged")
        finally:
            venue.stop()


def _assert_serving(url: str, broken: str | None) -> None:
    """/healthz and the market list answer; a damaged market fails alone, with its name."""
    health = httpx.get(url + "/healthz")
    assert health.status_code == 200 and health.json()["markets"] == 5 + (broken is not None), health.text
    active = httpx.get(url + "/paper/markets/active")
    assert active.status_code == 200 and len(active.json()["data"]) == 5, active.text
    assert httpx.get(url + "/paper/markets/btc-above-100k-next-hour").status_code == 200
    if broken is not None:
        r = httpx.get(url + f"/paper/markets/{broken}")
        assert r.status_code == 500 and broken in r.json()["message"], r.text
        assert httpx.get(url + f"/paper/markets/{broken}/orderbook").status_code == 200
