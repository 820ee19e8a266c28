"""Fleet reads (issue 15): the monitor's paging pass, the panel snapshot and /metrics read every agent
in a constant number of queries, and the aggregate readers agree with the per-agent ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring import alerts, panel
from monitoring.alerts import Applied, Fire, alert_fire, alerts_apply
from monitoring.health import Monitor, fleet_rate_checks, rate_checks
from monitoring.metrics import (
    NAMES,
    baseline,
    baselines_for,
    decision_rate,
    decision_rates,
    latest,
    latest_by_agent,
    latest_system,
    metric_record,
    tool_error_rate,
    tool_error_rates,
)
from monitoring.models import Alert, AlertDelivery, MetricBaseline, OutboxEvent
from monitoring.prom import Seconds, latest_samples, run_families
from tests.factories import AgentConfigFactory, RunFactory, TraceEventFactory

pytestmark = pytest.mark.django_db

FIGURES = {"cost_per_run": "0.02", "tool_calls_per_run": "10", "latency_p95": "800", "error_rate_5m": "0"}


def seed(n: int, now: datetime) -> list:
    """n agents, each with a run a minute ago, its samples, a decision-rate history of 2 an hour and
    the stored baselines. Every third agent has tool errors (1 in 10), every third after it decides
    7 times an hour (far above 2): both page."""
    agents = []
    for i in range(n):
        agent = AgentConfigFactory()
        run = RunFactory(
            agent=agent,
            status="completed",
            started_at=now - timedelta(seconds=70),
            ended_at=now - timedelta(seconds=60),
            tool_calls=10,
            tool_errors=int(i % 3 == 0),
        )
        for name, value in FIGURES.items():
            metric_record(name, Decimal(value), agent_id=agent.pk, run_id=run.pk, ts=run.ended_at)
        for hours in range(1, 6):
            metric_record("decision_rate", 2, agent_id=agent.pk, ts=now - timedelta(hours=hours))
            metric_record("cost_per_run", Decimal("0.01") * hours, agent_id=agent.pk, ts=now - timedelta(hours=hours))
        tools = ["place_limit_order"] * (7 if i % 3 == 1 else 2) + ["browse_markets", "cancel_order"]
        for seq, tool in enumerate(tools):
            TraceEventFactory(run=run, agent=agent, seq=seq, tool=tool, ts=now - timedelta(seconds=65))
        for name in ("decision_rate", "cost_per_run", "latency_p95"):
            baseline(name, agent.pk, now=now)
        agents.append(agent)
    metric_record("nav", Decimal("1000"), ts=now)
    metric_record("chain_rest_drift", Decimal("0"), ts=now)
    return agents


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def page_pass(now: datetime) -> None:
    Monitor(lambda: None)._page_rates(now)


# --- a constant number of queries ------------------------------------------------------------------


def test_it_pages_3_agents_and_30_agents_with_the_same_number_of_queries():
    now = timezone.now()
    seed(3, now)
    page_pass(now)  # fires the first breaches; the pass measured below bumps them
    few = queries(lambda: page_pass(now))
    seed(27, now)
    page_pass(now)
    many = queries(lambda: page_pass(now))
    assert few == many
    assert Alert.objects.filter(state="firing").count() == 20  # 10 tool-error and 10 decision-rate agents


def test_it_snapshots_the_panel_for_3_agents_and_30_agents_with_the_same_number_of_queries():
    now = timezone.now()
    seed(3, now)
    few = queries(panel.snapshot)
    seed(27, now)
    many = queries(panel.snapshot)
    assert few == many


def test_it_serves_metrics_for_3_agents_and_30_agents_with_the_same_few_queries(client):
    now = timezone.now()
    seed(3, now)
    few = queries(lambda: client.get("/metrics"))
    seed(27, now)
    many = queries(lambda: client.get("/metrics"))
    assert few == many
    assert client.get("/metrics").status_code == 200
    # agent names, every agent's latest, the system-wide latest, the two live rates: not 2 a name
    assert queries(latest_samples) == 5


# --- the aggregates agree with the per-agent readers -------------------------------------------------


def test_it_gives_each_agent_the_same_rates_in_aggregate_as_one_by_one():
    now = timezone.now()
    agents = seed(6, now)
    since = now - timedelta(minutes=5)
    rates, decisions = tool_error_rates(since=since), decision_rates(now=now)
    for agent in agents:
        assert rates[agent.pk] == tool_error_rate(since=since, agent_id=agent.pk)
        assert decisions[agent.pk] == decision_rate(agent.pk, now=now)
    quiet = AgentConfigFactory()
    assert quiet.pk not in rates and quiet.pk not in decisions and decision_rate(quiet.pk, now=now) == 0


def test_it_gives_the_same_latest_samples_in_aggregate_as_one_by_one():
    agents = seed(4, timezone.now())
    values = latest_by_agent(NAMES)
    for agent in agents:
        for name in NAMES:
            sample = latest(name, agent.pk)
            assert values.get((name, agent.pk)) == (sample.value if sample else None)
    system = latest_system(NAMES)
    assert system == {name: latest(name).value for name in NAMES if latest(name) is not None}
    assert set(system) == {"nav", "chain_rest_drift"}


def test_it_breaks_a_tie_on_the_timestamp_by_the_newest_row():
    agent, ts = AgentConfigFactory(), timezone.now()
    metric_record("cost_per_run", Decimal("1"), agent_id=agent.pk, ts=ts)
    metric_record("cost_per_run", Decimal("2"), agent_id=agent.pk, ts=ts)
    assert latest_by_agent(["cost_per_run"])[("cost_per_run", agent.pk)] == Decimal("2")
    assert latest("cost_per_run", agent.pk).value == Decimal("2")


def test_it_gives_the_same_baselines_in_aggregate_as_one_by_one(settings):
    settings.COLD_START_BASELINE = {"cost_per_run": Decimal("0.10")}
    now = timezone.now()
    agents = seed(4, now)
    cold = AgentConfigFactory()  # no history: the cold-start value, stored or not
    baseline("cost_per_run", cold.pk, now=now)
    never = AgentConfigFactory()  # nothing stored at all
    stored = baselines_for("cost_per_run", [a.pk for a in agents] + [cold.pk, never.pk])
    for agent in [*agents, cold, never]:
        assert stored[agent.pk] == baseline("cost_per_run", agent.pk, now=now)
    assert stored[agents[0].pk] == Decimal("0.025")  # the median of 0.01 .. 0.05 and the run's 0.02
    assert stored[cold.pk] == stored[never.pk] == Decimal("0.10")
    assert baselines_for("decision_rate", [never.pk]) == {never.pk: None}  # no stand-in: never pages on it


def test_it_gives_the_fleet_the_same_checks_as_one_agent_at_a_time():
    now = timezone.now()
    agents = seed(6, now)
    one_by_one = [c for agent in agents for c in rate_checks(agent, now)]
    assert fleet_rate_checks(agents, now) == one_by_one
    assert {c.breached for c in one_by_one} == {True, False}


def test_it_sums_run_durations_in_the_database_to_the_microsecond_across_midnight():
    from agents.models import Run

    agent = AgentConfigFactory(name="night")
    start = datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC)
    RunFactory(agent=agent, status="completed", started_at=start, ended_at=start + timedelta(seconds=1.500001))
    RunFactory(
        agent=agent,
        status="completed",
        started_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
        ended_at=datetime(2026, 3, 4, 10, 0, 0, 250_000, tzinfo=UTC),
    )  # two days; no fraction at the start
    seconds = (
        Run.objects.filter(agent=agent).order_by("started_at").values_list(Seconds("ended_at", "started_at"), flat=True)
    )
    assert list(seconds) == pytest.approx([1.500001, 172800.25], abs=1e-6)
    summary = next(f for f in run_families() if f.name == "academy_run_duration_seconds")
    got = {s.name: s.value for s in summary.samples if s.labels == {"agent": "night"}}
    assert got["academy_run_duration_seconds_count"] == 2
    assert got["academy_run_duration_seconds_sum"] == pytest.approx(172801.750001, abs=1e-6)


# --- stored baselines ------------------------------------------------------------------------------------


def test_it_recomputes_a_stored_baseline_after_the_refresh_interval_and_not_before(settings):
    settings.BASELINE_REFRESH_S = 300
    agent, t0 = AgentConfigFactory(), timezone.now()
    for i in range(5):
        metric_record("latency_p95", 100, agent_id=agent.pk, ts=t0 - timedelta(hours=i + 1))
    assert baseline("latency_p95", agent.pk, now=t0) == 100
    for i in range(6):
        metric_record("latency_p95", 400, agent_id=agent.pk, ts=t0 + timedelta(seconds=i))
    assert baseline("latency_p95", agent.pk, now=t0 + timedelta(seconds=299)) == 100  # stored, still fresh
    assert baselines_for("latency_p95", [agent.pk]) == {agent.pk: 100}
    assert baseline("latency_p95", agent.pk, now=t0 + timedelta(seconds=300)) == 400  # recomputed
    row = MetricBaseline.objects.get(name="latency_p95", agent=agent)
    assert (row.value, row.samples, row.computed_at) == (400, 11, t0 + timedelta(seconds=300))
    assert baselines_for("latency_p95", [agent.pk]) == {agent.pk: 400}


def test_it_recomputes_every_time_with_a_refresh_of_zero(settings):
    settings.BASELINE_REFRESH_S = 0
    agent, now = AgentConfigFactory(), timezone.now()
    for i in range(5):
        metric_record("cost_per_run", Decimal("0.10"), agent_id=agent.pk, ts=now - timedelta(hours=i + 1))
    assert baseline("cost_per_run", agent.pk, now=now) == Decimal("0.10")
    for i in range(6):
        metric_record("cost_per_run", Decimal("0.30"), agent_id=agent.pk, ts=now - timedelta(minutes=i + 1))
    assert baseline("cost_per_run", agent.pk, now=now) == Decimal("0.30")
    assert MetricBaseline.objects.filter(name="cost_per_run", agent=agent).count() == 1


def test_it_leaves_the_run_out_of_the_baseline_it_stores(settings):
    agent, now = AgentConfigFactory(), timezone.now()
    run = RunFactory(agent=agent)
    for i in range(5):
        metric_record("cost_per_run", Decimal("0.10"), agent_id=agent.pk, ts=now - timedelta(hours=i + 1))
    for _ in range(6):
        metric_record("cost_per_run", Decimal("9"), agent_id=agent.pk, run_id=run.pk, ts=now)
    assert baseline("cost_per_run", agent.pk, now=now, exclude_run=run.pk) == Decimal("0.10")
    assert baselines_for("cost_per_run", [agent.pk]) == {agent.pk: Decimal("0.10")}


# --- paging in bulk ------------------------------------------------------------------------------------


def test_it_fires_a_breach_once_bumps_it_on_the_next_pass_and_resolves_it_once_in_bounds(settings):
    settings.ALERT_SINKS = ["log", "webhook"]
    now = timezone.now()
    agent = seed(1, now)[0]  # agent 0: 1 tool error in 10 calls
    key = f"error_rate_5m:{agent.name}"
    page_pass(now)
    alert = Alert.objects.get(key=key)
    assert (alert.state, alert.fire_count) == ("firing", 1)
    assert sorted(AlertDelivery.objects.filter(alert=alert).values_list("sink", "event")) == [
        ("log", "trigger"),
        ("webhook", "trigger"),
    ]
    page_pass(now + timedelta(seconds=5))
    alert.refresh_from_db()
    assert (alert.state, alert.fire_count) == ("firing", 2)
    assert AlertDelivery.objects.filter(alert=alert).count() == 2  # a bump pages nobody
    page_pass(now + timedelta(minutes=6))  # the run left the 5-minute window
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolved_at is not None
    assert alert.details["value"] == "0" and alert.details["rule"] == "> 0.01"  # resolve details merged
    page_pass(now + timedelta(minutes=7))
    resolves = AlertDelivery.objects.filter(alert=alert, event="resolve")
    assert sorted(resolves.values_list("sink", flat=True)) == ["log", "webhook"]  # once per sink, not per pass
    states = [e.payload["state"] for e in OutboxEvent.objects.filter(kind="alert", payload__key=key).order_by("id")]
    assert states == ["firing", "resolved"]


def test_it_fires_bumps_and_resolves_many_keys_in_a_constant_number_of_queries():
    alert_fire(key="bumped-0", title="B0", details={"value": "1"})
    alert_fire(key="bumped-1", title="B1", details={"value": "1"})
    alert_fire(key="resolved-0", title="R0", details={"value": "5", "rule": "> 1"})
    alert_fire(key="resolved-1", title="R1", details={"value": "5"})
    fire = {"bumped-0": Fire("B0", {"value": "2"}), "bumped-1": Fire("B1", {"value": "1"}), "new": Fire("N", {})}
    with CaptureQueriesContext(connection) as ctx:
        applied = alerts_apply(fire=fire, resolve={"resolved-0": {"value": "0"}, "resolved-1": {}, "quiet": {}})
    assert sorted(applied.bumped) == ["bumped-0", "bumped-1"]
    assert [a.key for a in applied.fired] == ["new"]
    assert sorted(a.key for a in applied.resolved) == ["resolved-0", "resolved-1"]
    writes = [q["sql"].split()[0] for q in ctx.captured_queries]
    assert writes.count("UPDATE") == 2  # one bump, one resolve, for any number of keys
    rows = {a.key: a for a in Alert.objects.all()}
    assert rows["bumped-0"].details == {"value": "2"} and rows["bumped-0"].fire_count == 2
    assert rows["bumped-1"].details == {"value": "1"} and rows["bumped-1"].fire_count == 2
    assert rows["resolved-0"].state == "resolved" and rows["resolved-0"].details == {"value": "0", "rule": "> 1"}
    assert rows["resolved-1"].state == "resolved" and rows["resolved-1"].details == {"value": "5"}
    assert "quiet" not in rows and rows["new"].state == "firing"


def test_it_bumps_a_key_another_process_fired_between_the_read_and_the_create():
    alert_fire(key="raced", title="R")  # as if fired after alerts_apply read the firing alerts
    applied = Applied()
    alerts._fire_new("raced", Fire("R", {"value": "2"}), timezone.now(), applied)
    alert = Alert.objects.get(key="raced")
    assert applied.bumped == ["raced"] and not applied.fired
    assert alert.fire_count == 2 and AlertDelivery.objects.filter(alert=alert).count() == 1
