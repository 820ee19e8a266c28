"""A function run every few seconds on a thread of its own, whatever the monitor's main loop is doing.

The monitor's passes wait on the venue and the database; a pass that takes 80 s under a locked
database must not delay the flag watcher (a touched flag halts within a second) or the dead-man's
cover beat (a late beat stops every agent). Each thread keeps its own database connection (Django's
are per thread), closed as the main loop does its own between passes; a failing call is logged and
the next one follows; the thread is a daemon and dies with the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("academy.monitor")


class Periodic:
    def __init__(self, name: str, fn: Callable[[], object], *, interval_s: float) -> None:
        self.name = name
        self.fn = fn
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        from django.db import close_old_connections, connections

        try:
            while True:
                due = time.monotonic() + self.interval_s
                try:
                    close_old_connections()
                    self.fn()
                except Exception:
                    log.exception("monitor: %s failed", self.name)
                if self._stopping.wait(max(0.0, due - time.monotonic())):
                    return
        finally:
            connections.close_all()
