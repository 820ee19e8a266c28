"""Limitless's stream, the product's client: Socket.IO on `/socket.io/`, namespace `/markets`.

`LimitlessStream` keeps one authenticated connection on a thread of its own and tells its owner
what it must not miss (`../shared/limitless-api.md` sections 9 and 13):

- credentials are new on every connect (HMAC has a 30 s window: python-socketio would resend the
  first headers on its own reconnects, so this client reconnects itself, with backoff);
- every subscription is sent again after a reconnect, and `on_resync("reconnected")` asks the
  owner to re-read state over REST (Limitless has no sequence numbers and keeps no subscriptions);
- `on_resync("silent")` when no event came for `resync_after_s` (15 s, the academy's advice);
- `connected` and `down_for()` say how long the stream has been lost, for the dead-man's watchdog.

Events reach `on_event(name, payload)` on the stream's thread; keep handlers short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import socketio

from agents.venue import limitless as lm

log = logging.getLogger(__name__)
NAMESPACE = "/markets"
SIO_PATH = "/socket.io/?transport=websocket&EIO=4"  # what python-engineio requests; the HMAC signs it
EVENTS = ("orderbookUpdate", "orderEvent", "positions", "system", "exception", "authenticated")


class LimitlessStream:
    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        hmac_token_id: str | None = None,
        hmac_secret: str | None = None,
        markets: list[str] | tuple[str, ...] = (),
        order_events: bool = True,
        positions: bool = False,
        on_event: Callable[[str, Any], None] | None = None,
        on_resync: Callable[[str], None] | None = None,
        resync_after_s: float = 15.0,
        max_silence_s: float | None = None,
        backoff: float = 0.2,
        max_backoff: float = 10.0,
        connect_timeout: float = 5.0,
    ) -> None:
        if (hmac_token_id is None) != (hmac_secret is None):
            raise ValueError("give both the HMAC token id and its secret, or neither")
        self.url = url.rstrip("/")
        self.api_key, self.hmac_token_id, self.hmac_secret = api_key, hmac_token_id, hmac_secret
        self.markets = list(markets)
        self.order_events, self.positions = order_events, positions
        self.on_event, self.on_resync = on_event, on_resync
        self.resync_after_s = resync_after_s
        # Nothing at all (not even the server's Engine.IO pings) for this long: the path is half dead. None:
        # the server's ping interval plus 5 s, learnt at each connect.
        self.max_silence_s = max_silence_s
        self.last_packet = 0.0  # time.monotonic() of the last Engine.IO packet, pings included
        self.backoff, self.max_backoff, self.connect_timeout = backoff, max_backoff, connect_timeout
        self.connected = threading.Event()
        self.connections = 0
        self.last_event = 0.0  # time.monotonic() of the last event received
        self.lost_since: float | None = time.monotonic()  # down from the start until the first connect
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._sio: socketio.AsyncClient | None = None
        self._silence_limit = max_silence_s if max_silence_s is not None else 30.0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, wait_s: float = 5.0) -> bool:
        """Start the thread; wait up to `wait_s` for the first connection. True when connected."""
        self._thread = threading.Thread(target=self._run, name="limitless-stream", daemon=True)
        self._thread.start()
        return self.connected.wait(wait_s)

    def stop(self) -> None:
        self._stopping = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._disconnect(), loop).result(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def drop(self) -> None:
        """Cut the connection now (thread-safe); the stream reconnects by itself."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._disconnect(), loop)

    def down_for(self) -> float:
        """Seconds since the stream was last connected (0 while connected)."""
        lost = self.lost_since
        return 0.0 if lost is None else time.monotonic() - lost

    def subscribe_markets(self, slugs: list[str]) -> None:
        """Replace the book selection (sent now if connected, and again after every reconnect)."""
        self.markets = list(slugs)
        loop, sio = self._loop, self._sio
        if loop is not None and sio is not None and self.connected.is_set():
            payload = {"marketSlugs": self.markets}
            asyncio.run_coroutine_threadsafe(sio.emit("subscribe_market_prices", payload, namespace=NAMESPACE), loop)

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        watcher = asyncio.create_task(self._watch_silence())
        delay = self.backoff
        try:
            while not self._stopping:
                try:
                    await self._session()
                    delay = self.backoff
                except Exception as exc:  # one failed connection: log, back off, try again with new headers
                    log.info("limitless stream: %s: %s", type(exc).__name__, exc)
                self._mark_down()
                if self._stopping:
                    return
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, self.max_backoff)
        finally:
            watcher.cancel()

    async def _session(self) -> None:
        sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        ended = asyncio.Event()
        sio.on("disconnect", lambda *args: ended.set(), namespace=NAMESPACE)
        for name in EVENTS:
            sio.on(name, self._handler(name), namespace=NAMESPACE)
        self._sio = sio
        await sio.connect(
            self.url,
            headers=self._headers(),
            transports=["websocket"],
            namespaces=[NAMESPACE],
            socketio_path="socket.io",
            wait_timeout=self.connect_timeout,
        )
        self._count_packets(sio)
        try:
            await self._subscribe(sio)
            reconnect = self.connections > 0
            self.connections += 1
            self.last_event = time.monotonic()
            self.lost_since = None
            self.connected.set()
            if reconnect:
                self._resync("reconnected")
            await ended.wait()
        finally:
            self._mark_down()
            with contextlib.suppress(Exception):
                await sio.disconnect()

    def _count_packets(self, sio: socketio.AsyncClient) -> None:
        """Note every Engine.IO packet (the server's pings too): silence means a half-dead path, which TCP
        may not notice for minutes."""
        eio = sio.eio
        receive = eio._receive_packet
        self.last_packet = time.monotonic()

        async def counted(packet: Any) -> None:
            self.last_packet = time.monotonic()
            await receive(packet)

        eio._receive_packet = counted
        if self.max_silence_s is None:
            self._silence_limit = float(getattr(eio, "ping_interval", 25.0)) + 5.0
        else:
            self._silence_limit = self.max_silence_s

    def silent_for(self) -> float:
        """Seconds since the last packet on a connected stream (0 while disconnected: down_for() counts)."""
        return time.monotonic() - self.last_packet if self.connected.is_set() else 0.0

    async def _subscribe(self, sio: socketio.AsyncClient) -> None:
        if self.markets:
            await sio.emit("subscribe_market_prices", {"marketSlugs": self.markets}, namespace=NAMESPACE)
        if self.order_events:
            await sio.emit("subscribe_order_events", {}, namespace=NAMESPACE)
        if self.positions:
            await sio.emit("subscribe_positions", {"marketSlugs": self.markets}, namespace=NAMESPACE)

    async def _disconnect(self) -> None:
        if self._sio is not None:
            await self._sio.disconnect()

    async def _watch_silence(self) -> None:
        """Ask for a REST resync when nothing came for `resync_after_s` (a quiet book may hide a lost feed)."""
        while True:
            await asyncio.sleep(min(0.25, self.resync_after_s / 4))
            if self.connected.is_set() and self.silent_for() > self._silence_limit:
                log.warning(
                    "limitless stream: nothing heard for %.1f s; dropping a half-dead connection", self.silent_for()
                )
                self._mark_down()  # lost from now: the watchdog's clock starts, the cover goes down
                await self._disconnect()
                continue
            if self.connected.is_set() and time.monotonic() - self.last_event > self.resync_after_s:
                self.last_event = time.monotonic()
                self._resync("silent")

    def _mark_down(self) -> None:
        if self.connected.is_set() or self.lost_since is None:
            self.lost_since = time.monotonic()
        self.connected.clear()

    def _headers(self) -> dict[str, str]:
        """Fresh credentials for this connection attempt (the upgrade request carries them)."""
        if self.hmac_token_id and self.hmac_secret:
            return lm.hmac_headers(self.hmac_token_id, self.hmac_secret, "GET", SIO_PATH, "")
        return {"X-API-Key": self.api_key} if self.api_key else {}

    def _handler(self, name: str) -> Callable[[Any], None]:
        def handle(payload: Any = None) -> None:
            self.last_event = time.monotonic()
            if self.on_event is not None:
                try:
                    self.on_event(name, payload)
                except Exception:
                    log.exception("limitless stream: the %s handler failed", name)

        return handle

    def _resync(self, why: str) -> None:
        if self.on_resync is not None:
            try:
                self.on_resync(why)
            except Exception:
                log.exception("limitless stream: resync (%s) failed", why)
