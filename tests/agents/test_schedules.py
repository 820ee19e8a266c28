"""One django-q2 schedule per enabled agent, declared by an idempotent command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from agents.tasks import run_agent_task
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db


def agent_schedules():
    return Schedule.objects.filter(name__startswith="agent:")


def sync() -> str:
    out = StringIO()
    call_command("schedule_agents", stdout=out)
    return out.getvalue()


def test_it_declares_one_schedule_per_enabled_agent():
    a = AgentConfigFactory(interval_s=120)
    AgentConfigFactory(enabled=False)
    assert f"created agent:{a.pk}" in sync()
    schedule = agent_schedules().get()
    assert (schedule.func, schedule.args, schedule.minutes) == ("agents.tasks.run_agent_task", str(a.pk), 2)


def test_it_changes_nothing_the_second_time():
    AgentConfigFactory()
    sync()
    assert sync().strip() == "schedules already up to date"
    assert agent_schedules().count() == 1 and Schedule.objects.filter(name="replay-audit").count() == 1


def test_it_follows_interval_changes_and_removes_disabled_agents():
    a = AgentConfigFactory(interval_s=60)
    sync()
    a.interval_s = 600
    a.save()
    assert "updated" in sync() and agent_schedules().get().minutes == 10
    a.enabled = False
    a.save()
    assert "removed" in sync() and not agent_schedules().exists()


def test_it_reports_a_disabled_agent_from_the_task():
    a = AgentConfigFactory(enabled=False)
    assert run_agent_task(a.pk) == f"agent {a.pk}: disabled, not run"


def test_it_schedules_the_daily_replay_audit_once():
    assert "created replay-audit" in sync()
    schedule = Schedule.objects.get(name="replay-audit")
    assert (schedule.func, schedule.schedule_type) == ("agents.tasks.replay_audit_task", Schedule.DAILY)
    assert (schedule.next_run.hour, schedule.next_run.minute) == (0, 30)
    assert "replay-audit" not in sync()
