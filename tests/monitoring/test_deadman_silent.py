"""A dead-man's session that goes silent (the venue's packets lost on the way, TCP none the wiser) is
dropped and reconnected by the monitor, and pages meanwhile: never a cover that is down for good
with every agent stopped and nobody told (issue 12 review)."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal
from urllib.parse import urlparse

import pytest

from monitoring.deadman import CoverBeater, DeadMansSwitch
from monitoring.health import Monitor
from monitoring.models import Alert

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.fault]


class VenueProxy:
    """A TCP proxy in front of the venue that can half-kill the path: with `cut` set, nothing from the
    venue reaches the client (no data, no FIN) and neither side's TCP notices. `handshake_only`: a
    connection opened while cut gets the HTTP 101 through and nothing after it, for good (a session
    that opens and is never acknowledged)."""

    def __init__(self, host: str, port: int, *, handshake_only: bool = False) -> None:
        self.target = (host, port)
        self.cut = False
        self.handshake_only = handshake_only
        self.port = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        assert ready.wait(5)

    def _lost(self, data: bytes, opened_cut: bool) -> bytes:
        """What of the venue's bytes reaches the client."""
        if self.handshake_only:
            if not opened_cut:
                return data
            return data[: data.index(b"\r\n\r\n") + 4] if data.startswith(b"HTTP/") else b""
        return b"" if self.cut else data

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def pipe(reader, writer, downstream: bool, opened_cut: bool) -> None:
            try:
                while data := await reader.read(65536):
                    if downstream and not (data := self._lost(data, opened_cut)):
                        continue
                    writer.write(data)
                    await writer.drain()
            except Exception:
                pass
            if not (downstream and (self.cut or opened_cut)):
                writer.close()

        async def handle(client_r, client_w) -> None:
            venue_r, venue_w = await asyncio.open_connection(*self.target)
            opened_cut = self.cut
            await asyncio.gather(pipe(client_r, venue_w, False, opened_cut), pipe(venue_r, client_w, True, opened_cut))

        async def main() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            await server.serve_forever()

        self.loop.run_until_complete(main())


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_it_reconnects_a_silent_session_and_pages_until_the_cover_is_back(venue, make_trader, settings):
    settings.DEADMAN_MAX_SILENCE_S = Decimal("1.5")  # the test venue pings every 0.2 s
    trader = make_trader()
    target = urlparse(venue.url)
    proxy = VenueProxy(target.hostname, target.port)
    switch = DeadMansSwitch(venue_url=f"http://127.0.0.1:{proxy.port}", api_key=trader.api_key)
    switch.start()
    beater = CoverBeater(switch, interval_s=0.2).start()
    try:
        assert wait_for(lambda: switch.live(1.5))
        proxy.cut = True  # the venue drops us (its heartbeat timeout), and we hear nothing of it
        assert wait_for(lambda: not switch.armed), "a silent session was never dropped"
        Monitor(lambda: trader, deadman=switch)._page_deadman()
        assert Alert.objects.filter(key="cancel_on_disconnect:system", state="firing").exists()
        proxy.cut = False  # the path heals: the next connection re-arms by itself
        assert wait_for(lambda: switch.live(1.5)), "the cover did not come back after the path healed"
        assert switch.stream.connections > 1  # a new session, re-armed
        Monitor(lambda: trader, deadman=switch)._page_deadman()
        assert Alert.objects.get(key="cancel_on_disconnect:system").state == "resolved"
    finally:
        beater.stop()
        switch.stop()


def test_it_drops_a_new_session_that_opens_but_is_never_acknowledged(venue, make_trader, settings):
    settings.DEADMAN_MAX_SILENCE_S = Decimal("1.5")
    trader = make_trader()
    target = urlparse(venue.url)
    proxy = VenueProxy(target.hostname, target.port, handshake_only=True)
    switch = DeadMansSwitch(venue_url=f"http://127.0.0.1:{proxy.port}", api_key=trader.api_key)
    switch.start()
    beater = CoverBeater(switch, interval_s=0.2).start()
    try:
        assert wait_for(lambda: switch.live(1.5))
        proxy.cut = True
        switch.stream.drop()  # the first session is lost (the venue restarted, say); the next one hangs
        first = switch.stream.connections
        assert wait_for(lambda: switch.stream.connections > first, 5), "no reconnect attempt"
        proxy.cut = False  # the path heals: the hung session must be dropped for a good one
        assert wait_for(lambda: switch.live(1.5), 15), "stuck on a session that was never acknowledged"
    finally:
        beater.stop()
        switch.stop()
