"""manage.py monitor: the flag-file watcher, the periodic health checks, and the dead-man's switch.

It also holds the venue websocket with account-wide cancel-on-disconnect (monitoring/deadman.py):
if this process dies, the venue cancels every resting order of the account. A thread of its own
confirms that session every DEADMAN_COVER_BEAT_S (the cover beat, monitoring.models.CoverBeat): the loops send
no order without a recent one.

The watcher polls the flag file every FLAG_POLL_S (0.2 s), on a thread of its own (a health pass
stalled by a locked database must not delay it), so a hand-touched flag completes the halt path
(cancel resting, event, alert) within a second or two; the dead-man's cover beats on another; the
health checks (kill-switch shapes, paging) run every MONITOR_INTERVAL_S (5 s). Housekeeping (alert delivery retries,
approval expiry) runs every 30 s.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from agents.services import venue_client
from monitoring.deadman import CoverBeater, DeadMansSwitch, LimitlessWatchdog, deadman_for_venue
from monitoring.health import Monitor
from monitoring.periodic import Periodic

log = logging.getLogger("academy.monitor")
HOUSEKEEPING_S = 30.0


class Command(BaseCommand):
    help = "Watch the kill-switch flag file and run the health checks until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one flag check and one health pass, then exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        self.verbosity = int(options.get("verbosity", 1))
        deadman = self._arm_deadman()
        monitor = Monitor(venue_client, deadman=deadman)
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        poll, interval = float(settings.FLAG_POLL_S), float(settings.MONITOR_INTERVAL_S)
        # The loops send no order without a recent cover beat: its own thread, never behind a slow pass.
        beater = CoverBeater(deadman, interval_s=float(settings.DEADMAN_COVER_BEAT_S)).start()
        # The flag watcher too: a health pass can take a minute under a locked database, and a touched
        # flag must still halt within a second.
        watcher = None if once else Periodic("flag watcher", monitor.flag_tick, interval_s=poll).start()
        try:
            self._watch(monitor, poll=poll, interval=interval, once=once)
        finally:
            if watcher is not None:
                watcher.stop()
            beater.stop()

    def _watch(self, monitor: Monitor, *, poll: float, interval: float, once: bool) -> None:
        next_health = next_house = 0.0
        self.stdout.write(f"monitor: flag every {poll}s, health every {interval}s")
        while self.running:
            now = time.monotonic()
            if once:  # otherwise its own thread (handle) does it
                self._safely("flag watcher", monitor.flag_tick)
            if now >= next_health:
                self._safely("health checks", monitor.health_tick)
                took = time.monotonic() - now
                if took > interval / 2:  # at this rate a fleet outgrows the monitor: say so before it does
                    log.warning("monitor: a health pass took %.2f s of its %.1f s interval", took, interval)
                if self.verbosity >= 2:
                    self.stdout.write(f"monitor: health pass {took * 1000:.1f} ms")
                next_health = now + interval
            if now >= next_house:
                self._safely("housekeeping", housekeeping)
                next_house = now + HOUSEKEEPING_S
            if once:
                return
            time.sleep(poll)

    def _arm_deadman(self) -> DeadMansSwitch | LimitlessWatchdog | None:
        deadman = deadman_for_venue()
        if deadman is None:
            self.stdout.write("monitor: cancel-on-disconnect is OFF (VENUE_CANCEL_ON_DISCONNECT=false)")
            return None
        deadman.start()
        if isinstance(deadman, LimitlessWatchdog):
            self._check_venue_clock()
            self.stdout.write(f"monitor: dead-man's watchdog on the Limitless stream {deadman.url}: lost for "
                              f"{settings.DEADMAN_WATCHDOG_S} s halts and cancels everything resting (account "
                              f"{deadman.account})")
        else:
            self.stdout.write(f"monitor: cancel-on-disconnect armed on {deadman.url} (paper venue only; account "
                              f"scope, cover beats for account {deadman.account})")
        return deadman

    def _check_venue_clock(self) -> None:
        """Limitless refuses HMAC requests 30 s off its clock: check ours once at start-up, and page if off
        (every request, cancels included, would fail)."""
        from agents.services import venue_client
        from monitoring.alerts import alert_fire

        try:
            offset = venue_client().check_clock()
            self.stdout.write(f"monitor: our clock is {offset:+.1f} s off the venue's")
        except Exception as exc:
            log.critical("monitor: venue clock check failed: %s", exc)
            alert_fire(key="venue_clock", title="Venue clock check failed: requests may be refused (fix NTP)",
                       details={"error": f"{type(exc).__name__}: {exc}"[:500]})

    def _stop(self, *args: Any) -> None:
        self.running = False

    def _safely(self, what: str, fn: Any) -> None:
        """One failing pass must not kill the watcher: log it and keep watching."""
        try:
            close_old_connections()
            fn()
        except Exception:
            log.exception("monitor: %s failed", what)


def housekeeping() -> None:
    """Retry stuck alert deliveries, expire stale approval requests, finish interrupted placements,
    record runs whose process is gone as crashed."""
    from importlib import import_module

    for module, name in (("monitoring.tasks", "alert_deliveries_sweep"), ("approvals.services", "approvals_expire"),
                         ("approvals.services", "approvals_retry_stuck"), ("agents.services", "runs_sweep_crashed")):
        getattr(import_module(module), name)()
