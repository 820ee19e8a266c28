"""manage.py halt --reason "..." [--flatten] [--user NAME]: stop all trading through the one halt path."""

from __future__ import annotations

import getpass
import socket
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monitoring.halt import halt
from monitoring.models import HaltSource


class Command(BaseCommand):
    help = "Halt all trading: flag + kill-switch row, cancel every resting order, optionally flatten."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reason", required=True, help="why (recorded and paged)")
        parser.add_argument("--flatten", action="store_true", help="also sell every position into the book")
        parser.add_argument("--user", help="your account name, recorded as the actor (a halt needs no permission)")

    def handle(self, *args: Any, reason: str, flatten: bool, user: str | None, **options: Any) -> None:
        actor = None
        if user:  # an unknown name must not stop a halt: record it and go on
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                self.stderr.write(self.style.WARNING(f"  no active user {user!r}: halting without an actor"))
        try:
            event = halt(reason=reason, source=HaltSource.COMMAND, flatten=flatten, actor=actor,
                         figures={"os_user": getpass.getuser(), "host": socket.gethostname(), "user": user or ""})
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        verb = "HALTED" if event.action == "halt" else "Already halted (recorded, venue swept again)"
        self.stdout.write(self.style.WARNING(f"{verb}: {event.orders_cancelled} resting orders cancelled."))
        for position, outcome in event.figures.get("flattened", {}).items():
            self.stdout.write(f"  flatten {position}: {outcome}")
        for error in event.errors:
            self.stderr.write(self.style.ERROR(f"  ! {error}"))
