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
