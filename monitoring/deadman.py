"""The dead-man's switch: one websocket to the venue with account-wide cancel-on-disconnect.

The monitor process holds it (reference card deploy gate: "cancel-on-disconnect on"). If the
monitor dies, its host loses the network, or it stops answering the venue's heartbeat, the
venue cancels every resting order of the account by itself: the kill-switch race ("the order
is already in flight when the loop checks the flag") and a dead control plane both end with
nothing resting. The stream reconnects with backoff and re-arms on every connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

from django.conf import settings

from agents.services import account_fingerprint, venue_identity  # noqa: F401 - re-exported
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


class LimitlessWatchdog:
    """The dead-man's switch on Limitless, which has no cancel-on-disconnect: Academy brings its own.

    The monitor holds the Limitless stream (agents/venue/limitless_ws.py). While it is connected the
    cover beats armed and orders may go; when it is lost the beats say so (no new order is sent), and
    once it has been lost for DEADMAN_WATCHDOG_S the watchdog halts through the one halt path, which
    cancels everything resting with the REST cancel-all and records the halt. The same interface as
    DeadMansSwitch, so the cover beat and the health checks read either."""

    def __init__(self) -> None:
        from agents.venue.limitless_ws import LimitlessStream

        self.url = settings.LIMITLESS_WS_URL
        self.account = account_fingerprint(*venue_identity())
        hmac = {"hmac_token_id": settings.LIMITLESS_HMAC_TOKEN_ID, "hmac_secret": settings.LIMITLESS_HMAC_SECRET}
        credentials = hmac if settings.LIMITLESS_HMAC_TOKEN_ID else {"api_key": settings.LIMITLESS_API_KEY}
        self.stream = LimitlessStream(self.url, order_events=True, max_backoff=2.0, on_event=self._seen,
                                      **credentials)
        self.tripped = False  # this loss already halted; re-armed once the stream is back

    @property
    def armed(self) -> bool:
        return self.stream.connected.is_set()

    def _seen(self, name: str, payload: Any) -> None:
        """Note the market of each order event: a halt's cancel-all sweeps those markets first."""
        slug = payload.get("marketSlug") if name == "orderEvent" and isinstance(payload, dict) else None
        if isinstance(slug, str):
            from agents.services import venue_client

            note = getattr(venue_client(), "note_markets", None)
            if note is not None:
                note([slug])

    def live(self, max_silence_s: float) -> bool:
        """Connected, and heard from (the server's Engine.IO pings count) within its silence limit: the
        stream drops a half-dead connection itself past it, and the watchdog's clock starts then."""
        return self.armed and self.stream.silent_for() <= self.stream._silence_limit

    def reconnect_if_silent(self, max_silence_s: float) -> bool:
        return False  # the stream reconnects on its own, with fresh credentials

    def start(self, wait_s: float = 5.0) -> None:
        self.stream.start(wait_s)

    def stop(self) -> None:
        self.stream.stop()

    def watch(self) -> bool:
        """Halt once the stream has been lost for DEADMAN_WATCHDOG_S (once per loss). True when it halted."""
        down = self.stream.down_for()
        if down <= 0:
            self.tripped = False
            return False
        if self.tripped or down < float(settings.DEADMAN_WATCHDOG_S):
            return False
        from monitoring.halt import halt
        from monitoring.models import HaltSource

        log.critical("deadman: the Limitless stream has been lost for %.0f s; halting", down)
        halt(reason=f"dead-man's watchdog: the venue stream has been lost for {down:.0f} s (Limitless has no "
                    f"cancel-on-disconnect: everything resting is cancelled)", source=HaltSource.DEADMAN)
        self.tripped = True  # only once halt() returned: if it raised, the next beat asks again
        return True


def deadman_for_venue() -> DeadMansSwitch | LimitlessWatchdog | None:
    """The cover this deployment's venue needs: the paper venue's cancel-on-disconnect session (paper only),
    the Limitless watchdog, or none (VENUE_CANCEL_ON_DISCONNECT=false on the paper venue)."""
    if settings.VENUE == "limitless":
        return LimitlessWatchdog()
    if settings.VENUE_CANCEL_ON_DISCONNECT:
        return DeadMansSwitch()
    return None


def cover_confirm(
    deadman: DeadMansSwitch | LimitlessWatchdog | None, *, host: str | None = None, account: str | None = None
) -> bool:
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

    def __init__(self, deadman: DeadMansSwitch | LimitlessWatchdog | None, *, interval_s: float = 1.0) -> None:
        super().__init__("cover beat", lambda: _beat(deadman), interval_s=interval_s)
        self.deadman = deadman


def _beat(deadman: DeadMansSwitch | LimitlessWatchdog | None) -> None:
    if deadman is not None:
        deadman.reconnect_if_silent(float(settings.DEADMAN_MAX_SILENCE_S))
    try:
        cover_confirm(deadman)  # first: a lost stream stops new orders at once
    finally:
        if isinstance(deadman, LimitlessWatchdog):
            deadman.watch()  # then, past the watchdog's time, cancel what rests (a locked database cannot stop it)
