"""The stop check's database half in one query (issue 15): it runs at every step and before every
order of every agent, so a fleet pays for each round trip; every part still stops the run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.lease import lease_claim, lease_release
from agents.overrides import override_write
from agents.services import cover_account, stop_check
from monitoring.deadman import cover_confirm
from monitoring.metrics import metric_record
from monitoring.models import CoverBeat, KillSwitch, MetricSample, kill_switch_writer
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db


class Live:
    """A dead-man's session that is open and heard from."""

    account = None

    def live(self, silence_s: float) -> bool:
        return True


@pytest.fixture
def watched(settings):
    settings.REQUIRE_MONITOR_HEARTBEAT = True
    settings.REQUIRE_DEADMAN_COVER = True
    metric_record("kill_switch_active", 0)  # the monitor's heartbeat
    cover_confirm(Live(), account=cover_account())  # ... and its cover for this account


def test_a_clear_check_reads_the_database_once(watched, operator):
    agent = AgentConfigFactory()
    lease = lease_claim(agent)
    override_write(text='{"limits": {"max_order_notional": "3"}, "note": "desk"}', actor=operator)
    check = stop_check(lease)
    with CaptureQueriesContext(connection) as ctx:
        reading = check()
    assert reading.stop is None and reading.override.note == "desk"
    assert str(reading.override.limits.max_order_notional) == "3"
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]


def test_each_part_still_stops_the_run(watched, operator):
    agent = AgentConfigFactory()
    lease = lease_claim(agent)
    check = stop_check(lease)
    override_write(text='{"pause": true}', actor=operator)
    assert check().stop.kind == "paused"
    override_write(text="{}", actor=operator)
    lease_release(lease)
    assert "lease" in check().stop.reason
    lease = lease_claim(agent)
    check = stop_check(lease)
    CoverBeat.objects.update(confirmed_at=timezone.now() - timedelta(minutes=5))
    assert "no dead-man's cover" in check().stop.reason
    cover_confirm(Live(), account=cover_account())
    MetricSample.objects.filter(name="kill_switch_active").update(ts=timezone.now() - timedelta(hours=1))
    assert "heartbeat" in check().stop.reason
    metric_record("kill_switch_active", 0)
    assert check().stop is None
    with kill_switch_writer():
        KillSwitch.objects.filter(pk=1).update(active=True, reason="drill")
    stop = check().stop
    assert stop.kind == "kill_switch" and "drill" in stop.reason
