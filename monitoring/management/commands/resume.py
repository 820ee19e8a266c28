"""manage.py resume --reason "..." --user NAME: lift the halt (permission, reason, no hold)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from monitoring.halt import ResumeRefused, resume


class Command(BaseCommand):
    help = "Resume trading after a halt. Needs a user with the toggle_kill_switch permission and a reason."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reason", required=True)
        parser.add_argument("--user", required=True, help="the person resuming (must hold the permission)")

    def handle(self, *args: Any, reason: str, user: str, **options: Any) -> None:
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {user!r}")
        try:
            resume(actor=actor, reason=reason)
        except (PermissionDenied, ResumeRefused, ValueError) as exc:
            raise CommandError(f"resume refused: {exc}") from None
        self.stdout.write(self.style.SUCCESS("Trading resumed."))
