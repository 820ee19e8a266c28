"""manage.py resume --reason "..." [--user NAME]: lift the halt (permission, reason, no hold).

The actor is --user, else the OS user: an active Academy user of that name with the toggle_kill_switch
permission; a name with no account behind it cannot resume (a halt can, see halt.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from monitoring.halt import ResumeRefused, resume
from monitoring.management.commands._shell_user import os_user


class Command(BaseCommand):
    help = "Resume trading after a halt. Needs a user with the toggle_kill_switch permission and a reason."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reason", required=True)
        parser.add_argument("--user", help="your Academy user name, recorded as the actor (must hold the "
                            "permission; default: your OS user name)")

    def handle(self, *args: Any, reason: str, user: str | None, **options: Any) -> None:
        name = user or os_user()
        actor = get_user_model().objects.filter(username=name, is_active=True).first()
        if actor is None:
            whose = "" if user else " (your OS user name: pass --user with your Academy user name)"
            raise CommandError(f"no active user {name!r}{whose}")
        try:
            resume(actor=actor, reason=reason)
        except (PermissionDenied, ResumeRefused, ValueError) as exc:
            raise CommandError(f"resume refused: {exc}") from None
        self.stdout.write(self.style.SUCCESS("Trading resumed."))
