"""manage.py replay_audit [--date YYYY-MM-DD]: replay a day's traces and write replay-report.md."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agents.replay import replay_audit


class Command(BaseCommand):
    help = "Replay a day's traces (default: yesterday, UTC) against the same models; report decision drift."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="the day to audit, YYYY-MM-DD (UTC)")

    def handle(self, *args: Any, date: str | None = None, **options: Any) -> None:
        try:
            day = _parse(date) if date else None
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from None
        report = replay_audit(day=day)
        self.stdout.write(f"{len(report.results)} runs replayed, {len(report.skipped)} skipped, "
                          f"{report.drift} drifted decisions: {report.path}")
        if report.drift:
            raise CommandError("decision drift found: read the report")


def _parse(text: str) -> date:
    return date.fromisoformat(text)
