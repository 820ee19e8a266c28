"""Cancel-all of 1,000 resting orders over REST (target < 100 ms): median and p99 over several rounds.

Run: .venv/bin/python bench/venue_cancel_all.py [--rounds 20] [--orders 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from paper_venue.faults import Faults
from paper_venue.testing import running_venue


def run(rounds: int, orders: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, running_venue(Path(tmp)) as venue:
        Faults(venue.url, venue.faults_token).create_market("bench-cancel")
        Faults(venue.url, venue.faults_token).account("bench", "bench-key-0123456789", "1000000000")
        timings = []
        with httpx.Client(base_url=venue.url, headers={"X-API-Key": "bench-key-0123456789"}) as http:
            for r in range(rounds):
                _fill_book(http, r, orders)
                started = time.perf_counter()
                response = http.delete("/paper/orders/all/bench-cancel")
                timings.append((time.perf_counter() - started) * 1000)
                assert len(response.json()["canceled"]) == orders, response.text
    timings.sort()
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    return {"rounds": rounds, "orders": orders, "median_ms": statistics.median(timings), "p99_ms": p99,
            "max_ms": timings[-1]}  # fmt: skip


def _fill_book(http: httpx.Client, round_no: int, orders: int) -> None:
    for i in range(orders):
        body = {"market": "bench-cancel", "side": "BUY", "price": f"0.{100 + i % 300}", "size": "1",
                "client_order_id": f"r{round_no}-{i}"}  # fmt: skip
        http.post("/paper/orders", json=body).raise_for_status()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    r = run(args.rounds, args.orders)
    print(
        f"venue cancel-all of {r['orders']} resting orders over REST, {r['rounds']} rounds: "
        f"median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms"
    )
