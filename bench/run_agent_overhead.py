"""Benchmark: one full production run per iteration, through run_agent (the Django path).

What bench/loop_overhead.py leaves out is in here: the agent lock and lease, reconciling the
agent's orders, one TraceEvent row per event (SQLite WAL), journaled Order rows, the DB-backed
exposure, the approval sink, run metrics and paging after the run. Rules policy, the real paper
venue on loopback, a fresh SQLite database. Per step = (run wall time - time inside the policy) / steps.

    .venv/bin/python bench/run_agent_overhead.py [--runs 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

from django_setup import setup_django  # noqa: E402


def report(label: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    print(f"{label}: median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms, max {values[-1]:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    data_dir = setup_django("academy-run-bench-")
    import logging

    logging.disable(logging.WARNING)  # ALERT log lines are not what is measured
    from agents.core.policies import RulesPolicy
    from agents.models import AgentConfig
    from agents.services import run_agent
    from agents.venue.client import HttpVenue
    from paper_venue.faults import Faults
    from paper_venue.testing import running_venue

    agent = AgentConfig.objects.create(name="bench", known_market_types=["crypto-hourly", "sports", "politics"],
                                       max_daily_notional=1_000_000, max_market_exposure=1_000_000,
                                       max_open_positions=100)
    per_step, steps_seen = [], []
    with running_venue(data_dir / "venue", VENUE_TICK_INTERVAL="0") as venue:
        faults = Faults(venue.url, venue.faults_token)
        for i in range(args.runs + 10):
            key = f"bench-key-{i}-0123456789"
            faults.account(f"bench-{i}", key, "100000")
            client = HttpVenue(venue.url, key)
            t0 = time.perf_counter()
            run = run_agent(agent_id=agent.pk, venue=client, policy=RulesPolicy())
            wall_ms = (time.perf_counter() - t0) * 1000
            client.cancel_all()  # untimed: leave the books as they were for the next run
            client.close()
            assert run.status == "completed", (run.status, run.end_reason)
            if i >= 10:  # the first runs warm caches and create files
                per_step.append((wall_ms - sum(run.model_latencies_ms)) / run.steps)
                steps_seen.append(run.steps)
    print(f"{args.runs} runs through run_agent, {statistics.median(steps_seen)} steps each (median)")
    report("per step, excluding the policy (production path, paper venue, SQLite)", per_step)


if __name__ == "__main__":
    main()
