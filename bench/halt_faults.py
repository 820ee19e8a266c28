"""Benchmark: a halt's time to an empty venue under the faults the runbook names (issue 12).

Starts the real paper venue, then for each scenario a child process of its own (its own data dir
and database) that rests N orders and calls halt(), R rounds. It times, from the call:
  sweep  = the venue's cancel-all returned (every resting order cancelled at the venue),
  call   = halt() returned (record landed, or parked in the halt slot when the database refused).
Scenarios:
  healthy         SQLite, nothing wrong
  sqlite_locked   another process holds SQLite's write lock for the whole run
  disk_full       data dir and SQLite on a 16 MiB tmpfs filled to the last byte (needs root)
  db_unreachable  DATABASE_URL points at a PostgreSQL port where nothing listens
After the rounds, each faulty scenario removes its fault and checks that the parked record lands.

    .venv/bin/python bench/halt_faults.py [--rounds 20] [--orders 100] [--only healthy,sqlite_locked]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ["healthy", "sqlite_locked", "disk_full", "db_unreachable"]
KEY = "halt-faults-key-0123456789"
MARKET = "halt-faults-market"


# --- the parent: one venue, one child per scenario ------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--venue", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.venue, args.rounds, args.orders)
        return
    sys.path.insert(0, str(ROOT))
    from paper_venue.faults import Faults
    from paper_venue.testing import running_venue

    with running_venue(Path(tempfile.mkdtemp(prefix="halt-faults-venue-")), VENUE_TICK_INTERVAL="0") as venue:
        faults = Faults(venue.url, venue.faults_token)
        faults.create_market(MARKET, title="Halt faults bench")
        faults.account("halt-faults", KEY, "100000000")
        for scenario in args.only.split(","):
            out = subprocess.run([sys.executable, __file__, "--child", scenario, "--venue", venue.url,
                                  "--rounds", str(args.rounds), "--orders", str(args.orders)],
                                 cwd=ROOT, capture_output=True, text=True, timeout=600)
            lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
            if out.returncode or not lines:
                print(f"{scenario}: FAILED\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
                continue
            report(json.loads(lines[-1]), args.orders)


def report(result: dict, orders: int) -> None:
    def stats(ms: list[float]) -> str:
        ordered = sorted(ms)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return f"median {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms"

    print(f"{result['scenario']:15s} {orders} resting orders, {len(result['sweep_ms'])} rounds: "
          f"venue empty {stats(result['sweep_ms'])}; halt() returned {stats(result['call_ms'])}; "
          f"recorded at once: {result['recorded_at_once']}/{len(result['sweep_ms'])}; "
          f"record landed after the fault: {result['landed_after']}")


# --- a child: one scenario -----------------------------------------------------------------------


def child(scenario: str, venue_url: str, rounds: int, orders: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"halt-faults-{scenario}-"))
    mounted = False
    if scenario == "disk_full":
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(data_dir)], check=True)
        mounted = True
    env = {"ACADEMY_DATA_DIR": str(data_dir), "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "academy.settings",
           "VENUE_URL": venue_url, "VENUE_API_KEY": KEY, "ALERT_SINKS": "log"}
    if scenario == "db_unreachable":
        env["DATABASE_URL"] = "postgres://academy@127.0.0.1:1/none"
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.CRITICAL)  # the halt path logs criticals by design; keep the bench output readable
    from django.core.management import call_command

    if scenario != "db_unreachable":
        call_command("migrate", verbosity=0)
    try:
        result = measure(scenario, data_dir, rounds, orders)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(data_dir)], check=False)
    print(json.dumps(result))


def measure(scenario: str, data_dir: Path, rounds: int, orders: int) -> dict:
    from agents.venue.client import HttpVenue
    from agents.venue.schemas import OrderStatus
    from monitoring.halt import halt

    client = HttpVenue(os.environ["VENUE_URL"], KEY, timeout=30)
    undo = start_fault(scenario, data_dir)
    sweep, call, at_once = [], [], 0
    for r in range(rounds):
        rest_orders(client, orders, r)
        timed = Timed(client)
        t0 = time.perf_counter()
        event = halt(reason=f"bench {scenario} round {r}", source="command", venue=timed)
        t1 = time.perf_counter()
        assert client.orders(status=OrderStatus.LIVE, limit=1) == [], "orders still rest after the halt"
        sweep.append((timed.swept_at - t0) * 1000)
        call.append((t1 - t0) * 1000)
        at_once += event.pk is not None
    undo()
    return {"scenario": scenario, "sweep_ms": sweep, "call_ms": call, "recorded_at_once": at_once,
            "landed_after": landed_after(scenario)}


def rest_orders(client, n: int, round_no: int) -> None:
    from agents.venue.schemas import OrderRequest

    for i in range(n):
        client.place(OrderRequest(market=MARKET, side="BUY", price=Decimal("0.100") + Decimal(i % 50) / 1000,
                                  size=Decimal("1"), client_order_id=f"hf-{os.getpid()}-{round_no}-{i}"))


class Timed:
    """The venue client, noting when cancel-all returned (the moment nothing rests any more)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.swept_at = 0.0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def cancel_all(self, market: str | None = None):
        result = self.inner.cancel_all(market)
        self.swept_at = time.perf_counter()
        return result


def start_fault(scenario: str, data_dir: Path):
    """Turn the scenario's fault on; return the function that turns it off."""
    if scenario == "sqlite_locked":
        from django.conf import settings

        code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
                "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()")
        locker = subprocess.Popen([sys.executable, "-c", code, settings.DATABASES["default"]["NAME"]],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert locker.stdout.readline().strip() == "locked"
        return lambda: locker.communicate("", timeout=10)
    if scenario == "disk_full":
        filler = data_dir / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        return filler.unlink
    return lambda: None


def landed_after(scenario: str) -> str:
    """With the fault gone: the parked records land (what the monitor's next flag tick does)."""
    if scenario in ("healthy", "db_unreachable"):
        return "n/a" if scenario == "healthy" else "not tried (no database to land in)"
    from django.db import connection

    from agents.core import haltslot
    from monitoring.halt import halt_requests_land, slot_file
    from monitoring.models import KillSwitch

    connection.close()
    halt_requests_land()
    waiting = len(haltslot.pending(slot_file()))
    return f"row active {KillSwitch.objects.get(pk=1).active}, {waiting} record(s) still waiting"


if __name__ == "__main__":
    main()
