"""manage.py dispatch: enqueue each agent's runs at its own slot in its interval (agents/dispatch.py).

One per deployment is enough; more (one per host) are safe: each slot is claimed by compare-and-set.
Every DISPATCH_SYNC_S it also follows agents created, disabled or re-timed in the admin.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from agents.dispatch import dispatch_due, schedules_sync

log = logging.getLogger("academy.dispatch")


class Command(BaseCommand):
    help = "Enqueue agent runs as their slots come due, until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one sync and one dispatch pass, then exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        tick, sync_every = float(settings.DISPATCH_TICK_S), float(settings.DISPATCH_SYNC_S)
        self.stdout.write(f"dispatch: every {tick}s, following agent changes every {sync_every}s")
        next_sync = 0.0
        while self.running:
            now = time.monotonic()
            try:
                if now >= next_sync:
                    for line in schedules_sync():
                        self.stdout.write(line)
                    next_sync = now + sync_every
                done = dispatch_due()
                if done.failed or done.orphans or done.resent:
                    self.stdout.write(f"dispatch: {len(done.enqueued)} enqueued, {len(done.orphans)} recoveries, "
                                      f"{len(done.resent)} sent again after a worker died, {len(done.failed)} failed")
            except Exception:  # a locked or unreachable database: no run is enqueued, try again
                log.exception("dispatch pass failed; retrying")
            if once:
                return
            time.sleep(max(0.0, tick - (time.monotonic() - now)))
            close_old_connections()  # a connection the server dropped is reopened for the next pass

    def _stop(self, *_: Any) -> None:
        self.running = False
