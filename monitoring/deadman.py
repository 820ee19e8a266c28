"""The dead-man's switch: one websocket to the venue with account-wide cancel-on-disconnect.

The monitor process holds it (reference card deploy gate: "cancel-on-disconnect on"). If the
monitor dies, its host loses the network, or it stops answering the venue's heartbeat, the
venue cancels every resting order of the account by itself: the kill-switch race ("the order
is already in flight when the loop checks the flag") and a dead control plane both end with
nothing resting. The stream reconnects with backoff and re-arms on every connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import threading
import time
from typing import Any

from django.conf import settings

from monitoring.periodic import Periodic

log = logging.getLogger("academy.deadman")


def ws_url(venue_url: str) -> str:
    """The venue's websocket endpoint next to its REST base URL."""
    if venue_url.startswith("https://"):
        return "wss://" + venue_url.removeprefix("https://").rstrip("/") + "/paper/ws"
    return "ws://" + venue_url.removeprefix("http://").rstrip("/") + "/paper/ws"


class DeadMansSwitch:
    """Runs a VenueStream(cancel_on_disconnect="account") on its own thread and event loop."""

    def __init__(self, venue_url: str | None = None, api_key: str | None = None) -> None:
        self.url = ws_url(venue_url or settings.VENUE_URL)
        self.api_key = api_key or settings.VENUE_API_KEY
        self.account = account_fingerprint(venue_url or settings.VENUE_URL, self.api_key)
        self.stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def armed(self) -> bool:
        """True while a session with cancel-on-disconnect is open at the venue."""
        return self.stream is not None and self.stream.connected.is_set()

    def live(self, max_silence_s: float) -> bool:
        """Armed, and the venue was heard (its pings included) within `max_silence_s`: a socket that went
        quiet may already be dead at the venue's end, and then it covers nothing."""
        return self.armed and time.monotonic() - self.stream.last_heard < max_silence_s

    def reconnect_if_silent(self, max_silence_s: float) -> bool:
        """Drop a session the venue has not been heard on for `max_silence_s` (its pings come every few
        seconds): a half-dead path never errors by itself, and would keep the cover down, and every
        agent stopped, until someone restarted the monitor. True when it dropped one."""
        stream = self.stream
        if stream is None or stream._ws is None or time.monotonic() - stream.last_heard < 2 * max_silence_s:
            return False  # twice the cover's silence: one late ping must not cost the account its orders
        log.warning("deadman: nothing heard from the venue for %.0f s; reconnecting", max_silence_s)
        self.stream.drop()
        return True

    def start(self, wait_s: float = 5.0) -> None:
        """Start, and wait (a little) until armed, so the first health pass does not page for nothing."""
        self._thread = threading.Thread(target=self._run, name="deadman", daemon=True)
        self._thread.start()
        self._ready.wait(wait_s)
        deadline = time.monotonic() + wait_s
        while not self.armed and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self._loop is not None and self.stream is not None:
            asyncio.run_coroutine_threadsafe(self.stream.stop(), self._loop).result(timeout=5)

    def _run(self) -> None:
        from agents.venue.client import VenueStream

        self._loop = asyncio.new_event_loop()
        self.stream = VenueStream(self.url, self.api_key, account=False, cancel_on_disconnect="account",
                                  max_backoff=2.0)
        self._loop.run_until_complete(self.stream.start())
        self._ready.set()
        self._loop.run_forever()


def account_fingerprint(venue_url: str | None = None, api_key: str | None = None) -> str:
    """Which venue account a cover is for: a short sha256 of (venue URL, API key), never the key.

    The monitor writes it on its beats and the loops ask for their own: a session for another key or
    another venue cancels nothing of theirs."""
    url = (venue_url if venue_url is not None else settings.VENUE_URL).rstrip("/")
    key = api_key if api_key is not None else settings.VENUE_API_KEY
    return hashlib.sha256(f"{url}\n{key}".encode()).hexdigest()[:16]


def cover_confirm(deadman: DeadMansSwitch | None, *, host: str | None = None, account: str | None = None) -> bool:
    """Record this monitor host's cover (monitoring.models.CoverBeat), armed or down, as of now.

    The loops send no order unless a monitor of their account confirmed its cover within
    DEADMAN_COVER_STALE_S (agents/services.py `cover_missing_reason`), and count an order covered once
    a beat armed after its send. The times are the database's (Now()): one clock for every host.
    Bounded wait: a locked database delays the beat (the cover then reads as stale: orders stop)."""
    from django.db.models import F
    from django.db.models.functions import Now

    from academy.dbwait import bounded_wait
    from monitoring.models import CoverBeat

    armed = deadman is not None and deadman.live(float(settings.DEADMAN_MAX_SILENCE_S))
    host = host or socket.gethostname()
    account = account or (deadman.account if deadman is not None else account_fingerprint())
    with bounded_wait(500):
        rows = CoverBeat.objects.filter(host=host, account=account)
        if not rows.update(armed=armed, confirmed_at=Now(), armed_at=Now() if armed else F("armed_at")):
            CoverBeat.objects.get_or_create(host=host, account=account, defaults={
                "armed": armed, "confirmed_at": Now(), "armed_at": Now() if armed else None})
    return armed


class CoverBeater(Periodic):
    """The cover beat on a thread of its own, every `interval_s`, whatever the monitor's loop is doing:
    inline, one slow health pass (a venue timeout is 5 s) or a SQLite busy wait would leave the cover
    stale though the session never dropped, and every agent would stop for nothing. Each beat first
    drops a session gone silent (it reconnects and re-arms), then records the cover."""

    def __init__(self, deadman: DeadMansSwitch | None, *, interval_s: float = 1.0) -> None:
        super().__init__("cover beat", lambda: _beat(deadman), interval_s=interval_s)
        self.deadman = deadman


def _beat(deadman: DeadMansSwitch | None) -> None:
    if deadman is not None:
        deadman.reconnect_if_silent(float(settings.DEADMAN_MAX_SILENCE_S))
    cover_confirm(deadman)
