"""Benchmark: one full production run per iteration, through run_agent (the Django path).

What bench/loop_overhead.py leaves out is in here: the agent lock and lease, reconciling the
agent's orders, one TraceEvent row per event (SQLite WAL), journaled Order rows, the DB-backed
exposure, the approval sink, run metrics and paging after the run. Rules policy, the real paper
venue on loopback, a fresh SQLite database, DEBUG off. Per step = (run wall time - time inside the
policy) / steps. The real monitor runs beside it (agents refuse to trade without its heartbeat and
its dead-man's cover), on the venue's default account.

    .venv/bin/python bench/run_agent_overhead.py [--runs 100] [--profile]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from django_setup import ROOT, setup_django  # noqa: E402


def report(label: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    print(f"{label}: median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms, max {values[-1]:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="print the top functions (--sort)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key: cumulative, tottime...")
    args = parser.parse_args()
    import tempfile
    from pathlib import Path

    from paper_venue.testing import running_venue, stop_process

    with running_venue(Path(tempfile.mkdtemp(prefix="academy-run-bench-venue-")), VENUE_TICK_INTERVAL="0") as venue:
        # DEBUG off as in production: with it on, Django keeps every query's SQL in memory (CPU per query).
        setup_django("academy-run-bench-", VENUE_URL=venue.url, VENUE_API_KEY=venue.api_key, DEBUG="false",
                     SECRET_KEY="bench-only-0123456789abcdef0123456789abcdef0123456789abcdef")
        import logging

        logging.disable(logging.WARNING)  # ALERT log lines are not what is measured
        # Agents refuse to trade without the monitor's heartbeat and its dead-man's cover (the issue-15
        # finding: without it every run ended in the kill switch): run the real one, as make run does.
        monitor = subprocess.Popen([sys.executable, "manage.py", "monitor"], cwd=ROOT, env=dict(os.environ),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_cover()
            _bench(args)
        finally:
            stop_process(monitor)


def _wait_for_cover() -> None:
    from agents.services import cover_missing_reason, monitor_missing_reason

    deadline = time.monotonic() + 60
    while (why := monitor_missing_reason() or cover_missing_reason()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if why:
        raise SystemExit(f"no monitor cover after 60 s: {why}")


def _bench(args: argparse.Namespace) -> None:
    from agents.core.policies import RulesPolicy
    from agents.models import AgentConfig
    from agents.services import run_agent, venue_client

    agent = AgentConfig.objects.create(name="bench", known_market_types=["crypto-hourly", "sports", "politics"],
                                       max_daily_notional=1_000_000, max_market_exposure=1_000_000,
                                       max_open_positions=100)
    client = venue_client()
    per_step, steps_seen, walls, cpus, procs = [], [], [], [], []
    profiler = None
    for i in range(args.runs + 10):
        if i == 10 and args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
        run = run_agent(agent_id=agent.pk, policy=RulesPolicy())
        wall_ms = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.thread_time() - c0) * 1000
        proc_ms = (time.process_time() - p0) * 1000
        client.cancel_all()  # untimed: leave the book as it was for the next run
        assert run.status == "completed", (run.status, run.end_reason)
        if i >= 10:  # the first runs warm caches and create files
            per_step.append((wall_ms - sum(run.model_latencies_ms)) / run.steps)
            steps_seen.append(run.steps)
            walls.append(wall_ms)
            cpus.append(cpu_ms)
            procs.append(proc_ms)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)
    print(f"{args.runs} runs through run_agent, {statistics.median(steps_seen)} steps each (median)")
    report("whole run, wall", walls)
    report("whole run, CPU of the run's own thread", cpus)
    report("whole run, CPU of the process (tool threads and the lease heartbeat too)", procs)
    report("per step, excluding the policy (production path, paper venue, SQLite)", per_step)


if __name__ == "__main__":
    main()
