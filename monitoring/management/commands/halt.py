"""manage.py halt --reason "..." [--flatten]: stop all trading through the one halt path."""

from __future__ import annotations

import getpass
import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.halt import halt
from monitoring.models import HaltSource


class Command(BaseCommand):
    help = "Halt all trading: flag + kill-switch row, cancel every resting order, optionally flatten."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reason", required=True, help="why (recorded and paged)")
        parser.add_argument("--flatten", action="store_true", help="also sell every position into the book")

    def handle(self, *args: Any, reason: str, flatten: bool, **options: Any) -> None:
        try:
            # No Django user on a shell: record who ran it on the host (the halt needs no permission).
            event = halt(reason=reason, source=HaltSource.COMMAND, flatten=flatten,
                         figures={"os_user": getpass.getuser(), "host": socket.gethostname()})
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        verb = "HALTED" if event.action == "halt" else "Already halted (recorded)"
        self.stdout.write(self.style.WARNING(f"{verb}: {event.orders_cancelled} resting orders cancelled."))
        for error in event.errors:
            self.stderr.write(self.style.ERROR(f"  ! {error}"))
