"""manage.py halt --reason "..." [--flatten] [--user NAME]: stop all trading through the one halt path.

The actor is --user, else the OS user: the Academy user of that name when there is one, else the name
itself, kept as text (monitoring/halt.py), so the record always says who halted."""

from __future__ import annotations

import socket
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from monitoring.alerts import alert_direct_wait
from monitoring.halt import flag_present, halt, halt_requests_land
from monitoring.management.commands._shell_user import os_user
from monitoring.models import HaltSource


class Command(BaseCommand):
    help = "Halt all trading: flag + kill-switch row, cancel every resting order, optionally flatten."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reason", required=True, help="why (recorded and paged)")
        parser.add_argument("--flatten", action="store_true", help="also sell every position into the book")
        parser.add_argument("--user", help="who is halting, recorded as the actor: your Academy user name, or any "
                            "name (default: your OS user name; a halt needs no permission)")

    def handle(self, *args: Any, reason: str, flatten: bool, user: str | None, **options: Any) -> None:
        shell_user = os_user()
        name = user or shell_user
        try:  # the halt first: looking the user up waits on the database, the sweep must not
            event = halt(reason=reason, source=HaltSource.COMMAND, flatten=flatten, actor_name=name,
                         figures={"os_user": shell_user, "host": socket.gethostname(), "user": name})
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        event = self._until_recorded(event)
        self._say_actor(event, name)
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

    def _say_actor(self, event: Any, name: str) -> None:
        """Say how the record names the actor (no lookup of its own: the record has made it, or will when
        it lands)."""
        if event.pk is not None and event.actor_id is None:
            self.stderr.write(self.style.WARNING(f"  no active Academy user {name!r}: recorded by name "
                                                 "(--user NAME records your account)"))

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
