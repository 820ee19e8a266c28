"""Declare one django-q2 Schedule per enabled agent; remove those of disabled or deleted agents.

Idempotent: run it any number of times (make run does, at every start); a second call
changes nothing and says so.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from agents.schedules import schedules_sync


class Command(BaseCommand):
    help = "Create, update or remove the django-q2 schedule of every agent."

    def handle(self, *args: Any, **options: Any) -> None:
        changes = schedules_sync()
        for line in changes or ["schedules already up to date"]:
            self.stdout.write(line)
