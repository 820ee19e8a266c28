"""Benchmark: halt latency, flag touched -> every one of 1,000 resting orders cancelled at the venue.

Starts the real paper venue and the real `manage.py monitor` process (the flag watcher) on a
fresh SQLite database, rests 1,000 orders, touches $ACADEMY_DATA_DIR/kill_switch.flag, and
polls the venue until no order rests. Also times a direct halt() call (the panel, admin and
command shapes) on the same 1,000 orders. Prints median and p99 over the rounds.

    .venv/bin/python bench/halt_latency.py [--rounds 20] [--orders 1000] [--flag-poll 0.2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal

from django_setup import ROOT, setup_django  # noqa: E402


def rest_orders(client, market: str, n: int, round_no: int) -> None:
    from agents.venue.schemas import OrderRequest

    for i in range(n):
        client.place(OrderRequest(market=market, side="BUY", price=Decimal("0.100") + Decimal(i % 50) / 1000,
                                  size=Decimal("1"), client_order_id=f"bench-{round_no}-{i}"))


from agents.venue.schemas import OrderStatus  # noqa: E402


def resting(client) -> int:
    return len(client.orders(status=OrderStatus.LIVE, limit=1))


def wait_until_clear(client, timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while resting(client):
        if time.perf_counter() - start > timeout:
            raise TimeoutError("orders still resting")
    return time.perf_counter()


def report(label: str, ms: list[float]) -> None:
    ordered = sorted(ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{label}: median {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms "
          f"({len(ordered)} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--flag-poll", default="0.2")
    args = parser.parse_args()
    data_dir = setup_django("academy-halt-bench-")
    from django.contrib.auth import get_user_model

    from agents.venue.client import HttpVenue
    from monitoring.halt import flag_path, halt, resume
    from paper_venue.faults import Faults
    from paper_venue.testing import running_venue

    operator = get_user_model().objects.create_superuser("bench", password="bench-pw-123")
    with running_venue(data_dir / "venue", VENUE_TICK_INTERVAL="0") as venue:
        faults = Faults(venue.url, venue.faults_token)
        faults.create_market("bench-market", title="Bench")
        faults.account("bencher", "bench-key-0123456789", "10000000")
        client = HttpVenue(venue.url, "bench-key-0123456789", timeout=30)
        env = {**os.environ, "VENUE_URL": venue.url, "VENUE_API_KEY": "bench-key-0123456789",
               "FLAG_POLL_S": args.flag_poll, "MONITOR_INTERVAL_S": "3600"}
        monitor = subprocess.Popen([sys.executable, "manage.py", "monitor"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(2)
            via_flag, direct = [], []
            for r in range(args.rounds):
                rest_orders(client, "bench-market", args.orders, r)
                t0 = time.perf_counter()
                flag_path().touch()
                via_flag.append((wait_until_clear(client) - t0) * 1000)
                time.sleep(0.3)  # let the watcher finish recording before resuming
                resume(actor=operator, reason="bench round")
            for r in range(args.rounds):
                rest_orders(client, "bench-market", args.orders, 1000 + r)
                t0 = time.perf_counter()
                event = halt(reason="bench", source="command", venue=client)
                done = time.perf_counter()
                assert event.orders_cancelled == args.orders and resting(client) == 0, event.errors
                direct.append((done - t0) * 1000)
                resume(actor=operator, reason="bench round")
        finally:
            monitor.terminate()
            monitor.wait(timeout=10)
    report(f"flag touched -> {args.orders} resting orders cancelled (monitor process, flag poll "
           f"{args.flag_poll} s)", via_flag)
    report(f"halt() call -> {args.orders} resting orders cancelled (in process)", direct)


if __name__ == "__main__":
    main()
