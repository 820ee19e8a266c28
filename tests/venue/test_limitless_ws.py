"""LimitlessStream (the product's Socket.IO client) against the real paper venue's Limitless stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from agents.venue import limitless as lm
from agents.venue.limitless_ws import LimitlessStream
from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue
from tests.venue.lmts import MakeTrader, order


class Seen:
    """What a stream handed its owner, thread-safe."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.resyncs: list[str] = []
        self._lock = threading.Lock()

    def event(self, name: str, payload: Any) -> None:
        with self._lock:
            self.events.append((name, payload))

    def resync(self, why: str) -> None:
        with self._lock:
            self.resyncs.append(why)

    def named(self, name: str) -> list[Any]:
        with self._lock:
            return [p for n, p in self.events if n == name]


def until(done: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def stream_for(trader: Any, venue: RunningVenue, seen: Seen, **kwargs: Any) -> LimitlessStream:
    stream = LimitlessStream(
        venue.url,
        hmac_token_id=trader._token,
        hmac_secret=trader._secret,
        on_event=seen.event,
        on_resync=seen.resync,
        backoff=0.05,
        **kwargs,
    )
    assert stream.start(), "the stream did not connect"
    return stream


def test_it_streams_the_book_and_the_accounts_order_events(lmts: MakeTrader, slug: str, venue: RunningVenue) -> None:
    trader, seen = lmts(), Seen()
    stream = stream_for(trader, venue, seen, markets=[slug])
    try:
        until(lambda: bool(seen.named("orderbookUpdate")))
        placed = trader.place(order(slug, "ws-1", "BUY", "0.300", "2"))
        until(lambda: any(e.get("orderId") == placed.id for e in seen.named("orderEvent")))
        mine = [e for e in seen.named("orderEvent") if e.get("orderId") == placed.id]
        assert mine[0]["source"] == "OME" and mine[0]["type"] == "PLACEMENT" and mine[0]["clientOrderId"] == "ws-1"
        until(lambda: any(b["orderbook"]["bids"] for b in seen.named("orderbookUpdate")))
    finally:
        stream.stop()


def test_it_reconnects_with_fresh_credentials_and_asks_for_a_resync(
    lmts: MakeTrader,
    slug: str,
    venue: RunningVenue,
    faults: Faults,
    monkeypatch: Any,
) -> None:
    signed: list[str] = []
    real = lm.hmac_headers

    def recording(*args: Any) -> dict[str, str]:
        headers = real(*args)
        signed.append(headers["lmts-timestamp"])
        return headers

    monkeypatch.setattr(lm, "hmac_headers", recording)
    trader, seen = lmts(), Seen()
    stream = stream_for(trader, venue, seen, markets=[slug])
    try:
        until(lambda: bool(seen.named("orderbookUpdate")))
        before = len(seen.named("orderbookUpdate"))
        assert faults.drop_websockets() >= 1  # the network drops the connection
        until(lambda: stream.connections == 2 and stream.connected.is_set())
        assert seen.resyncs == ["reconnected"]  # Limitless keeps no subscriptions and sends no sequence numbers
        assert len(signed) == 2 and signed[0] != signed[1]  # new HMAC headers for the new connection
        until(lambda: len(seen.named("orderbookUpdate")) > before)  # the book subscription was sent again
    finally:
        stream.stop()


def test_it_asks_for_a_resync_when_nothing_arrives(lmts: MakeTrader, venue: RunningVenue) -> None:
    trader, seen = lmts(), Seen()
    stream = stream_for(trader, venue, seen, resync_after_s=0.4)
    try:
        until(lambda: "silent" in seen.resyncs)
        assert stream.connected.is_set()
    finally:
        stream.stop()


def test_it_counts_how_long_the_stream_has_been_down(lmts: MakeTrader, venue: RunningVenue) -> None:
    trader, seen = lmts(), Seen()
    refused = LimitlessStream(
        venue.url, hmac_token_id=trader._token, hmac_secret="d3Jvbmc=", on_event=seen.event, backoff=0.05
    )
    try:
        assert not refused.start(wait_s=1.0)  # bad credentials: refused at the handshake, never connected
        assert refused.down_for() >= 1.0 and not refused.connected.is_set()
    finally:
        refused.stop()
    live = stream_for(trader, venue, seen)
    try:
        assert live.down_for() == 0.0
    finally:
        live.stop()
    assert live.down_for() > 0.0


def test_it_drops_a_half_dead_connection_that_hears_nothing(
    lmts: MakeTrader, venue: RunningVenue, caplog: Any
) -> None:
    """A path that silently stops delivering (no FIN, no RST) must not look connected: the stream counts
    every packet, the server's pings too, and drops itself past its silence limit."""
    from tests.monitoring.test_deadman_silent import VenueProxy

    host, port = venue.url.removeprefix("http://").split(":")
    proxy = VenueProxy(host, int(port))
    trader, seen = lmts(), Seen()
    stream = LimitlessStream(f"http://127.0.0.1:{proxy.port}", hmac_token_id=trader._token,
                             hmac_secret=trader._secret, on_event=seen.event, backoff=0.05, max_silence_s=0.15)
    try:
        assert stream.start()
        time.sleep(0.5)
        assert stream.connected.is_set() and stream.silent_for() < 0.5  # the venue pings every 0.2 s here
        proxy.cut = True  # from now on nothing from the venue reaches us, and neither TCP notices
        until(lambda: stream.down_for() > 0, timeout=3.0)
        assert not stream.connected.is_set()
        # Its own silence limit (0.15 s) dropped it, well before Engine.IO's ping timeout (0.2 + 1.0 s here).
        assert any("half-dead" in r.getMessage() for r in caplog.records)
    finally:
        stream.stop()
