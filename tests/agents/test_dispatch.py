"""The dispatcher (issue 15): each agent's run at its own slot in its interval, once per slot, never
a fleet-sized burst; at most one waiting run per agent; a dead worker's agent re-enqueued at once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from agents.dispatch import dispatch_due, dispatch_lag, next_slot, run_picked_up, schedules_sync, slot_offset
from agents.models import AgentConfig, AgentLease, AgentSchedule
from agents.tasks import run_agent_task
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


class Sent(list):
    """An enqueue that records (agent id, due) instead of talking to a broker."""

    def __call__(self, agent_id: int, due: datetime) -> None:
        self.append((agent_id, due))


def sync_command() -> str:
    out = StringIO()
    call_command("schedule_agents", stdout=out)
    return out.getvalue()


def test_it_declares_one_slot_per_enabled_agent_and_changes_nothing_the_second_time():
    a = AgentConfigFactory(interval_s=120)
    AgentConfigFactory(enabled=False)
    assert f"created agent:{a.pk}" in sync_command()
    row = AgentSchedule.objects.get()
    assert (row.agent_id, row.interval_s) == (a.pk, 120) and 0 <= row.offset_s < 120
    assert sync_command().strip() == "schedules already up to date"
    assert Schedule.objects.filter(name="replay-audit").count() == 1


def test_it_follows_interval_changes_and_removes_disabled_agents():
    a = AgentConfigFactory(interval_s=60)
    schedules_sync()
    AgentConfig.objects.filter(pk=a.pk).update(interval_s=7)
    assert any("updated" in line for line in schedules_sync())
    assert AgentSchedule.objects.get().interval_s == 7  # seconds now, not rounded to whole minutes
    AgentConfig.objects.filter(pk=a.pk).update(enabled=False)
    assert any("removed" in line for line in schedules_sync()) and not AgentSchedule.objects.exists()


def test_it_removes_the_per_agent_django_q_schedules_of_earlier_versions():
    a = AgentConfigFactory()
    Schedule.objects.create(name=f"agent:{a.pk}", func="agents.tasks.run_agent_task", args=str(a.pk),
                            schedule_type=Schedule.MINUTES, minutes=1, repeats=-1)
    assert f"removed django-q schedule agent:{a.pk}" in sync_command()
    assert not Schedule.objects.filter(name__startswith="agent:").exists()


def test_it_spreads_a_thousand_agents_over_their_interval_instead_of_one_burst():
    AgentConfig.objects.bulk_create([AgentConfig(name=f"fleet-{i}") for i in range(1000)])
    schedules_sync(now=T0)
    sent = Sent()
    per_second = []
    for s in range(1, 61):  # one minute of one-second dispatcher ticks
        before = len(sent)
        dispatch_due(T0 + timedelta(seconds=s), enqueue=sent)
        per_second.append(len(sent) - before)
    assert len(sent) == 1000 and len({agent for agent, _ in sent}) == 1000  # every agent once in its interval
    assert max(per_second) <= 40, per_second  # about 17 a second; a burst would be 1,000 in one tick
    assert sum(1 for n in per_second if n) >= 55  # nearly every second has some, none has them all


def test_it_keeps_each_agent_on_its_own_stable_slot():
    assert slot_offset(7, 60) == slot_offset(7, 60) != slot_offset(8, 60)
    due = next_slot(T0, 60, 12.5)
    assert due > T0 and (due.timestamp() - 12.5) % 60 == 0
    assert next_slot(due, 60, 12.5) == due + timedelta(seconds=60)  # strictly after


def test_it_enqueues_each_slot_once_however_many_dispatchers_look():
    a = AgentConfigFactory(interval_s=60)
    schedules_sync(now=T0)
    due = AgentSchedule.objects.get().next_due
    first, second = Sent(), Sent()
    dispatch_due(due, enqueue=first)
    dispatch_due(due, enqueue=second)  # a second dispatcher, same instant: the slot is already claimed
    assert first == [(a.pk, due)] and second == []
    assert AgentSchedule.objects.get().next_due == due + timedelta(seconds=60)


def test_it_keeps_one_waiting_run_per_agent_when_the_workers_fall_behind():
    a = AgentConfigFactory(interval_s=60)
    schedules_sync(now=T0)
    due = AgentSchedule.objects.get().next_due
    sent = Sent()
    dispatch_due(due, enqueue=sent)
    done = dispatch_due(due + timedelta(seconds=60), enqueue=sent)  # the first run has not started yet
    assert len(sent) == 1 and done.coalesced == [a.pk] and AgentSchedule.objects.get().coalesced == 1
    run_picked_up(a.pk)
    dispatch_due(due + timedelta(seconds=120), enqueue=sent)
    assert len(sent) == 2


def test_it_re_enqueues_a_run_lost_in_the_queue_after_a_few_intervals():
    AgentConfigFactory(interval_s=60)
    schedules_sync(now=T0)
    due = AgentSchedule.objects.get().next_due
    sent = Sent()
    dispatch_due(due, enqueue=sent)
    dispatch_due(due + timedelta(seconds=240), enqueue=sent)
    assert len(sent) == 1
    dispatch_due(due + timedelta(seconds=360), enqueue=sent)  # past max(5 intervals, 300 s): lost with a broker
    assert len(sent) == 2


def test_it_gives_the_slot_back_when_the_broker_refuses():
    a = AgentConfigFactory(interval_s=60)
    schedules_sync(now=T0)
    due = AgentSchedule.objects.get().next_due

    def down(agent_id: int, when: datetime) -> None:
        raise ConnectionError("redis down")

    assert dispatch_due(due, enqueue=down).failed == [a.pk]
    assert AgentSchedule.objects.get().next_due == due and AgentSchedule.objects.get().queued_at is None
    sent = Sent()
    dispatch_due(due + timedelta(seconds=1), enqueue=sent)
    assert sent == [(a.pk, due)]


def test_it_enqueues_a_dead_workers_agent_as_soon_as_its_lease_lapses():
    a = AgentConfigFactory(interval_s=3600)
    schedules_sync()
    now = timezone.now()
    AgentLease.objects.create(agent=a, holder="otherhost:4242:abcd", token=3, expires_at=now - timedelta(seconds=1))
    sent = Sent()
    done = dispatch_due(now, enqueue=sent)
    assert done.orphans == [a.pk] and len(sent) == 1  # not at its slot up to an hour away
    assert not dispatch_due(now + timedelta(seconds=1), enqueue=sent).orphans  # once per lapse
    AgentLease.objects.filter(agent=a).update(holder="")  # a clean release: nothing to recover
    run_picked_up(a.pk)
    assert not dispatch_due(now + timedelta(seconds=2), enqueue=sent).orphans


def test_the_task_clears_the_queue_mark_and_records_the_slot_on_the_run(monkeypatch):
    a = AgentConfigFactory()
    schedules_sync()
    AgentSchedule.objects.filter(agent=a).update(queued_at=timezone.now())
    seen = {}

    def fake_run_agent(*, agent_id, scheduled_for):
        seen.update(agent_id=agent_id, scheduled_for=scheduled_for, queued=AgentSchedule.objects.get().queued_at)
        return None

    monkeypatch.setattr("agents.tasks.run_agent", fake_run_agent)
    run_agent_task(a.pk, T0.isoformat())
    assert seen == {"agent_id": a.pk, "scheduled_for": T0, "queued": None}


def test_it_reports_a_disabled_agent_from_the_task():
    a = AgentConfigFactory(enabled=False)
    assert run_agent_task(a.pk) == f"agent {a.pk}: disabled, not run"


def test_it_measures_how_far_the_dispatcher_lags():
    AgentConfigFactory(interval_s=60)
    schedules_sync(now=T0)
    due = AgentSchedule.objects.get().next_due
    assert dispatch_lag(due - timedelta(seconds=1)) == 0.0
    assert dispatch_lag(due + timedelta(seconds=90)) == 90.0


def test_the_command_enqueues_due_runs_on_the_broker():
    a = AgentConfigFactory(interval_s=60)
    schedules_sync()
    AgentSchedule.objects.filter(agent=a).update(next_due=timezone.now() - timedelta(seconds=1))
    call_command("dispatch", "--once", stdout=StringIO())
    tasks = [q.task for q in OrmQ.objects.all()]
    assert [(t["func"], t["args"][0]) for t in tasks] == [("agents.tasks.run_agent_task", a.pk)]


def test_it_schedules_the_daily_replay_audit_once():
    assert "created replay-audit" in sync_command()
    schedule = Schedule.objects.get(name="replay-audit")
    assert (schedule.func, schedule.schedule_type) == ("agents.tasks.replay_audit_task", Schedule.DAILY)
    assert (schedule.next_run.hour, schedule.next_run.minute) == (0, 30)
    assert "replay-audit" not in sync_command()


def test_slots_spread_evenly_over_the_interval():
    buckets = Counter(int(slot_offset(i, 60)) for i in range(1, 6001))
    assert len(buckets) == 60 and max(buckets.values()) < 2 * 100


def test_a_run_started_before_the_send_returns_does_not_leave_its_agent_marked_queued():
    a = AgentConfigFactory(interval_s=60)
    schedules_sync(now=T0)
    due = AgentSchedule.objects.get().next_due

    def idle_worker_starts_it_at_once(agent_id: int, when: datetime) -> None:
        run_picked_up(agent_id)  # a worker waiting on the broker pops the task before the send returns

    dispatch_due(due, enqueue=idle_worker_starts_it_at_once)
    assert AgentSchedule.objects.get(agent=a).queued_at is None  # the next slot is not passed over


def test_runs_queued_before_a_worker_died_are_sent_again_once():
    dead, waiting = AgentConfigFactory(interval_s=3600), AgentConfigFactory(interval_s=3600)
    schedules_sync()
    now = timezone.now()
    AgentSchedule.objects.filter(agent=waiting).update(queued_at=now - timedelta(seconds=10),
                                                       queued_for=now - timedelta(seconds=10))
    # The dead cluster held `waiting`'s run (taken from the broker, not started) when it died mid-run of `dead`.
    AgentLease.objects.create(agent=dead, holder="h:1:x", token=1, expires_at=now - timedelta(seconds=2))
    sent = Sent()
    done = dispatch_due(now, enqueue=sent)
    assert done.orphans == [dead.pk] and done.resent == [waiting.pk]
    assert (waiting.pk, now - timedelta(seconds=10)) in sent  # sent again for the slot it was queued for
    assert not dispatch_due(now + timedelta(seconds=1), enqueue=sent)  # the next pass sends nothing


def test_a_recovery_run_skipped_by_a_wedged_holder_is_not_sent_again_every_pass():
    a = AgentConfigFactory(interval_s=3600)
    schedules_sync()
    now = timezone.now()
    AgentLease.objects.create(agent=a, holder="h:1:x", token=1, expires_at=now - timedelta(seconds=1))
    sent = Sent()
    assert dispatch_due(now, enqueue=sent).orphans == [a.pk]
    run_picked_up(a.pk)  # the recovery run started, and was skipped: the wedged holder still has the lock
    for s in range(1, 6):
        assert not dispatch_due(now + timedelta(seconds=s), enqueue=sent).orphans
    assert len(sent) == 1
