"""The "x baseline" paging thresholds have absolute floors: threshold = max(x * baseline, floor)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from monitoring.health import after_run, panel_metrics
from monitoring.models import Alert
from tests.factories import AgentConfigFactory
from tests.monitoring.test_paging import finished_run, history

pytestmark = pytest.mark.django_db


def test_it_does_not_page_a_fast_agent_for_latency_below_the_floor(settings):
    settings.PAGE_LATENCY_P95_FLOOR_MS = Decimal("1000")
    agent = AgentConfigFactory()
    history(agent, "latency_p95", ["25"] * 5)  # an offline agent: 2x its baseline is 50 ms
    after_run(finished_run(agent), [900.0] * 20)
    assert not Alert.objects.filter(key=f"latency_p95:{agent.name}").exists()
    after_run(finished_run(agent), [1100.0] * 20)
    alert = Alert.objects.get(key=f"latency_p95:{agent.name}", state="firing")
    assert alert.title == (f"latency_p95 1100 ms > 1000 ms: floor 1000 ms (2x baseline 25 ms = 50 ms) "
                           f"({agent.name})")
    assert (alert.details["threshold"], alert.details["unit"]) == ("1000", "ms")


def test_it_names_the_baseline_when_it_sets_the_threshold_above_the_floor(settings):
    settings.PAGE_LATENCY_P95_FLOOR_MS = Decimal("1000")
    agent = AgentConfigFactory()
    history(agent, "latency_p95", ["1200"] * 5)
    after_run(finished_run(agent), [2500.0] * 20)
    alert = Alert.objects.get(key=f"latency_p95:{agent.name}", state="firing")
    assert "> 2400 ms: 2x baseline 1200 ms (floor 1000 ms)" in alert.title


def test_it_does_not_page_a_cost_over_a_zero_baseline_below_the_floor(settings):
    settings.PAGE_COST_PER_RUN_FLOOR_USD = Decimal("0.05")
    agent = AgentConfigFactory()
    history(agent, "cost_per_run", ["0"] * 5)  # a rules agent: no model, no cost
    after_run(finished_run(agent, cost=Decimal("0.01")), [])
    assert not Alert.objects.filter(key=f"cost_per_run:{agent.name}").exists()
    after_run(finished_run(agent, cost=Decimal("0.06")), [])
    alert = Alert.objects.get(key=f"cost_per_run:{agent.name}", state="firing")
    assert "0.06 USD > 0.05 USD: floor 0.05 USD (2x baseline 0 USD = 0 USD)" in alert.title
    assert "E-" not in alert.title and alert.details["threshold"] == "0.05"


def test_it_shows_the_panel_the_threshold_with_its_floor(settings):
    settings.PAGE_LATENCY_P95_FLOOR_MS = Decimal("1000")
    agent = AgentConfigFactory()
    history(agent, "latency_p95", ["25"] * 5)
    after_run(finished_run(agent), [30.0] * 20)
    row = {(r["name"], r["agent"]): r for r in panel_metrics()}[("latency_p95", agent.name)]
    assert (row["threshold"], row["breached"]) == ("1000", False)
    assert row["label"] == "> 1000 ms: floor 1000 ms (2x baseline 25 ms = 50 ms)"


def test_it_states_the_decision_rate_band_in_figures(settings):
    from monitoring.health import page, rate_checks
    from tests.factories import TraceEventFactory

    settings.PAGE_DECISION_RATE_X, settings.PAGE_DECISION_RATE_FLOOR = Decimal("3"), Decimal("10")
    busy, quiet = AgentConfigFactory(), AgentConfigFactory()
    history(busy, "decision_rate", ["2"] * 5)
    history(quiet, "decision_rate", ["0"] * 5)
    for agent, n in ((busy, 7), (quiet, 11)):
        run = finished_run(agent)
        for seq in range(n):
            TraceEventFactory(run=run, agent=agent, seq=seq, kind="tool_call", tool="place_limit_order")
        page(rate_checks(agent, timezone.now()))
    title = Alert.objects.get(key=f"decision_rate:{busy.name}").title
    assert title == f"decision_rate 7 per hour outside 0.67 .. 6 per hour: baseline 2 / 3 .. x 3 ({busy.name})"
    title = Alert.objects.get(key=f"decision_rate:{quiet.name}").title
    assert title == f"decision_rate 11 per hour > 10 per hour: floor 10 (baseline 0) ({quiet.name})"
