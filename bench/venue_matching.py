"""In-process matching throughput of the paper venue engine (orders/s), SQLite persistence included.

Run: .venv/bin/python bench/venue_matching.py [--orders 20000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from agents.venue.schemas import MarketStatus, OrderRequest, OrderType, Outcome, Side
from paper_venue.engine import AccountSpec, Engine, MarketState


def run(n: int, seed: int = 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        accounts = [AccountSpec(f"a{i}", f"key-{i}", Decimal(10**9)) for i in range(4)]
        engine = Engine(str(Path(tmp) / "bench.sqlite3"), accounts=accounts, demo_markets=False)
        engine.create_market(
            MarketState("b", "bench", "", "", "", MarketStatus.OPEN, time.time() + 3600, simulated=False)
        )
        rng = random.Random(seed)
        requests = [_random_order(rng, i) for i in range(n)]
        started = time.perf_counter()
        fills = 0
        for i, req in enumerate(requests):
            fills += len(engine.place(f"a{i % 4}", req).fills)
        elapsed = time.perf_counter() - started
        engine.close()
    return {"orders": n, "seconds": elapsed, "orders_per_s": n / elapsed, "fills": fills}


def _random_order(rng: random.Random, i: int) -> OrderRequest:
    """Limit orders around 0.5, YES and NO, a fifth of them marketable FAKs."""
    price = Decimal(rng.randint(480, 520)).scaleb(-3)
    return OrderRequest(
        market="b",
        side=Side.BUY,
        outcome=rng.choice((Outcome.YES, Outcome.NO)),
        price=price,
        size=Decimal(rng.randint(1, 50)),
        order_type=OrderType.FAK if rng.random() < 0.2 else OrderType.GTC,
        client_order_id=f"c{i}",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20000)
    result = run(parser.parse_args().orders)
    print(
        f"venue matching (in-process, SQLite WAL): {result['orders']} orders in {result['seconds']:.2f} s = "
        f"{result['orders_per_s']:.0f} orders/s, {result['fills']} fills"
    )
