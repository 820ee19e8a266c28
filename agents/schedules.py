"""What `manage.py schedule_agents` declares: each enabled agent's dispatch slot, and the daily replay audit.

Agent runs are enqueued by the dispatcher (agents/dispatch.py, `manage.py dispatch`), each at its own
slot in its interval. Earlier versions declared one django-q2 Schedule per agent (named agent:<id>);
the cluster fired them all in one tick, so those are removed here.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from agents import dispatch

LEGACY_PREFIX = "agent:"
REPLAY = "replay-audit"


def schedules_sync() -> list[str]:
    """Make the dispatch slots match the agents (plus the daily replay audit); one line per change."""
    changes: list[str] = []
    with transaction.atomic():
        changes += _ensure_replay()
        for legacy in Schedule.objects.filter(name__startswith=LEGACY_PREFIX):
            changes.append(f"removed django-q schedule {legacy.name} (runs are dispatched by manage.py dispatch)")
            legacy.delete()
        changes += dispatch.schedules_sync()
    return changes


def _ensure_replay() -> list[str]:
    """The card's daily cron: yesterday's traces replayed at 00:30 UTC."""
    if Schedule.objects.filter(name=REPLAY).exists():
        return []
    tomorrow = timezone.now().date() + timedelta(days=1)
    first = datetime.combine(tomorrow, time(0, 30), tzinfo=UTC)
    Schedule.objects.create(name=REPLAY, func="agents.tasks.replay_audit_task", schedule_type=Schedule.DAILY,
                            repeats=-1, next_run=first)
    return [f"created {REPLAY} (daily at 00:30 UTC)"]
