"""The django-q2 schedules that fire agent runs, derived from AgentConfig rows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from agents.models import AgentConfig

TASK = "agents.tasks.run_agent_task"
PREFIX = "agent:"


def schedule_name(agent: AgentConfig) -> str:
    return f"{PREFIX}{agent.pk}"


REPLAY = "replay-audit"


def schedules_sync() -> list[str]:
    """Make the schedules match the agents (plus the daily replay audit); one line per change."""
    changes: list[str] = []
    with transaction.atomic():
        changes += _ensure_replay()
        wanted = {schedule_name(a): a for a in AgentConfig.objects.filter(enabled=True)}
        for name, agent in wanted.items():
            changes += _ensure(name, agent)
        for stale in Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=wanted):
            changes.append(f"removed {stale.name} (agent disabled or deleted)")
            stale.delete()
    return changes


def _ensure(name: str, agent: AgentConfig) -> list[str]:
    # django-q2 schedules in whole minutes; an interval under a minute runs every minute.
    minutes = max(1, round(agent.interval_s / 60))
    fields = {"func": TASK, "args": str(agent.pk), "schedule_type": Schedule.MINUTES, "minutes": minutes,
              "repeats": -1}
    existing = Schedule.objects.filter(name=name).first()
    if existing is None:
        Schedule.objects.create(name=name, **fields)
        return [f"created {name} ({agent.name}, every {minutes} min)"]
    if all(getattr(existing, k) == v for k, v in fields.items()):
        return []
    Schedule.objects.filter(pk=existing.pk).update(**fields)
    return [f"updated {name} ({agent.name}, every {minutes} min)"]


def _ensure_replay() -> list[str]:
    """The card's daily cron: yesterday's traces replayed at 00:30 UTC."""
    if Schedule.objects.filter(name=REPLAY).exists():
        return []
    tomorrow = timezone.now().date() + timedelta(days=1)
    first = datetime.combine(tomorrow, time(0, 30), tzinfo=UTC)
    Schedule.objects.create(name=REPLAY, func="agents.tasks.replay_audit_task", schedule_type=Schedule.DAILY,
                            repeats=-1, next_run=first)
    return [f"created {REPLAY} (daily at 00:30 UTC)"]
