"""GET /metrics: Prometheus text from the database, and who may scrape it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring.alerts import alert_fire, alert_resolve
from monitoring.metrics import quantile
from monitoring.models import AlertDelivery, KillSwitch, kill_switch_writer
from monitoring.prom import check_metrics_access
from monitoring.views_metrics import metrics
from tests.factories import (
    AgentConfigFactory,
    ApprovalRequestFactory,
    HaltEventFactory,
    MetricSampleFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdef-0123456789"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Parse the exposition (the parser refuses malformed text) into {(name, labels): value}."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _scrape(remote_addr: str = "127.0.0.1", **headers: str):
    request = RequestFactory().get("/metrics", REMOTE_ADDR=remote_addr, headers=headers)
    return metrics(request)


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_it_serves_the_latest_figures_from_the_database(client) -> None:
    alpha, beta = AgentConfigFactory(name="alpha"), AgentConfigFactory(name="beta")
    now = timezone.now()
    MetricSampleFactory(agent=alpha, name="cost_per_run", value=Decimal("0.05"), ts=now - timedelta(minutes=5))
    MetricSampleFactory(agent=alpha, name="cost_per_run", value=Decimal("0.07"), ts=now)
    MetricSampleFactory(agent=beta, name="nav", value=Decimal("1012.5"), ts=now)
    MetricSampleFactory(agent=None, name="inference_cost_today", value=Decimal("3.25"), ts=now)
    for seconds, status in ((10, "completed"), (20, "completed"), (40, "error")):
        RunFactory(agent=alpha, status=status, started_at=now - timedelta(seconds=seconds), ended_at=now)
    RunFactory(agent=beta, status="running", started_at=now)
    HaltEventFactory(action="halt")
    HaltEventFactory(action="halt")
    HaltEventFactory(action="resume")
    alert_fire(key="a", title="A")
    alert_fire(key="b", title="B")
    alert_fire(key="c", title="C")
    alert_resolve(key="c")
    ApprovalRequestFactory(run__agent=alpha)
    ApprovalRequestFactory(run__agent=alpha, status="rejected")
    with kill_switch_writer():
        KillSwitch.objects.filter(pk=1).update(active=True)

    response = client.get("/metrics")  # the routed URL, from loopback
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    got = _samples(response.content.decode())

    assert _value(got, "academy_agent_cost_per_run_usd", agent="alpha") == 0.07
    assert _value(got, "academy_agent_nav_usd", agent="beta") == 1012.5
    assert _value(got, "academy_agent_inference_cost_today_usd", agent="_system") == 3.25
    assert ("academy_agent_cost_per_run_usd", frozenset({("agent", "beta")})) not in got  # no sample, no series
    assert _value(got, "academy_kill_switch_active") == 1
    assert _value(got, "academy_halts_total") == 2
    assert _value(got, "academy_alerts_firing") == 2
    assert _value(got, "academy_approvals_pending") == 1
    assert _value(got, "academy_runs_total", agent="alpha", status="completed") == 2
    assert _value(got, "academy_runs_total", agent="alpha", status="error") == 1
    assert _value(got, "academy_runs_total", agent="beta", status="running") == 1
    assert _value(got, "academy_run_duration_seconds_count", agent="alpha") == 3
    assert _value(got, "academy_run_duration_seconds_sum", agent="alpha") == pytest.approx(70)
    assert _value(got, "academy_run_duration_recent_seconds", agent="alpha", quantile="0.5") == pytest.approx(20)
    assert _value(got, "academy_run_duration_recent_seconds", agent="alpha", quantile="1") == pytest.approx(40)
    delivered = AlertDelivery.objects.filter(sink="log", status="pending").count()
    assert _value(got, "academy_alert_deliveries", sink="log", status="pending") == delivered == 4


def test_it_reports_zero_when_trading_runs_and_nothing_is_recorded() -> None:
    got = _samples(_scrape().content.decode())
    assert _value(got, "academy_kill_switch_active") == 0
    assert _value(got, "academy_halts_total") == 0
    assert _value(got, "academy_alerts_firing") == 0


def test_it_speaks_openmetrics_when_asked() -> None:
    response = _scrape(Accept="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.content.decode().endswith("# EOF\n")


def test_it_refuses_other_hosts_when_nothing_is_configured() -> None:
    assert _scrape("10.0.0.5").status_code == 403
    assert _scrape("not-an-address").status_code == 403
    assert _scrape("::1").status_code == 200
    assert _scrape("::ffff:127.0.0.1").status_code == 200


def test_it_requires_the_bearer_token_when_one_is_set(settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    missing = _scrape("10.0.0.5")
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert _scrape("10.0.0.5", Authorization="Bearer wrong-token").status_code == 401
    assert _scrape("127.0.0.1", Authorization=f"Basic {TOKEN}").status_code == 401
    assert _scrape("10.0.0.5", Authorization=f"Bearer {TOKEN}").status_code == 200


def test_it_admits_only_the_allowed_networks(settings) -> None:
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.168.1.7"]
    assert _scrape("10.20.30.40").status_code == 200
    assert _scrape("192.168.1.7").status_code == 200
    assert _scrape("192.168.1.8").status_code == 403
    assert _scrape("127.0.0.1").status_code == 403  # an explicit list means exactly that list


def test_it_needs_both_the_token_and_the_network_when_both_are_set(settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert _scrape("10.1.1.1", Authorization=f"Bearer {TOKEN}").status_code == 200
    assert _scrape("172.16.0.1", Authorization=f"Bearer {TOKEN}").status_code == 403
    assert _scrape("10.1.1.1").status_code == 401


def test_it_answers_get_only(client) -> None:
    assert client.post("/metrics").status_code == 405


def test_it_flags_a_malformed_allowlist_at_start_up(settings) -> None:
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "10.0.0.300"]
    (error,) = check_metrics_access()
    assert error.id == "monitoring.E020" and "10.0.0.300" in error.msg
    assert _scrape("10.0.0.1").status_code == 403  # fail closed until it is fixed


def test_it_takes_nearest_rank_quantiles() -> None:
    assert [quantile([4, 1, 3, 2], q) for q in (0.5, 0.95, 1)] == [2, 4, 4]


def test_it_counts_runs_from_the_tallies_kept_as_runs_end_not_every_run_ever(client, make_trader) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from agents.core.policies import ScriptedPolicy
    from agents.models import Run, RunTally
    from agents.services import run_agent

    agent = AgentConfigFactory(name="gamma")
    run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy(["nothing to do"]))
    assert RunTally.objects.get(agent=agent, status=run.status).runs == 1  # counted as it ended
    Run.objects.filter(pk=run.pk).update(status="error")  # the tally, not the run table, is what is read
    with CaptureQueriesContext(connection) as ctx:
        got = _samples(client.get("/metrics").content.decode())
    assert _value(got, "academy_runs_total", agent="gamma", status=run.status) == 1
    assert ("academy_runs_total", frozenset({("agent", "gamma"), ("status", "error")})) not in got
    assert not any("COUNT" in q["sql"] and '"agents_run"' in q["sql"] and "running" not in q["sql"]
                   for q in ctx.captured_queries)


# --- the monitor's thresholds, beside the figures (deploy/prometheus/academy.rules.yml compares the two) ----


def _history(agent, name: str, values: list[str], now) -> None:
    """Record `values` as the agent's samples of `name` over the last hours, then store its baseline as a run
    would (monitoring.metrics.baseline)."""
    from monitoring.metrics import baseline, metric_record

    for hours, value in enumerate(values, start=1):
        metric_record(name, Decimal(value), agent_id=agent.pk, ts=now - timedelta(hours=hours))
    baseline(name, agent.pk, now=now)


def _fleet(now):
    """Agents with every kind of baseline: `stored` (enough samples of each metric), `cold` (2 samples: the
    cold-start value stands in where there is one, none where there is not), `fresh` (no sample at all),
    `quiet` (a decision baseline of 0, a cost baseline under the floor), and a disabled agent."""
    stored, cold, fresh = AgentConfigFactory(name="stored"), AgentConfigFactory(name="cold"), AgentConfigFactory(
        name="fresh")
    quiet, off = AgentConfigFactory(name="quiet"), AgentConfigFactory(name="off", enabled=False)
    for agent in (stored, off):
        _history(agent, "cost_per_run", ["0.07"] * 5, now)
        _history(agent, "latency_p95", ["1200"] * 5, now)
        _history(agent, "decision_rate", ["10", "12", "12", "14", "30"], now)
    _history(cold, "cost_per_run", ["0.30", "0.30"], now)
    _history(cold, "latency_p95", ["90", "90"], now)
    _history(cold, "decision_rate", ["5", "5"], now)
    _history(quiet, "cost_per_run", ["0.001"] * 5, now)
    _history(quiet, "decision_rate", ["0"] * 5, now)
    MetricSampleFactory(agent=None, name="chain_rest_drift", value=Decimal("0.004"), ts=now)
    return [stored, cold, fresh, quiet]


def _number(text: str, per: int = 1) -> float:
    return float(Decimal(text)) / per


def test_it_exposes_the_thresholds_the_monitor_and_the_panel_page_on(settings) -> None:
    """Every threshold series equals what monitoring.health computes for the same state: the panel's card
    checks (panel_metrics: the stored baselines, Ratio.rule, the absolute thresholds), the decision-rate
    checks of the monitor's pass (fleet_rate_checks) and the drift check."""
    from monitoring.health import fleet_rate_checks, panel_metrics

    settings.COLD_START_BASELINE = {"cost_per_run": Decimal("0.10")}  # latency without a stand-in: no baseline
    now = timezone.now()
    agents = _fleet(now)
    got = _samples(_scrape().content.decode())
    names = {"cost_per_run": ("academy_agent_cost_per_run_page_threshold_usd", 1),
             "latency_p95": ("academy_agent_latency_p95_page_threshold_seconds", 1000),
             "tool_calls_per_run": ("academy_agent_tool_calls_per_run_page_threshold", 1),
             "error_rate_5m": ("academy_agent_error_rate_5m_page_threshold_ratio", 1),
             "chain_rest_drift": ("academy_agent_chain_rest_drift_page_threshold", 1)}
    card = panel_metrics()
    checked = [c for c in card if c["name"] in names]
    assert len(checked) == 4 * len(agents) + 1  # four per enabled agent, the drift once
    for check in checked:
        family, per = names[check["name"]]
        assert _value(got, family, agent=check["agent"] or "_system") == _number(check["threshold"], per), check

    expected = {  # what set each threshold: the stored baseline x2, the cold-start value x2, the floor
        "stored": (0.14, 2.4), "cold": (0.2, 1.0), "fresh": (0.2, 1.0), "quiet": (0.05, 1.0)}
    for agent, (cost, latency) in expected.items():
        assert _value(got, "academy_agent_cost_per_run_page_threshold_usd", agent=agent) == cost
        assert _value(got, "academy_agent_latency_p95_page_threshold_seconds", agent=agent) == latency
    assert _value(got, "academy_agent_cost_per_run_baseline_usd", agent="cold") == 0.1  # the stand-in
    assert _value(got, "academy_agent_latency_p95_baseline_seconds", agent="stored") == 1.2
    assert ("academy_agent_latency_p95_baseline_seconds", frozenset({("agent", "fresh")})) not in got
    assert not [key for key in got if ("agent", "off") in key[1] and "_page_" in key[0]]  # not judged: no line

    for check in fleet_rate_checks(agents, now):
        if check.name == "decision_rate":
            base = ("academy_agent_decisions_last_hour_baseline", frozenset({("agent", check.agent)}))
            assert got.get(base) == (None if check.threshold is None else float(check.threshold)), check
    assert _value(got, "academy_agent_decisions_last_hour_page_high", agent="stored") == 36
    assert _value(got, "academy_agent_decisions_last_hour_page_low", agent="stored") == 4
    assert _value(got, "academy_agent_decisions_last_hour_page_high", agent="quiet") == 10  # the floor
    for agent, side in (("quiet", "low"), ("cold", "low"), ("cold", "high"), ("fresh", "high")):
        assert (f"academy_agent_decisions_last_hour_page_{side}", frozenset({("agent", agent)})) not in got


@pytest.mark.parametrize("agent", ["stored", "quiet", "cold", "fresh"])
def test_it_pages_on_the_decision_rate_exactly_outside_the_exposed_band(agent) -> None:
    """The monitor's own check (health._rate_checks, on the baseline fleet_rate_checks reads) is quiet on each
    exposed line and pages just past it; a side with no line never pages, however far it goes."""
    from monitoring.health import _rate_checks, _RateRules, fleet_rate_checks

    now = timezone.now()
    agents = {a.name: a for a in _fleet(now)}
    got = _samples(_scrape().content.decode())
    base = next(c.threshold for c in fleet_rate_checks([agents[agent]], now) if c.name == "decision_rate")

    def pages(decisions: float) -> bool:
        return _rate_checks(agents[agent], Decimal(0), Decimal(str(decisions)), base, _RateRules.read())[1].breached

    high = got.get(("academy_agent_decisions_last_hour_page_high", frozenset({("agent", agent)})))
    low = got.get(("academy_agent_decisions_last_hour_page_low", frozenset({("agent", agent)})))
    assert (not pages(high) and pages(high + 0.01)) if high is not None else not pages(10**6)
    assert (not pages(low) and pages(low - 0.01)) if low is not None else not pages(0)


def test_it_moves_the_threshold_on_metrics_with_the_setting() -> None:
    from django.test import override_settings

    now = timezone.now()
    _fleet(now)
    before = _samples(_scrape().content.decode())
    with override_settings(PAGE_COST_PER_RUN_FLOOR_USD=Decimal("0.5"), PAGE_TOOL_CALLS_PER_RUN=12,
                           PAGE_DECISION_RATE_X=Decimal("2"), CHAIN_DUST=Decimal("0.25")):
        after = _samples(_scrape().content.decode())
    assert _value(before, "academy_agent_cost_per_run_page_threshold_usd", agent="stored") == 0.14
    assert _value(after, "academy_agent_cost_per_run_page_threshold_usd", agent="stored") == 0.5  # the floor now
    assert _value(after, "academy_agent_tool_calls_per_run_page_threshold", agent="fresh") == 12
    assert _value(after, "academy_agent_decisions_last_hour_page_high", agent="stored") == 24
    assert _value(after, "academy_agent_decisions_last_hour_page_low", agent="stored") == 6
    assert _value(after, "academy_agent_chain_rest_drift_page_threshold", agent="_system") == 0.25


def test_it_exposes_the_thresholds_a_run_end_pages_on(settings) -> None:
    """The paging path itself, not the panel's reading of it: after_run (the run's figures recorded, run_checks
    against the baselines without this run, rate_checks, the pages) for an agent with enough samples and no
    baseline stored yet, then a scrape: each threshold after_run judged the run on is the one on /metrics.
    PAGE_ERROR_RATE_5M is not the default, so a threshold taken from anywhere but the settings shows."""
    from monitoring.health import after_run
    from monitoring.metrics import metric_record

    settings.PAGE_ERROR_RATE_5M = Decimal("0.05")
    now = timezone.now()
    agent = AgentConfigFactory(name="paged")
    for name, values in (("cost_per_run", ["0.07"] * 5), ("latency_p95", ["1200"] * 5),
                         ("decision_rate", ["10", "12", "12", "14", "30"])):
        for hours, value in enumerate(values, start=1):
            metric_record(name, Decimal(value), agent_id=agent.pk, ts=now - timedelta(hours=hours))
    run = RunFactory(agent=agent, status="completed", started_at=now - timedelta(seconds=5), ended_at=now,
                     cost=Decimal("0.02"), tool_calls=4)

    checks = {check.name: check for check in after_run(run, [800.0, 900.0])}
    got = _samples(_scrape().content.decode())

    exposed = {"cost_per_run": ("academy_agent_cost_per_run_page_threshold_usd", 1),
               "latency_p95": ("academy_agent_latency_p95_page_threshold_seconds", 1000),
               "tool_calls_per_run": ("academy_agent_tool_calls_per_run_page_threshold", 1),
               "error_rate_5m": ("academy_agent_error_rate_5m_page_threshold_ratio", 1),
               "decision_rate": ("academy_agent_decisions_last_hour_baseline", 1)}  # its Check.threshold: the base
    assert set(checks) == set(exposed)
    for name, (family, per) in exposed.items():
        assert _value(got, family, agent="paged") == float(checks[name].threshold) / per, checks[name]
    assert [float(checks[name].threshold) for name in ("cost_per_run", "latency_p95", "error_rate_5m")] == [
        0.14, 2400, 0.05]  # x2 the five samples' medians, not the floors; the setting, not the default
    assert _value(got, "academy_agent_decisions_last_hour_page_high", agent="paged") == 36  # 3 x the base 12
