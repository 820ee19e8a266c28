"""One django-q2 schedule per enabled agent, declared by an idempotent command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from agents.tasks import run_agent_task
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db


def sync() -> str:
    out = StringIO()
    call_command("schedule_agents", stdout=out)
    return out.getvalue()


def test_it_declares_one_schedule_per_enabled_agent():
    a = AgentConfigFactory(interval_s=120)
    AgentConfigFactory(enabled=False)
    assert f"created agent:{a.pk}" in sync()
    schedule = Schedule.objects.get()
    assert (schedule.func, schedule.args, schedule.minutes) == ("agents.tasks.run_agent_task", str(a.pk), 2)


def test_it_changes_nothing_the_second_time():
    AgentConfigFactory()
    sync()
    assert sync().strip() == "schedules already up to date"
    assert Schedule.objects.count() == 1


def test_it_follows_interval_changes_and_removes_disabled_agents():
    a = AgentConfigFactory(interval_s=60)
    sync()
    a.interval_s = 600
    a.save()
    assert "updated" in sync() and Schedule.objects.get().minutes == 10
    a.enabled = False
    a.save()
    assert "removed" in sync() and not Schedule.objects.exists()


def test_it_reports_a_disabled_agent_from_the_task():
    a = AgentConfigFactory(enabled=False)
    assert run_agent_task(a.pk) == f"agent {a.pk}: disabled, not run"
