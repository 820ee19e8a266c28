"""The charts' data: /agents/<name>/metrics.json (bounds, units, thresholds, permissions), the panel's
activity chart and the units on the panel's metric cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from monitoring import charts, panel
from monitoring.health import panel_metrics
from monitoring.models import HaltEvent, MetricBaseline
from tests.factories import AgentConfigFactory, HaltEventFactory, MetricSampleFactory, RunFactory

pytestmark = pytest.mark.django_db


def _get(client, user, name: str, **params):
    client.force_login(user)
    return client.get(reverse("agents:agent_metrics", args=[name]), params)


def _by_name(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["charts"]}


def _baseline(agent, name: str, value: str, samples: int = 50) -> None:
    MetricBaseline.objects.create(name=name, agent=agent, value=Decimal(value), samples=samples,
                                  computed_at=timezone.now())


# --- the agent's charts ---------------------------------------------------------------------------


def test_it_answers_each_metric_with_its_unit_in_display_units(client, operator):
    agent = AgentConfigFactory(name="units")
    now = timezone.now()
    MetricSampleFactory(agent=agent, name="error_rate_5m", value=Decimal("0.02"), ts=now - timedelta(minutes=5))
    MetricSampleFactory(agent=agent, name="latency_p95", value=Decimal("812.5"), ts=now - timedelta(minutes=5))
    data = _get(client, operator, "units").json()
    units = {c["name"]: c["unit"] for c in data["charts"]}
    assert units == {"cost_per_run": "USD", "tool_calls_per_run": "calls", "latency_p95": "ms",
                     "error_rate_5m": "%", "decision_rate": "per hour"}  # no desk samples: no kill switch, no NAV
    charts_ = _by_name(data)
    assert charts_["error_rate_5m"]["y"] == [2.0]  # 0.02 of calls is shown as 2 %
    assert charts_["latency_p95"]["y"] == [812.5]
    assert charts_["cost_per_run"] == {**charts_["cost_per_run"], "x": [], "y": [], "samples": 0}


def test_it_reads_only_the_window_asked_for(client, operator):
    agent = AgentConfigFactory(name="window")
    now = timezone.now()
    for hours in (0.5, 3, 30, 200):
        MetricSampleFactory(agent=agent, name="tool_calls_per_run", value=Decimal(int(hours * 10)),
                            ts=now - timedelta(hours=hours))
    MetricSampleFactory(name="tool_calls_per_run", value=Decimal(99), ts=now)  # another agent's
    day = _by_name(_get(client, operator, "window").json())["tool_calls_per_run"]
    assert day["y"] == [30.0, 5.0]  # oldest first, within 24 h
    hour = _get(client, operator, "window", hours="1").json()
    assert hour["hours"] == 1 and _by_name(hour)["tool_calls_per_run"]["y"] == [5.0]
    week = _get(client, operator, "window", hours=str(charts.MAX_HOURS)).json()
    assert _by_name(week)["tool_calls_per_run"]["y"] == [300.0, 30.0, 5.0]


@pytest.mark.parametrize("hours", ["0", "169", "abc", "-1", "1.5", "²", "9" * 30])
def test_it_refuses_a_window_out_of_bounds_with_the_reason(client, operator, hours):
    AgentConfigFactory(name="bounds")
    response = _get(client, operator, "bounds", hours=hours)
    assert response.status_code == 400
    assert response.json()["error"].startswith("hours must be a whole number from 1 to 168")


def test_it_downsamples_to_at_most_max_points_and_keeps_the_spike(client, operator, monkeypatch):
    monkeypatch.setattr(charts, "MAX_POINTS", 100)
    agent = AgentConfigFactory(name="busy")
    now = timezone.now().replace(microsecond=0)
    for i in range(1000):
        value = Decimal(9000) if i == 613 else Decimal(800 + i % 7)
        MetricSampleFactory(agent=agent, name="latency_p95", value=value, ts=now - timedelta(seconds=60 * i + 30))
    chart = _by_name(_get(client, operator, "busy").json())["latency_p95"]
    assert chart["samples"] == 1000 and chart["downsampled"] is True
    assert 50 <= len(chart["x"]) <= 100
    assert chart["x"] == sorted(chart["x"])
    assert max(chart["y"]) == 9000.0  # the one run that paged is still drawn
    assert min(chart["y"]) == 800.0


def test_it_reads_at_most_max_read_samples_and_says_so(client, operator, monkeypatch):
    monkeypatch.setattr(charts, "MAX_READ", 10)
    agent = AgentConfigFactory(name="flood")
    now = timezone.now()
    for i in range(15):
        MetricSampleFactory(agent=agent, name="cost_per_run", value=Decimal(i), ts=now - timedelta(minutes=i + 1))
    chart = _by_name(_get(client, operator, "flood").json())["cost_per_run"]
    assert chart["truncated"] is True and chart["samples"] == 10
    assert chart["y"] == [float(i) for i in range(9, -1, -1)]  # the newest ten


def test_it_draws_the_thresholds_the_panel_pages_on(client, operator, settings):
    settings.PAGE_COST_PER_RUN_X = Decimal("3")
    settings.PAGE_TOOL_CALLS_PER_RUN = 25
    agent = AgentConfigFactory(name="limits")
    _baseline(agent, "cost_per_run", "0.5")
    _baseline(agent, "latency_p95", "4000")
    MetricSampleFactory(agent=agent, name="cost_per_run", value=Decimal("0.4"))
    thresholds = {c["name"]: c["threshold"] for c in _get(client, operator, "limits").json()["charts"]}
    assert thresholds["cost_per_run"]["lines"] == [{"value": 1.5, "label": "pages above"}]  # 3 x 0.5
    assert thresholds["tool_calls_per_run"]["lines"] == [{"value": 25.0, "label": "pages above"}]
    assert thresholds["tool_calls_per_run"]["rule"] == "> 25 calls"
    assert thresholds["error_rate_5m"]["lines"] == [{"value": 1.0, "label": "pages above"}]  # 0.01 is 1 %
    assert thresholds["error_rate_5m"]["rule"] == "> 1 %"
    # The very figures the panel's cards page on (monitoring.health.panel_metrics), no second derivation.
    cards = {m["name"]: m for m in panel_metrics() if m["agent"] == "limits"}
    for name in ("cost_per_run", "tool_calls_per_run", "latency_p95", "error_rate_5m"):
        shown = Decimal(str(thresholds[name]["lines"][0]["value"]))
        assert shown / charts.BY_NAME[name].scale == Decimal(cards[name]["threshold"]), name


def test_it_draws_the_decision_rate_band_around_its_baseline(client, operator, settings):
    settings.PAGE_DECISION_RATE_X = Decimal("3")
    settings.PAGE_DECISION_RATE_FLOOR = Decimal("10")
    banded, quiet, new = (AgentConfigFactory(name=n) for n in ("banded", "quiet", "new"))
    _baseline(banded, "decision_rate", "6")
    _baseline(quiet, "decision_rate", "0")
    band = _by_name(_get(client, operator, "banded").json())["decision_rate"]["threshold"]
    assert band["lines"] == [{"value": 18.0, "label": "pages above"}, {"value": 2.0, "label": "pages below"}]
    floor = _by_name(_get(client, operator, "quiet").json())["decision_rate"]["threshold"]
    assert floor["lines"] == [{"value": 10.0, "label": "pages above"}]  # a multiple of 0 would never page
    none = _by_name(_get(client, operator, "new").json())["decision_rate"]["threshold"]
    assert none["lines"] == [] and none["note"] == "no baseline yet"


def test_it_adds_the_desks_kill_switch_and_nav_with_the_daily_loss_line(client, operator, settings):
    settings.HALT_DAILY_LOSS = Decimal("0.03")
    AgentConfigFactory(name="desk")
    now = timezone.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    MetricSampleFactory(agent=None, name="nav", value=Decimal("9000"), ts=midnight - timedelta(minutes=30))  # yesterday
    MetricSampleFactory(agent=None, name="nav", value=Decimal("10000"), ts=midnight + timedelta(seconds=1))
    MetricSampleFactory(agent=None, name="nav", value=Decimal("9900"), ts=max(now, midnight + timedelta(seconds=2)))
    MetricSampleFactory(agent=None, name="kill_switch_active", value=Decimal(1), ts=now)
    data = _by_name(_get(client, operator, "desk").json())
    assert data["nav"]["unit"] == "USDC" and data["nav"]["from_zero"] is False
    assert data["nav"]["threshold"]["lines"] == [{"value": 9700.0, "label": "halts below"}]  # 3 % under 10,000
    assert data["kill_switch_active"]["y"] == [1.0]
    assert data["kill_switch_active"]["threshold"]["note"] == "pages whenever halted"


def test_it_still_answers_the_data_when_the_thresholds_cannot_be_read(client, operator, monkeypatch):
    agent = AgentConfigFactory(name="nobase")
    MetricSampleFactory(agent=agent, name="cost_per_run", value=Decimal("0.3"))

    def broken(*args, **kwargs):
        raise OperationalError("no such table: monitoring_metricbaseline")

    monkeypatch.setattr("monitoring.metrics.baselines_for", broken)
    chart = _by_name(_get(client, operator, "nobase").json())["cost_per_run"]
    assert chart["y"] == [0.3]
    assert chart["threshold"] == {"lines": [], "rule": "", "note": "threshold unavailable (OperationalError)"}


def test_it_answers_503_not_an_empty_chart_when_the_database_fails(client, operator, monkeypatch):
    AgentConfigFactory(name="down")

    def broken(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("agents.views_charts.agent_chart_data", broken)
    response = _get(client, operator, "down")
    assert response.status_code == 503
    assert response.json() == {"error": "metrics unavailable: the database did not answer (OperationalError)"}


def test_it_needs_the_agent_pages_permission(client, nobody, operator):
    AgentConfigFactory(name="secret")
    url = reverse("agents:agent_metrics", args=["secret"])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert _get(client, nobody, "secret").status_code == 403
    assert _get(client, operator, "secret").status_code == 200
    assert _get(client, operator, "no-such-agent").status_code == 404
    client.force_login(operator)
    assert client.post(url).status_code == 405


def test_it_serves_the_charts_from_the_repository_not_a_cdn(client, operator):
    AgentConfigFactory(name="page")
    client.force_login(operator)
    html = client.get(reverse("agents:agent", args=["page"])).content.decode()
    assert 'data-url="/agents/page/metrics.json?hours=24"' in html
    assert "/static/vendor/uplot/uPlot.iife.min.js" in html and "/static/js/charts.js" in html
    assert "https://" not in html.split("<main>")[1].split("</main>")[0].replace("https://github.com", "")


# --- units on the panel ---------------------------------------------------------------------------


def test_it_puts_units_on_the_panels_metric_cards():
    cards = charts.with_units([
        {"name": "error_rate_5m", "agent": "a", "value": "0.02", "threshold": "0.01", "label": "> 0.01"},
        {"name": "latency_p95", "agent": "a", "value": "812.5", "threshold": "1000", "label": "> 1000 ms: floor"},
        {"name": "tool_calls_per_run", "agent": "a", "value": "4", "threshold": "30", "label": "> 30"},
        {"name": "cost_per_run", "agent": "a", "value": None, "threshold": "0.05", "label": "> 0.05 USD"},
        {"name": "kill_switch_active", "agent": None, "value": "1", "threshold": "0", "label": "any"},
        {"name": "chain_rest_drift", "agent": None, "value": "0", "threshold": "0.01", "label": "> dust 0.01"},
        {"name": "metrics", "agent": None, "value": None, "threshold": "OperationalError: locked", "label": "x"},
    ])
    shown = [(c["shown"], c["threshold_shown"], c["label_shown"]) for c in cards]
    assert shown == [("2 %", "1 %", "> 1 %"), ("812.5 ms", "1000 ms", "> 1000 ms: floor"),
                     ("4 calls", "30 calls", "> 30 calls"), ("", "0.05 USD", "> 0.05 USD"),
                     ("halted", "", "pages whenever halted"), ("0 USDC + shares", "0.01 USDC + shares", "> dust 0.01"),
                     ("", "OperationalError: locked", "x")]


def test_it_sends_the_cards_with_units_in_the_snapshot():
    agent = AgentConfigFactory(name="snap")
    MetricSampleFactory(agent=agent, name="latency_p95", value=Decimal("640"))
    cards = {(m["name"], m["agent"]): m for m in panel.snapshot()["metrics"]}
    assert cards[("latency_p95", "snap")]["shown"] == "640 ms"
    assert cards[("kill_switch_active", None)]["shown"] == "trading"


# --- the panel's activity chart --------------------------------------------------------------------


def test_it_counts_runs_ended_per_bucket_with_the_failed_ones_and_the_halts():
    now = datetime(2026, 3, 2, 12, 7, 30, tzinfo=UTC)
    agent = AgentConfigFactory()
    for minutes_ago, status in ((2, "completed"), (3, "error"), (4, "budget_tokens"), (12, "completed"),
                                (400, "completed")):
        end = now - timedelta(minutes=minutes_ago)
        RunFactory(agent=agent, status=status, started_at=end - timedelta(seconds=20), ended_at=end)
    RunFactory(agent=agent, status="running", started_at=now - timedelta(minutes=1))
    HaltEventFactory(ts=now - timedelta(minutes=3), action=HaltEvent.Action.HALT, reason="fills look wrong")
    HaltEventFactory(ts=now - timedelta(minutes=2), action=HaltEvent.Action.RESUME, reason="explained")
    data = charts.panel_activity(now)
    assert data["bucket_s"] == 300 and data["x"][1] - data["x"][0] == 300
    assert data["from"] <= (now - timedelta(hours=6)).timestamp() < data["from"] + 300
    assert len(data["x"]) == len(data["runs"]) == len(data["failed"]) == 73
    # 11:55-12:00: 11:55:30; 12:00-12:05: 12:03:30 and 12:04:30 (failed); 12:05-12:10: 12:05:30
    assert data["runs"][-3:] == [1, 2, 1]
    assert data["failed"][-3:] == [0, 1, 0]
    assert sum(data["runs"]) == 4  # not the one 400 minutes ago, not the one still running
    assert [h["reason"] for h in data["halts"]] == ["fills look wrong"]


def test_it_serves_the_activity_to_any_logged_in_user_and_says_when_it_cannot(client, nobody, monkeypatch):
    url = reverse("monitoring:panel_activity")
    assert client.get(url).status_code == 302
    client.force_login(nobody)
    data = client.get(url).json()
    assert data["last_id"] == panel.last_event_id() and "runs" in data

    def broken(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("monitoring.charts.panel_activity", broken)
    response = client.get(url)
    assert response.status_code == 503
    assert response.json() == {"error": "chart unavailable: the database did not answer (OperationalError)"}
    html = client.get(reverse("monitoring:panel")).content.decode()  # the panel itself stays up, and says so
    assert "chart unavailable: the database did not answer (OperationalError)" in html


@pytest.mark.parametrize("base", ["6", "0"])
def test_it_draws_the_decision_lines_where_the_monitors_rate_check_pages(base):
    """The band is drawn from the same rules (_RateRules): just inside each line is quiet, just past it pages."""
    from monitoring.health import _rate_checks, _RateRules

    agent = AgentConfigFactory()
    rules = _RateRules.read()
    lines = charts._decision_band(Decimal(base), rules)["lines"]
    assert lines

    def pages(decisions: Decimal) -> bool:
        return _rate_checks(agent, Decimal(0), decisions, Decimal(base), rules)[1].breached

    for line in lines:
        value, step = Decimal(str(line["value"])), Decimal("0.01")
        inside, past = (value - step, value + step) if line["label"] == "pages above" else (value + step, value - step)
        assert not pages(inside) and pages(past), line
