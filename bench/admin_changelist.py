"""Benchmark: the trace admin at a million rows.

Fills N TraceEvent rows (default 1,000,000) into a fresh SQLite database (the embedded
default) or the database DATABASE_URL names, then times the admin changelist unfiltered,
filtered, and searched, through Django's test client (the full request path: middleware,
auth, queries, template). Prints median and max over several requests each.

    .venv/bin/python bench/admin_changelist.py [--rows 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from django_setup import setup_django  # noqa: E402  (bench/ is on sys.path when run as a script)


def fill(rows: int) -> tuple[int, int]:
    """Insert `rows` events over 20 agents and rows/50 runs; return (an agent id, a run id)."""
    from django.utils import timezone

    from agents.models import AgentConfig, Run, TraceEvent

    agents = [AgentConfig.objects.create(name=f"bench-{i}") for i in range(20)]
    start = timezone.now() - timedelta(seconds=rows)  # ends about now
    runs = Run.objects.bulk_create(
        Run(agent=agents[i % 20], started_at=start + timedelta(seconds=i * 50), status="completed")
        for i in range(rows // 50)
    )
    kinds = ["model_request", "model_response", "tool_call", "tool_result", "decision"]
    tools = ["browse_markets", "get_market", "place_limit_order", "get_positions", "cancel_order"]
    batch: list[TraceEvent] = []
    for i in range(rows):
        run = runs[i // 50]
        batch.append(
            TraceEvent(
                run=run, agent_id=run.agent_id, seq=i % 50, step=(i % 50) // 5,
                ts=run.started_at + timedelta(seconds=i % 50), kind=kinds[i % 5], tool=tools[(i // 5) % 5],
                data={"args": {"market": f"m-{i % 97}", "price": "0.55", "size": "5"}, "i": i},
            )
        )
        if len(batch) == 20_000:
            TraceEvent.objects.bulk_create(batch)
            batch.clear()
    TraceEvent.objects.bulk_create(batch)
    return agents[3].pk, runs[len(runs) // 2].pk


def time_get(client, url: str, params: dict[str, str], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (response.status_code, response.get("Location"))
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    setup_django("academy-bench-", ALLOWED_HOSTS="testserver,127.0.0.1")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    t0 = time.perf_counter()
    agent_id, run_id = fill(args.rows)
    print(f"filled {args.rows:,} trace events in {time.perf_counter() - t0:.1f} s ({connection.vendor})")
    user = get_user_model().objects.create_superuser("bench", password="bench-pw-123")
    client = Client()
    client.force_login(user)
    url = "/admin/agents/traceevent/"
    deep = max(1, min(50, args.rows // 100))  # a deep page that exists at this size
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    # The parameters DateFieldListFilter's "Past 7 days" link sends (aware datetimes).
    week = {"ts__gte": str(midnight - timedelta(days=7)), "ts__lt": str(midnight + timedelta(days=1))}
    cases = {
        "changelist, unfiltered": {},
        f"changelist, page {deep}": {"p": str(deep)},
        "filter by agent": {"agent__id__exact": str(agent_id)},
        "filter by kind": {"kind__exact": "decision"},
        "filter by date (past 7 days)": week,
        "filter agent + kind": {"agent__id__exact": str(agent_id), "kind__exact": "tool_call"},
        "events of one run (run link)": {"run__id__exact": str(run_id)},
        "search run id": {"q": str(run_id)},
        "search tool prefix": {"q": "place_limit"},
        "run changelist": None,
    }
    for label, params in cases.items():
        target, query = ("/admin/agents/run/", {}) if params is None else (url, params)
        median, worst = time_get(client, target, query, args.repeat)
        print(f"{label:32s} median {median:7.1f} ms   max {worst:7.1f} ms")


if __name__ == "__main__":
    main()
