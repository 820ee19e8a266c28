"""/metrics names follow Prometheus conventions: base units in the name (seconds, usd, ratio), _total on
counters; the values are converted to those units."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring.views_metrics import metrics
from tests.factories import AgentConfigFactory, MetricSampleFactory, RunFactory, TraceEventFactory

pytestmark = pytest.mark.django_db


def _scrape(**headers: str) -> str:
    return metrics(RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1", headers=headers)).content.decode()


def _families(text: str) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_it_exposes_latency_in_seconds_money_in_usd_and_rates_as_ratios():
    agent = AgentConfigFactory(name="alpha")
    now = timezone.now()
    for name, value in (("latency_p95", "1500"), ("cost_per_run", "0.07"), ("daily_pnl", "-3.5")):
        MetricSampleFactory(agent=agent, name=name, value=Decimal(value), ts=now)
    # The two rates are read live, as the monitor reads them: 1 failed of 50 calls in the last 5 minutes,
    # 12 orders asked for in the last hour.
    run = RunFactory(agent=agent, status="completed", started_at=now - timedelta(minutes=2), ended_at=now,
                     tool_calls=50, tool_errors=1)
    for seq in range(12):
        TraceEventFactory(run=run, seq=seq, tool="place_limit_order", ts=now - timedelta(minutes=seq))
    samples = {(s.name, s.labels.get("agent")): s.value
               for family in text_string_to_metric_families(_scrape()) for s in family.samples}
    assert samples[("academy_agent_latency_p95_seconds", "alpha")] == 1.5  # recorded in ms
    assert samples[("academy_agent_cost_per_run_usd", "alpha")] == 0.07
    assert samples[("academy_agent_error_rate_5m_ratio", "alpha")] == 0.02
    assert samples[("academy_agent_decisions_last_hour", "alpha")] == 12
    assert samples[("academy_agent_daily_pnl_usd", "alpha")] == -3.5


def test_the_rates_are_the_monitors_now_not_the_last_runs_samples():
    """A window moves on without runs: an agent that stopped has a decision rate falling to 0 (the monitor
    pages below its band), and a run that failed hours ago has no error rate left (the monitor resolved it)."""
    from monitoring.health import fleet_rate_checks
    from monitoring.models import MetricBaseline

    agent = AgentConfigFactory(name="quiet")
    now = timezone.now()
    MetricSampleFactory(agent=agent, name="decision_rate", value=Decimal("30"), ts=now - timedelta(hours=2))
    MetricSampleFactory(agent=agent, name="error_rate_5m", value=Decimal("0.2"), ts=now - timedelta(hours=3))
    RunFactory(agent=agent, status="completed", started_at=now - timedelta(hours=3),
               ended_at=now - timedelta(hours=3), tool_calls=10, tool_errors=2)
    MetricBaseline.objects.create(name="decision_rate", agent=agent, value=Decimal("30"), samples=100,
                                  computed_at=now)
    samples = {(s.name, s.labels.get("agent")): s.value
               for family in text_string_to_metric_families(_scrape()) for s in family.samples}
    checks = {c.name: c for c in fleet_rate_checks([agent], now)}
    assert samples[("academy_agent_error_rate_5m_ratio", "quiet")] == float(checks["error_rate_5m"].value) == 0
    assert samples[("academy_agent_decisions_last_hour", "quiet")] == float(checks["decision_rate"].value) == 0
    assert checks["decision_rate"].breached  # and the rule's low line says the same
    assert samples[("academy_agent_decisions_last_hour_page_low", "quiet")] == 10


def test_it_names_no_family_in_a_non_base_unit_and_every_counter_with_total():
    families = _families(_scrape())
    assert not [name for name in families if name.endswith(("_ms", "_milliseconds", "_p95", "_5m", "_rate"))]
    assert {"academy_agent_latency_p95_seconds", "academy_agent_nav_usd",
            "academy_agent_inference_cost_today_usd"} <= set(families)
    counters = [f for f in families.values() if f.type == "counter"]
    assert counters and all(s.name.endswith("_total") for f in counters for s in f.samples)


def test_it_declares_the_units_to_openmetrics_scrapers():
    text = _scrape(Accept="application/openmetrics-text; version=1.0.0")
    assert "# UNIT academy_agent_latency_p95_seconds seconds" in text
    assert "# UNIT academy_agent_cost_per_run_usd usd" in text


def test_it_names_each_threshold_after_its_figure_in_the_same_unit():
    """A threshold family is its figure's family with `_baseline`, `_page_threshold` or `_page_high/low` before
    the unit, and in the same base unit (seconds, not the ms the settings and the monitor use)."""
    from monitoring.metrics import baseline, metric_record

    agent = AgentConfigFactory(name="alpha")
    now = timezone.now()
    for _ in range(5):
        metric_record("latency_p95", 1500, agent_id=agent.pk, ts=now)
        metric_record("decision_rate", 6, agent_id=agent.pk, ts=now)
    for name in ("latency_p95", "decision_rate"):
        baseline(name, agent.pk, now=now)
    samples = {(s.name, s.labels.get("agent")): s.value
               for family in text_string_to_metric_families(_scrape()) for s in family.samples}
    assert samples[("academy_agent_latency_p95_baseline_seconds", "alpha")] == 1.5
    assert samples[("academy_agent_latency_p95_page_threshold_seconds", "alpha")] == 3.0  # 2x, over the 1 s floor
    assert samples[("academy_agent_cost_per_run_page_threshold_usd", "alpha")] == 0.2  # 2x the cold start 0.10
    assert samples[("academy_agent_error_rate_5m_page_threshold_ratio", "alpha")] == 0.01
    assert samples[("academy_agent_decisions_last_hour_page_high", "alpha")] == 18
    assert samples[("academy_agent_chain_rest_drift_page_threshold", "_system")] == 0.01
    openmetrics = _scrape(Accept="application/openmetrics-text; version=1.0.0")
    for family, unit in (("academy_agent_latency_p95_page_threshold_seconds", "seconds"),
                         ("academy_agent_latency_p95_baseline_seconds", "seconds"),
                         ("academy_agent_cost_per_run_page_threshold_usd", "usd"),
                         ("academy_agent_error_rate_5m_page_threshold_ratio", "ratio")):
        assert f"# UNIT {family} {unit}" in openmetrics
