"""manage.py replay_audit [--date YYYY-MM-DD]: replay a day's traces and write replay-report.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from agents.replay import AuditReport, replay_audit


class Command(BaseCommand):
    help = "Replay a day's traces (default: yesterday, UTC) against the same models; report decision drift."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="the day to audit, YYYY-MM-DD (UTC; default: yesterday)")

    def handle(self, *args: Any, date: str | None = None, **options: Any) -> None:
        try:
            day = _parse(date) if date else timezone.now().date() - timedelta(days=1)
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from None
        chosen = "--date" if date else "yesterday, the default; another day: --date YYYY-MM-DD"
        self.stdout.write(f"Replay audit of {day.isoformat()} (UTC; {chosen}).")
        report = replay_audit(day=day)
        self.stdout.write(f"{_runs(len(report.results))} replayed, {len(report.skipped)} skipped, "
                          f"{report.drift} drifted decisions: {report.path}")
        if not report.results and not report.skipped:
            self.stdout.write(why_nothing(report))
        if report.drift:
            raise CommandError("decision drift found: read the report")


def _parse(text: str) -> date:
    return date.fromisoformat(text)


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def why_nothing(report: AuditReport) -> str:
    """Say why a day had no trace to replay: no run that day (and when the newest one was), no run ever,
    or runs whose trace files are not where this process looks."""
    from agents.models import Run
    from agents.services import traces_dir

    start = datetime.combine(report.day, time.min, tzinfo=UTC)
    try:
        that_day = Run.objects.filter(started_at__gte=start, started_at__lt=start + timedelta(days=1)).count()
        newest = Run.objects.order_by("-started_at", "-id").only("pk", "started_at").first()
    except DatabaseError as exc:
        return (f"Nothing to replay: no trace in {traces_dir() / report.day.isoformat()}, and the runs could "
                f"not be read to say why ({type(exc).__name__}: {exc}).")
    if that_day:
        return (f"{_runs(that_day)} started on {report.day.isoformat()} but no trace file of theirs is in "
                f"{traces_dir() / report.day.isoformat()}: is ACADEMY_DATA_DIR the one the system runs with?")
    if newest is None:
        return "Nothing to replay: no run has been recorded on this system yet."
    when = newest.started_at.astimezone(UTC)
    return (f"Nothing to replay: no run started on {report.day.isoformat()} (UTC). The newest run, {newest.pk}, "
            f"started {when:%Y-%m-%d %H:%M} UTC: replay its day with --date {when.date().isoformat()}.")
