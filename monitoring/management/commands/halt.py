"""manage.py halt --reason "..." [--flatten] [--user NAME]: stop all trading through the one halt path."""

from __future__ import annotations

import getpass
import socket
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from monitoring.alerts import alert_direct_wait
from monitoring.halt import flag_present, halt, halt_requests_land
from monitoring.models import HaltSource


class Command(BaseCommand):
    help = "Halt all trading: flag + kill-switch row, cancel every resting order, optionally flatten."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reason", required=True, help="why (recorded and paged)")
        parser.add_argument("--flatten", action="store_true", help="also sell every position into the book")
        parser.add_argument("--user", help="your account name, recorded as the actor (a halt needs no permission)")

    def handle(self, *args: Any, reason: str, flatten: bool, user: str | None, **options: Any) -> None:
        try:  # the halt first: looking the user up waits on the database, the sweep must not
            event = halt(reason=reason, source=HaltSource.COMMAND, flatten=flatten, actor_name=user or "",
                         figures={"os_user": getpass.getuser(), "host": socket.gethostname(), "user": user or ""})
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self._check_user(user)
        event = self._until_recorded(event)
        verb = "HALTED" if event.action == "halt" else "Already halted (recorded, venue swept again)"
        self.stdout.write(self.style.WARNING(f"{verb}: {event.orders_cancelled} resting orders cancelled."))
        for position, outcome in event.figures.get("flattened", {}).items():
            self.stdout.write(f"  flatten {position}: {outcome}")
        for error in event.errors:
            self.stderr.write(self.style.ERROR(f"  ! {error}"))
        if event.pk is None:
            self.stderr.write(self.style.WARNING(
                "  The halt is in force (venue swept, halt slot written: no agent trades) but the database has "
                "not recorded it yet; `manage.py monitor` lands the record as soon as the database takes writes."))
        alert_direct_wait(settings.ALERT_HTTP_TIMEOUT_S + 1)  # a page sent without the database must get out
        if not _durable(event):
            raise CommandError("the halt could not be made durable (halt slot, flag file and database all "
                               "refused): the venue was swept, but keep this shell open and call for help")
        if event.pk is None and connection.vendor != "sqlite" and any("NOT parked" in e for e in event.errors):
            self.stderr.write(self.style.ERROR(
                "  Other hosts are NOT halted until the record lands: halt each worker host from its own shell "
                "(this command there) or touch its flag file."))
            raise SystemExit(3)

    def _check_user(self, user: str | None) -> None:
        """Warn about a name that is no active account (after the halt, and never stopping it)."""
        if not user:
            return
        try:
            known = get_user_model().objects.filter(username=user, is_active=True).exists()
        except DatabaseError as exc:
            self.stderr.write(self.style.WARNING(f"  database unreadable ({exc}): {user!r} recorded by name"))
            return
        if not known:
            self.stderr.write(self.style.WARNING(f"  no active user {user!r}: halting without an actor"))

    def _until_recorded(self, event: Any) -> Any:
        """Give the database a few seconds to take the record (a lock held briefly); the monitor retries after."""
        deadline = time.monotonic() + RECORD_RETRY_S
        while event.pk is None and time.monotonic() < deadline:
            time.sleep(0.5)
            landed = halt_requests_land()
            event = landed[-1] if landed else event
        return event


RECORD_RETRY_S = 5.0


def _durable(event: Any) -> bool:
    """Recorded in the database, or in the halt slot, or at least as a flag file on disk."""
    if event.pk is not None or not any(e.startswith("halt slot not written") for e in event.errors):
        return True
    try:
        return flag_present()
    except OSError:
        return True  # cannot tell: the loops trip on an uncheckable flag too
