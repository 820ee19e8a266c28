"""Orders per second over REST on loopback against the real venue process.

Run: .venv/bin/python bench/venue_rest.py [--orders 3000] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from paper_venue.faults import Faults
from paper_venue.testing import running_venue


def run(n: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, running_venue(Path(tmp)) as venue:
        faults = Faults(venue.url, venue.faults_token)
        faults.create_market("bench-rest")
        for i in range(concurrency):
            faults.account(f"bench{i}", f"bench-key-{i}-0123456789", "1000000000")
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            done = sum(pool.map(lambda w: _worker(venue.url, w, n // concurrency), range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"orders": done, "seconds": elapsed, "orders_per_s": done / elapsed, "concurrency": concurrency}


def _worker(url: str, worker: int, count: int) -> int:
    headers = {"X-API-Key": f"bench-key-{worker}-0123456789"}
    with httpx.Client(base_url=url, headers=headers) as http:
        for i in range(count):
            outcome = "YES" if i % 2 else "NO"
            price = f"0.{480 + (i * 7) % 40}"
            body = {"market": "bench-rest", "side": "BUY", "outcome": outcome, "price": price, "size": "1",
                    "client_order_id": f"w{worker}-{i}"}  # fmt: skip
            response = http.post("/paper/orders", json=body)
            response.raise_for_status()
    return count


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    r = run(args.orders, args.concurrency)
    print(
        f"venue REST (loopback, {r['concurrency']} client(s)): {r['orders']} orders in {r['seconds']:.2f} s = "
        f"{r['orders_per_s']:.0f} orders/s"
    )
