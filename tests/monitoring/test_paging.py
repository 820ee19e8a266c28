"""Paging thresholds (reference card section 02): each fires an alert to the sinks, deduplicated."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from monitoring.halt import flag_path, halt
from monitoring.health import after_run, page, panel_metrics, rate_checks
from monitoring.metrics import baseline, metric_record, p95
from monitoring.models import Alert, AlertDelivery, MetricSample
from tests.factories import AgentConfigFactory, RunFactory, TraceEventFactory

pytestmark = pytest.mark.django_db


def finished_run(agent, **kw):
    now = timezone.now()
    return RunFactory(agent=agent, started_at=now - timedelta(seconds=5), ended_at=now, status="completed", **kw)


def history(agent, name: str, values: list[str]) -> None:
    for i, v in enumerate(values):
        metric_record(name, Decimal(v), agent_id=agent.pk, ts=timezone.now() - timedelta(hours=i + 1))


def firing(key: str) -> bool:
    return Alert.objects.filter(key=key, state="firing").exists()


def test_it_pages_when_cost_per_run_passes_twice_the_baseline(settings):
    settings.ALERT_SINKS = ["log", "webhook"]
    agent = AgentConfigFactory()
    history(agent, "cost_per_run", ["0.10"] * 5)
    after_run(finished_run(agent, cost=Decimal("0.19")), [])
    assert not firing(f"cost_per_run:{agent.name}")
    after_run(finished_run(agent, cost=Decimal("0.25")), [])
    alert = Alert.objects.get(key=f"cost_per_run:{agent.name}", state="firing")
    assert {d.sink for d in AlertDelivery.objects.filter(alert=alert)} == {"log", "webhook"}


def test_it_uses_the_cold_start_baseline_until_there_is_history(settings):
    settings.COLD_START_BASELINE = {"cost_per_run": Decimal("0.10")}
    agent = AgentConfigFactory()
    assert baseline("cost_per_run", agent.pk, now=timezone.now()) == Decimal("0.10")
    history(agent, "cost_per_run", ["1.00"] * 5)
    assert baseline("cost_per_run", agent.pk, now=timezone.now()) == Decimal("1.00")


def test_it_pages_on_more_than_thirty_tool_calls_in_a_run():
    agent = AgentConfigFactory()
    after_run(finished_run(agent, tool_calls=30), [])
    assert not firing(f"tool_calls_per_run:{agent.name}")
    after_run(finished_run(agent, tool_calls=31), [])
    assert firing(f"tool_calls_per_run:{agent.name}")


def test_it_pages_when_latency_p95_passes_twice_the_baseline():
    agent = AgentConfigFactory()
    history(agent, "latency_p95", ["1000"] * 5)  # 2x is 2,000 ms, above the 1,000 ms floor
    after_run(finished_run(agent), [500.0] * 19 + [2500.0])  # p95 of 20 samples is the 19th: 500
    assert not firing(f"latency_p95:{agent.name}")
    after_run(finished_run(agent), [500.0] * 18 + [2500.0, 2600.0])
    assert firing(f"latency_p95:{agent.name}")


def test_it_pages_on_an_error_rate_above_one_percent_and_resolves_when_it_falls():
    agent = AgentConfigFactory()
    finished_run(agent, tool_calls=100, tool_errors=2)
    page(rate_checks(agent, timezone.now()))
    assert firing(f"error_rate_5m:{agent.name}")
    page(rate_checks(agent, timezone.now() + timedelta(minutes=6)))
    assert Alert.objects.get(key=f"error_rate_5m:{agent.name}").state == "resolved"


def test_it_pages_when_the_decision_rate_is_far_from_its_baseline():
    agent = AgentConfigFactory()
    history(agent, "decision_rate", ["2"] * 5)
    run = finished_run(agent)
    for seq in range(7):
        TraceEventFactory(run=run, agent=agent, seq=seq, kind="tool_call", tool="place_limit_order")
    page(rate_checks(agent, timezone.now()))
    assert firing(f"decision_rate:{agent.name}")  # 7 an hour against a baseline of 2


def test_it_pages_while_the_kill_switch_is_active_once_not_twice(trader):
    from monitoring.health import Monitor

    Monitor(lambda: trader).health_tick()
    assert not firing("kill_switch")
    flag_path().write_text("by hand, monitor not yet watching\n")  # active without a halt() call yet
    Monitor(lambda: trader).health_tick()
    assert firing("kill_switch")
    halt(reason="drill", source="command")
    Monitor(lambda: trader).health_tick()
    assert Alert.objects.filter(key__startswith="kill_switch").count() == 1  # one page for one halt
    assert Alert.objects.get(key="kill_switch").fire_count >= 3


def test_it_pages_when_the_decision_rate_falls_far_below_its_baseline():
    agent = AgentConfigFactory()
    history(agent, "decision_rate", ["30"] * 5)
    run = finished_run(agent)
    for seq in range(5):  # 5 an hour against 30: the agent has stopped doing what it does
        TraceEventFactory(run=run, agent=agent, seq=seq, kind="tool_call", tool="cancel_order")
    page(rate_checks(agent, timezone.now()))
    assert firing(f"decision_rate:{agent.name}")


def test_it_pages_a_usually_idle_agent_that_starts_trading(settings):
    settings.PAGE_DECISION_RATE_FLOOR = Decimal("10")
    agent = AgentConfigFactory()
    history(agent, "decision_rate", ["0"] * 5)
    run = finished_run(agent)
    for seq in range(11):
        TraceEventFactory(run=run, agent=agent, seq=seq, kind="tool_call", tool="place_limit_order")
    page(rate_checks(agent, timezone.now()))
    assert firing(f"decision_rate:{agent.name}")


def test_it_delivers_a_threshold_page_to_a_real_webhook_receiver(settings):
    from monitoring.models import AlertDelivery
    from monitoring.tasks import alert_deliver
    from tests.monitoring.receiver import receiving

    with receiving() as receiver:
        settings.ALERT_SINKS = ["webhook"]
        settings.ALERT_WEBHOOK_URL = receiver.url + "/page"
        agent = AgentConfigFactory()
        after_run(finished_run(agent, tool_calls=31), [])
        delivery = AlertDelivery.objects.get(alert__key=f"tool_calls_per_run:{agent.name}")
        alert_deliver(delivery.pk)
        (request,) = receiver.requests
    assert request.body["key"] == f"tool_calls_per_run:{agent.name}" and request.body["state"] == "firing"


def test_it_pages_on_chain_drift_above_dust(trader, faults):
    from monitoring.health import Monitor

    faults.chain_drift(trader.account_name, usdc="0.5")
    faults.settle_now()
    Monitor(lambda: trader, grace_s=0).health_tick()
    assert firing("chain_rest_drift:system")


def test_it_deduplicates_a_firing_alert():
    agent = AgentConfigFactory()
    for _ in range(3):
        after_run(finished_run(agent, tool_calls=40), [])
    alert = Alert.objects.get(key=f"tool_calls_per_run:{agent.name}")
    assert alert.fire_count == 3 and AlertDelivery.objects.filter(alert=alert).count() == 1


def test_it_records_every_run_metric():
    agent = AgentConfigFactory()
    run = finished_run(agent, cost=Decimal("0.02"), tool_calls=4)
    after_run(run, [10.0, 20.0])
    names = set(MetricSample.objects.filter(run=run).values_list("name", flat=True))
    assert names == {"cost_per_run", "tool_calls_per_run", "latency_p95", "error_rate_5m", "decision_rate"}


def test_it_computes_a_nearest_rank_p95():
    assert p95([]) == 0.0 and p95([float(i) for i in range(1, 101)]) == 95.0


def test_it_gives_the_panel_the_card_metrics_against_thresholds():
    agent = AgentConfigFactory()
    after_run(finished_run(agent, tool_calls=31), [])
    rows = {(r["name"], r["agent"]): r for r in panel_metrics()}
    assert rows[("tool_calls_per_run", agent.name)]["breached"] is True
    assert {"kill_switch_active", "chain_rest_drift"} <= {name for name, _ in rows}


def test_it_pages_when_no_dispatcher_enqueues_the_agents_runs_and_resolves_when_one_does(trader):
    from agents.dispatch import dispatch_due, schedules_sync
    from agents.models import AgentSchedule
    from monitoring.health import Monitor

    agent = AgentConfigFactory()
    schedules_sync()
    Monitor(lambda: trader).health_tick()
    assert not firing("dispatch_lag:system")
    AgentSchedule.objects.filter(agent=agent).update(next_due=timezone.now() - timedelta(minutes=5))
    Monitor(lambda: trader).health_tick()  # the dispatcher is down: the slot is 5 minutes overdue
    assert firing("dispatch_lag:system")
    dispatch_due(enqueue=lambda agent_id, due: None)
    Monitor(lambda: trader).health_tick()
    assert not firing("dispatch_lag:system")
