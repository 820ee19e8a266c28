"""Benchmark: how the monitor, the panel and /metrics read a fleet of N agents (issue 15).

    .venv/bin/python bench/fleet_reads.py [--agents 1000] [--hours 6] [--window 1440] [--repeat 7]

Seeds a fresh database (the embedded SQLite default, or the one DATABASE_URL names) with N enabled
agents and, per agent, a run a minute for the last `--hours` hours (each with its five per-run metric
samples, as `after_run` records them), a sample a minute further back until each baselined metric
has `--window` samples (10,000 is a full week of a run a minute: 30 M rows at 1,000 agents, so the
default is a day; nothing timed here reads the window, each read is an index seek), the stored
baselines a run leaves, and four tool calls per run in the last two hours (two of them decisions).
One agent in twenty has a tool error rate above 1%, so paging has alerts to fire and bump.

Then times (median of `--repeat`, after one warm-up) and counts the queries of:

* one monitor paging pass: `Monitor._page_rates` (the per-agent part of `health_tick`: the error and
  decision rates of every enabled agent against their baselines, and the alerts they fire or resolve;
  the venue reads of the kill-switch shapes are per account, not per agent, and are left out);
* `monitoring.panel.snapshot()`, what every open panel receives every few seconds;
* one /metrics render: `prometheus_client.generate_latest(academy_registry())`.

Targets at 1,000 agents: the paging pass under 500 ms (10% of the 5 s monitor interval), the panel
snapshot and /metrics under 100 ms each, and the same query count for any N.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django_setup import setup_django  # noqa: E402  (bench/ is on sys.path when run as a script)

BASELINED = ("cost_per_run", "latency_p95", "decision_rate")
BATCH = 20_000


def seed(agents: int, hours: int, window: int, now: datetime) -> dict[str, int]:
    """Fill the fleet's history; return the row counts."""
    from agents.models import AgentConfig

    fleet = AgentConfig.objects.bulk_create(
        AgentConfig(name=f"fleet-{i:04d}", known_market_types=["crypto-hourly"]) for i in range(agents)
    )
    counts = {"agents": len(fleet), "runs": 0, "samples": 0, "events": 0, "baselines": 0}
    for i, agent in enumerate(fleet):
        runs = _runs(agent, i, hours, now)
        counts["runs"] += len(runs)
        counts["samples"] += _samples(agent, runs, hours * 60, window, now)
        counts["events"] += _events(agent, runs, now)
    counts["baselines"] = _baselines(fleet, window, now)
    _tallies(fleet, hours, now)
    return counts


def _tallies(fleet: list[Any], hours: int, now: datetime) -> None:
    """What the seeded runs' ends would have counted (RunTally for /metrics, DailyCost for the cost cap)."""
    from agents.models import DailyCost, RunTally

    runs = hours * 60
    RunTally.objects.bulk_create([RunTally(agent=a, status="completed", runs=runs, seconds=20.0 * runs)
                                  for a in fleet], batch_size=BATCH)
    DailyCost.objects.update_or_create(day=now.date(), defaults={"usd": Decimal("0.0123") * runs * len(fleet)})


def _runs(agent: Any, i: int, hours: int, now: datetime) -> list[Any]:
    from agents.models import Run

    errors = 1 if i % 20 == 0 else 0  # 1 in 4 calls over the last 5 minutes: above the 1% page
    return Run.objects.bulk_create(
        (
            Run(
                agent=agent,
                status="completed",
                started_at=now - timedelta(minutes=m, seconds=20),
                ended_at=now - timedelta(minutes=m),
                steps=4,
                tool_calls=4,
                tool_errors=errors if m < 5 else 0,
                cost=Decimal("0.0123"),
                model_version="rules-v1",
            )
            for m in range(hours * 60)
        ),
        batch_size=BATCH,
    )


def _samples(agent: Any, runs: list[Any], recent: int, window: int, now: datetime) -> int:
    """The per-run samples of the recent runs, then a sample a minute back to `window` of each baselined."""
    from django.db import connection

    figures = {
        "cost_per_run": "0.0123",
        "tool_calls_per_run": "4",
        "latency_p95": "850",
        "error_rate_5m": "0",
        "decision_rate": "120",
    }
    ts = connection.ops.adapt_datetimefield_value
    rows = [(name, v, agent.pk, run.pk, ts(run.ended_at)) for run in runs for name, v in figures.items()]
    rows += [
        (name, figures[name], agent.pk, None, ts(now - timedelta(minutes=m)))
        for m in range(recent, window)
        for name in BASELINED
    ]
    # Millions of rows: one executemany, not bulk_create (on SQLite that is 166 rows a statement).
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO monitoring_metricsample (name, value, agent_id, run_id, ts) VALUES (%s, %s, %s, %s, %s)",
            rows,
        )
    return len(rows)


def _events(agent: Any, runs: list[Any], now: datetime) -> int:
    from agents.models import TraceEvent

    tools = ("browse_markets", "place_limit_order", "get_positions", "cancel_order")
    rows = [
        TraceEvent(
            run=run,
            agent=agent,
            seq=seq,
            step=seq,
            ts=run.started_at + timedelta(seconds=seq),
            kind="tool_call",
            tool=tool,
            data={"args": {}},
        )
        for run in runs
        if run.ended_at >= now - timedelta(hours=2)
        for seq, tool in enumerate(tools)
    ]
    TraceEvent.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _baselines(fleet: list[Any], window: int, now: datetime) -> int:
    """The stored baselines each agent's last run left (monitoring.metrics.baseline)."""
    from monitoring.models import MetricBaseline

    values = {"cost_per_run": "0.0123", "latency_p95": "850", "decision_rate": "120"}
    rows = [
        MetricBaseline(
            name=name,
            agent=agent,
            value=Decimal(values[name]),
            samples=min(window, 10_000),
            computed_at=now - timedelta(seconds=30),
        )
        for agent in fleet
        for name in BASELINED
    ]
    MetricBaseline.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """(median ms, max ms, queries of the last call) over `repeat` calls after one warm-up."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    fn()
    samples, queries = [], 0
    for _ in range(repeat):
        reset_queries()  # DEBUG keeps the last 9,000 queries only: the seeding filled them
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
        queries = len(ctx.captured_queries)
    return statistics.median(samples), max(samples), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=6, help="hours of a run a minute per agent")
    parser.add_argument("--window", type=int, default=1440, help="samples per baselined metric and agent")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    setup_django("academy-bench-fleet-", LOG_LEVEL="CRITICAL")  # each firing alert logs a line per pass
    from django.db import connection
    from django.utils import timezone
    from prometheus_client import generate_latest

    from monitoring import panel
    from monitoring.health import Monitor
    from monitoring.prom import academy_registry, latest_samples, run_families

    now = timezone.now()
    t0 = time.perf_counter()
    counts = seed(args.agents, args.hours, args.window, now)
    if connection.vendor == "postgresql":  # autovacuum would have analysed the fresh tables by now
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"seeded {', '.join(f'{v:,} {k}' for k, v in counts.items())} in {time.perf_counter() - t0:.1f} s "
        f"({connection.vendor})"
    )
    monitor = Monitor(lambda: None)
    cases: dict[str, Callable[[], Any]] = {
        # As of the seeded moment: seeding 1,000 agents takes minutes, and the rates look back 5 and 60.
        "monitor paging pass": lambda: monitor._page_rates(now),
        "panel snapshot": panel.snapshot,
        "/metrics render": lambda: generate_latest(academy_registry()),
        "  of which latest samples": latest_samples,
        "  of which runs, durations": lambda: list(run_families()),
    }
    print(f"{'N=' + str(args.agents):>6s}  {'case':24s} {'median ms':>10s} {'max ms':>9s} {'queries':>8s}")
    for label, fn in cases.items():
        median, worst, queries = measure(fn, args.repeat)
        print(f"{args.agents:6d}  {label:24s} {median:10.1f} {worst:9.1f} {queries:8d}")


if __name__ == "__main__":
    main()
