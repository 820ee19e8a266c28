"""Websocket tests against the real venue process: streams, seq, heartbeat, cancel-on-disconnect."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import websockets

from agents.venue.client import HttpVenue, VenueStream
from agents.venue.schemas import OrderRequest, OrderStatus, Outcome, Side
from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue

D = Decimal
Trader = Callable[..., HttpVenue]


def bid(market: str, cid: str, price: str = "0.300") -> OrderRequest:
    return OrderRequest(market=market, side=Side.BUY, price=D(price), size=D(1), client_order_id=cid)


async def until(check: Callable[[], bool], tries: int = 200) -> None:
    """Wait for a condition the venue reaches asynchronously (fails after ~10 s, asserts no timing)."""
    for _ in range(tries):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def recv_type(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg.get("type") == kind:
            return msg  # type: ignore[no-any-return]


def test_it_cancels_session_orders_when_the_socket_closes(
    venue: RunningVenue, make_trader: Trader, market: str
) -> None:
    trader = make_trader()
    unrelated = trader.place(bid(market, "keep"))

    async def scenario() -> str:
        stream = VenueStream(venue.ws_url, trader.api_key, cancel_on_disconnect="session")  # type: ignore[attr-defined]
        await stream.start()
        trader.session_id = await stream.wait_connected()
        placed = await asyncio.to_thread(trader.place, bid(market, "tied"))
        await stream.stop()
        return placed.id

    tied = asyncio.run(scenario())
    trader.session_id = None
    asyncio.run(until(lambda: trader.order(tied).status is OrderStatus.CANCELED))
    assert "cancel-on-disconnect" in trader.order(tied).reason
    assert trader.order(unrelated.id).status is OrderStatus.LIVE  # not placed or flagged by the session
    assert trader.balance().locked == D("0.3")


def test_it_cancels_on_a_missed_heartbeat(venue: RunningVenue, make_trader: Trader, market: str) -> None:
    trader = make_trader()
    flagged_later = trader.place(bid(market, "flag-me"))

    async def scenario() -> tuple[str, int | None]:
        stream = VenueStream(
            venue.ws_url, trader.api_key, cancel_on_disconnect="session", answer_pings=False, max_backoff=60
        )  # type: ignore[attr-defined]
        stream.backoff = 60  # stay disconnected after the drop so the test sees the close
        await stream.start()
        session = await stream.wait_connected()
        trader.session_id = session
        placed = await asyncio.to_thread(trader.place, bid(market, "hb"))
        await stream.send({"op": "flag", "order_ids": [flagged_later.id]})
        await until(lambda: trader.order(flagged_later.id).session_id == session)
        # the client now stays silent: the venue must drop it and cancel
        await until(lambda: trader.order(placed.id).status is OrderStatus.CANCELED)
        code = stream.connections
        await stream.stop()
        return placed.id, code

    placed_id, _ = asyncio.run(scenario())
    assert "heartbeat timeout" in trader.order(placed_id).reason
    assert trader.order(flagged_later.id).status is OrderStatus.CANCELED


def test_it_keeps_a_session_that_answers_pings(venue: RunningVenue, make_trader: Trader, market: str) -> None:
    trader = make_trader()

    async def scenario() -> tuple[str, int]:
        stream = VenueStream(venue.ws_url, trader.api_key, cancel_on_disconnect="session")  # type: ignore[attr-defined]
        pings: list[dict[str, Any]] = []
        stream.on_message = lambda m: pings.append(m) if m.get("type") == "ping" else None
        await stream.start()
        trader.session_id = await stream.wait_connected()
        placed = await asyncio.to_thread(trader.place, bid(market, "alive"))
        await until(lambda: len(pings) >= 8)  # several heartbeat timeouts' worth of pings
        status = (await asyncio.to_thread(trader.order, placed.id)).status
        connections = stream.connections
        await stream.stop()
        return status.value, connections

    status, connections = asyncio.run(scenario())
    assert status == "LIVE" and connections == 1


def test_it_refuses_an_order_tied_to_a_session_that_is_not_open(make_trader: Trader, market: str) -> None:
    trader = make_trader(session_id="ws_gone")
    try:
        trader.place(bid(market, "orphan"))
    except Exception as exc:  # noqa: BLE001 - the type is asserted below
        assert "X-Session-Id" in str(exc) and type(exc).__name__ == "VenueRejected"
    else:
        raise AssertionError("order tied to an unknown session was accepted")
    assert trader.order_by_client_id("orphan") is None


def test_it_streams_books_and_account_events_with_contiguous_seq(
    venue: RunningVenue, make_trader: Trader, market: str
) -> None:
    maker, taker = make_trader(), make_trader()

    async def scenario() -> list[dict[str, Any]]:
        headers = {"X-API-Key": taker.api_key}  # type: ignore[attr-defined]
        async with websockets.connect(venue.ws_url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"op": "subscribe", "channel": "account"}))
            await ws.send(json.dumps({"op": "subscribe", "channel": "orderbook", "markets": [market]}))
            await recv_type(ws, "subscribed")
            await recv_type(ws, "orderbook")
            await asyncio.to_thread(maker.place, OrderRequest(
                market=market, side=Side.BUY, outcome=Outcome.NO, price=D("0.6"), size=D(5), client_order_id="mk"
            ))  # fmt: skip
            await asyncio.to_thread(taker.place, bid(market, "tk", "0.45"))
            got: list[dict[str, Any]] = []
            while (
                not any(m.get("type") == "order" for m in got) or len([m for m in got if m["type"] == "orderbook"]) < 2
            ):
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg["stream"] != "session":
                    got.append(msg)
            return got

    messages = asyncio.run(scenario())
    fill = next(m for m in messages if m["type"] == "fill")
    assert fill["data"]["price"] == "0.400" and fill["data"]["liquidity"] == "taker"
    account = [m["seq"] for m in messages if m["stream"] == "account"]
    books = [m["seq"] for m in messages if m["stream"] == f"book:{market}"]
    assert account == list(range(account[0], account[0] + len(account)))
    assert books == list(range(books[0], books[0] + len(books)))


def test_it_detects_a_seq_gap_and_asks_for_a_resync() -> None:
    resyncs: list[tuple[str, str]] = []
    stream = VenueStream("ws://unused", "k", on_resync=lambda s, why: resyncs.append((s, why)))

    async def feed() -> None:
        for seq in (4, 5, 7, 7, 8):
            await stream._dispatch({"stream": "book:x", "seq": seq, "type": "orderbook", "data": {}})

    asyncio.run(feed())
    assert resyncs == [("book:x", "gap")] and stream.gaps == [("book:x", 6, 7)] and stream.last_seq["book:x"] == 8


def test_it_reconnects_and_resubscribes_after_the_venue_drops_every_socket(
    venue: RunningVenue, make_trader: Trader, faults: Faults, market: str
) -> None:
    trader = make_trader()
    resyncs: list[tuple[str, str]] = []

    async def scenario() -> tuple[int, int]:
        stream = VenueStream(
            venue.ws_url, trader.api_key, markets=[market], on_resync=lambda s, why: resyncs.append((s, why))
        )  # type: ignore[attr-defined]
        await stream.start()
        await stream.wait_connected()
        first = stream.session_id
        dropped = await asyncio.to_thread(faults.drop_websockets)
        await until(lambda: stream.connections >= 2 and stream.connected.is_set() and stream.session_id != first)
        connections = stream.connections
        await stream.stop()
        return dropped, connections

    dropped, connections = asyncio.run(scenario())
    assert dropped >= 1 and connections == 2
    assert ("account", "reconnected") in resyncs and (f"book:{market}", "reconnected") in resyncs


def test_it_closes_an_unauthenticated_socket(venue: RunningVenue) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        async with websockets.connect(venue.ws_url + "?api_key=wrong") as ws:
            msg = json.loads(await ws.recv())
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return msg, closed.rcvd.code if closed.rcvd else None
        return msg, None

    msg, code = asyncio.run(scenario())
    assert msg["type"] == "error" and code == 4401


def test_it_cancels_account_orders_when_a_dropped_account_scope_session_closes(
    venue: RunningVenue, make_trader: Trader, faults: Faults, market: str
) -> None:
    trader = make_trader()
    resting = trader.place(bid(market, "acct-scope"))  # placed over REST without any session

    async def scenario() -> None:
        stream = VenueStream(venue.ws_url, trader.api_key, cancel_on_disconnect="account", max_backoff=60)  # type: ignore[attr-defined]
        stream.backoff = 60
        await stream.start()
        await stream.wait_connected()
        await asyncio.to_thread(faults.drop_websockets)
        await until(lambda: trader.order(resting.id).status is OrderStatus.CANCELED)
        await stream.stop()

    asyncio.run(scenario())
    assert trader.orders(status=OrderStatus.LIVE) == []
