"""Benchmark: trace ingest through the real trace path (issue 15: at least 20,000 events/s).

Each event goes through `RunRecorder.append` as in a run: the whole event redacted by the real
`services.redactor()` (secret env values set, so the needle search runs), its NDJSON line written
to a real file (TraceWriter), its TraceEvent row written in a batch. The figure is events / wall
time from the first append to the end of `RunRecorder.close()` (the last rows written, the file
fsynced). The mix is a run's: per step a model_request (the new tool messages), a model_response
(text, tool calls, usage), a decision, and a tool_call and tool_result (a market with its book)
per call, three calls a step: 9 events a step.

    .venv/bin/python bench/trace_ingest.py [--events 20000] [--threads 2] [--procs N] [--db all|sqlite|postgres]

`--db all` (the default) runs itself once per database: the embedded default (SQLite WAL, a fresh
file) and PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth; a throwaway database created
and dropped here). Each prints the figure with each row written as it comes (`batch_rows=1`: a
transaction per event, as before batching) and in batches; for one run, for `--threads` runs in
threads of one process, and for `--procs` processes recording one run each at once (a worker pool;
default: one per CPU). The "before" rows see fewer events (a quarter): the rate is per event.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from django_setup import setup_django  # noqa: E402  (bench/ is on sys.path when run as a script)

PG = "postgres://postgres@127.0.0.1:5432"
SECRETS = {
    "VENUE_API_KEY": "key-bench-0123456789abcdef",
    "OPENAI_API_KEY": "sk-proj-BENCHbench0123456789abcdef",
    "SECRET_KEY": "bench-django-secret-key-0123456789",
}
CALLS_PER_STEP = 3


def market(step: int, i: int) -> dict[str, Any]:
    """A get_market result as the model sees it (sanitised text, the book's top levels)."""
    slug = f"btc-above-{60_000 + 250 * ((step + i) % 40)}-hourly"
    return {
        "slug": slug,
        "title": f"Will BTC be above ${60_000 + 250 * ((step + i) % 40):,} at 14:00 UTC?",
        "category": "crypto",
        "market_type": "crypto-hourly",
        "status": "open",
        "close_time": "2026-12-07T14:00:00+00:00",
        "last_price": "0.415",
        "description": "Resolves YES if the Coinbase BTC-USD close at 14:00 UTC is above the strike. "
        "Source: the exchange's public candle for that minute.",
        "note": "",
        "resolution_text": "Coinbase BTC-USD 1-minute candle close.",
        "book": {
            "bids": [{"price": f"0.{400 - k * 5}", "size": f"{50 + 10 * k}.000"} for k in range(5)],
            "asks": [{"price": f"0.{420 + k * 5}", "size": f"{40 + 10 * k}.000"} for k in range(5)],
            "note": "",
            "seq": 1000 + step,
        },
        "my_open_orders": [],
        "fetched_at": "2026-12-07T13:12:00.123456+00:00",
    }


def step_events(step: int) -> list[tuple[str, dict[str, Any]]]:
    """The events one step records, in order."""
    calls = [
        {"id": f"call_{step}_{i}", "name": "get_market", "arguments": {"slug": market(step, i)["slug"]}}
        for i in range(CALLS_PER_STEP)
    ]
    tool_messages = [
        {
            "role": "tool",
            "content": str(market(step - 1, i)),
            "tool_call_id": f"call_{step - 1}_{i}",
            "name": "get_market",
            "is_error": False,
        }
        for i in range(CALLS_PER_STEP)
    ]
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "model_request",
            {
                "model": "claude-sonnet-4-20250514",
                "temperature": 0.0,
                "seed": 0,
                "tools": [
                    "browse_markets",
                    "get_market",
                    "check_freshness",
                    "get_positions",
                    "get_balance",
                    "place_limit_order",
                    "cancel_order",
                    "cancel_all",
                ],
                "new_messages": tool_messages if step else [],
                "message_count": 2 + 4 * step,
            },
        ),
        (
            "model_response",
            {
                "tool_calls": calls,
                "final": False,
                "text": "The hourly BTC markets near the money have a wide spread; I will read "
                "three books before quoting one tick inside the best bid.",
                "usage": {"input_tokens": 3_200 + 900 * step, "output_tokens": 180},
                "cost_usd": "0.012300",
                "latency_ms": 812.4,
                "stop_reason": "tool_use",
            },
        ),
        (
            "decision",
            {"action": "tool_calls", "calls": [{"name": c["name"], "arguments": c["arguments"]} for c in calls]},
        ),
    ]
    for i, call in enumerate(calls):
        events.append(("tool_call", {**call, "index": CALLS_PER_STEP * step + i}))
        events.append(
            (
                "tool_result",
                {
                    "call_id": call["id"],
                    "tool": "get_market",
                    "ok": True,
                    "result": market(step, i),
                    "latency_ms": 3.2,
                    "sanitised": [],
                },
            )
        )
    return events


def prepare(events: int, *, per_row: bool) -> tuple[Any, list[tuple[int, str, dict[str, Any]]]]:
    """A Run row, its recorder and the events it will record (all made before the clock starts)."""
    from agents.core.ports import SystemClock
    from agents.core.tracing import TraceWriter
    from agents.models import AgentConfig, Run
    from agents.services import RunRecorder, redactor, traces_dir

    run = Run.objects.create(agent=AgentConfig.objects.get(name="bench"), started_at=SystemClock().now())
    writer = TraceWriter(traces_dir=traces_dir(), run_id=str(run.pk), clock=SystemClock(), redactor=redactor())
    run.trace_path = str(writer.path)
    run.save(update_fields=["trace_path"])
    per_step = len(step_events(0))
    todo = [(step, kind, data) for step in range(events // per_step + 1) for kind, data in step_events(step)]
    recorder = RunRecorder(run, writer, batch_rows=1) if per_row else RunRecorder(run, writer)
    return recorder, todo[:events]


def measure(events: int, threads: int, *, per_row: bool) -> float:
    """Events per second for `threads` runs recording `events` events each at once, each in its thread."""
    from django.db import connections

    runs = [prepare(events, per_row=per_row) for _ in range(threads)]
    start = threading.Barrier(threads + 1)

    def record(recorder: Any, todo: list[tuple[int, str, dict[str, Any]]]) -> None:
        start.wait()
        try:
            for step, kind, data in todo:
                recorder.append(kind, step, data)
            recorder.close()
        finally:
            connections.close_all()

    workers = [threading.Thread(target=record, args=run) for run in runs]
    for w in workers:
        w.start()
    # The prepared events (a million objects) are input, not the trace path: keep the garbage
    # collector from walking them again and again while the clock runs.
    gc.collect()
    gc.freeze()
    start.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    gc.unfreeze()
    return events * threads / elapsed


def measure_procs(events: int, procs: int, *, per_row: bool) -> float:
    """Events per second for `procs` processes (forked, as a worker pool's) recording one run each at once."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each process opens its own
    fork = multiprocessing.get_context("fork")
    start = fork.Barrier(procs + 1)

    def record() -> None:
        recorder, todo = prepare(events, per_row=per_row)
        gc.collect()
        gc.freeze()
        start.wait()
        for step, kind, data in todo:
            recorder.append(kind, step, data)
        recorder.close()

    workers = [fork.Process(target=record) for _ in range(procs)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    return events * procs / elapsed


def check(events: int) -> None:
    """Every event has its row and its line, and the two hold the same data."""
    import json

    from agents.models import Run, TraceEvent

    run = Run.objects.order_by("-pk").first()
    rows = {e.seq: e.data for e in TraceEvent.objects.filter(run=run)}
    lines = [json.loads(line) for line in Path(run.trace_path).read_text().splitlines()]
    assert len(rows) == len(lines) == events, (len(rows), len(lines), events)
    assert all(rows[e["seq"]] == e["data"] for e in lines)


def bench_one(db: str, events: int, threads: int, procs: int) -> None:
    from django.db import connection

    from agents.models import AgentConfig

    AgentConfig.objects.create(name="bench")
    measure(min(events, 2_000), 1, per_row=False)  # warm-up: imports, caches, the file system
    print(
        f"{db} ({connection.vendor}), {events:,} events per run, {len(step_events(1))} events a step, "
        f"events/s of 1 run / {threads} runs in threads of one process / {procs} processes, one run each:"
    )
    for per_row in (True, False):
        label = "row by row (before)" if per_row else "in batches (after) "
        n = events // 4 if per_row else events
        single = measure(n, 1, per_row=per_row)
        check(n)
        threaded = measure(n, threads, per_row=per_row)
        forked = measure_procs(n, procs, per_row=per_row)
        print(f"  {label}  {single:9,.0f}  {threaded:9,.0f}  {forked:9,.0f}")


def child(db: str, events: int, threads: int, procs: int) -> None:
    os.environ.update(SECRETS)
    name = ""
    if db == "postgres":
        import psycopg

        name = f"academy_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{PG}/{name}"
    try:
        setup_django("academy-trace-bench-", DEBUG="false")  # as in production: no query log
        bench_one(db, events, threads, procs)
    finally:
        if name:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000, help="events per run")
    parser.add_argument("--threads", type=int, default=2, help="runs recording at once in one process")
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 2, help="processes recording at once")
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    args = parser.parse_args()
    if args.db != "all":
        child(args.db, args.events, args.threads, args.procs)
        return
    for db in ("sqlite", "postgres"):  # one process each: Django is set up once per process
        argv = [
            sys.executable,
            __file__,
            "--db",
            db,
            "--events",
            str(args.events),
            "--threads",
            str(args.threads),
            "--procs",
            str(args.procs),
        ]
        if subprocess.run(argv, check=False).returncode:
            print(f"{db}: failed (see above)")


if __name__ == "__main__":
    main()
