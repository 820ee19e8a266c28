"""Fan-out of the live panel: N open panel websockets, time from halt() to the LAST one receiving it.

    .venv/bin/python bench/panel_fanout.py [--panels 100] [--rounds 20] [--redis redis://127.0.0.1:6379/9]

Starts a paper venue and a real daphne web process on a throw-away SQLite database (as in
tests/panel/server.py), logs N websockets in as one operator, then per round calls halt() in THIS
process (a separate process from the web server, like a worker tripping a threshold), and records
when each socket receives that halt event; resume() between rounds. The clock starts before halt()
(so the venue sweep and the commit are included) and stops at the last socket. Target p99 < 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--redis", default="", help="REDIS_URL for the web process (channels-redis layer)")
    args = parser.parse_args()
    from paper_venue.faults import Faults
    from paper_venue.testing import running_venue
    from tests.panel.server import PanelServer

    with tempfile.TemporaryDirectory(prefix="panel-bench-") as tmp, running_venue(Path(tmp) / "venue") as venue:
        key = "key-panel-bench-0123456789"
        Faults(venue.url, venue.faults_token).account("panel-bench", key, "10000")
        server = PanelServer.create(Path(tmp), venue_url=venue.url, venue_api_key=key, redis_url=args.redis,
                                    seed=False)
        try:
            _setup_django(server.env)
            results = asyncio.run(_bench(server.url, venue.url, key, args.panels, args.rounds))
        finally:
            server.stop()
    _report(results, args)


def _setup_django(env: dict[str, str]) -> None:
    """This process talks to the same database as the web process (it plays the worker)."""
    os.environ["LOG_LEVEL"] = "CRITICAL"  # the alerts each halt fires would drown the figures
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DEBUG", "ACADEMY_DATA_DIR", "VENUE_URL",
                                           "VENUE_API_KEY", "ALLOWED_HOSTS")})
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("bench", password="pw-bench")


async def _bench(url: str, venue_url: str, key: str, panels: int, rounds: int) -> dict[str, list[float]]:
    import websockets
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(_session_cookie)()
    arrivals: dict[int, list[float]] = {}
    ws_url = url.replace("http://", "ws://") + "/ws/panel/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": url}
    sockets = [await websockets.connect(ws_url, additional_headers=headers, max_size=None) for _ in range(panels)]
    readers = [asyncio.create_task(_read(ws, arrivals)) for ws in sockets]
    await asyncio.sleep(0.5)  # every socket has its connect snapshot
    out: dict[str, list[float]] = {"halt_to_last": [], "halt_to_first": [], "commit_to_last": []}
    rng = random.Random(7)
    for i in range(rounds):
        await asyncio.sleep(rng.uniform(0.05, 0.35))  # de-correlate the halt from the tailer's poll tick
        await _round(i, panels, arrivals, venue_url, key, out)
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    return out


async def _round(i: int, panels: int, arrivals: dict[int, list[float]], venue_url: str, key: str,
                 out: dict[str, list[float]]) -> None:
    """1. halt() and time its arrival at every socket; 2. resume() and wait for that too."""
    from asgiref.sync import sync_to_async

    from agents.venue.client import HttpVenue
    from monitoring.halt import halt, resume

    venue = HttpVenue(venue_url, key)
    start = time.perf_counter()
    event = await sync_to_async(halt)(reason=f"bench round {i}", source="command", venue=venue)
    committed = time.perf_counter()
    times = await _wait_all(arrivals, await sync_to_async(_outbox_id)(event), panels)
    out["halt_to_last"].append(max(times) - start)
    out["halt_to_first"].append(min(times) - start)
    out["commit_to_last"].append(max(times) - committed)
    resumed = await sync_to_async(resume)(actor=await sync_to_async(_bench_user)(), reason="bench", source="command")
    await _wait_all(arrivals, await sync_to_async(_outbox_id)(resumed), panels)
    venue.close()


def _outbox_id(event: Any) -> int:
    from monitoring.models import OutboxEvent

    rows = OutboxEvent.objects.filter(kind=event.action, payload__id=event.pk)
    return rows.order_by("-id").values_list("id", flat=True)[0]


async def _wait_all(arrivals: dict[int, list[float]], event_id: int, panels: int, timeout: float = 10.0) -> list[float]:
    """Wait until every panel has received outbox event `event_id`; return the arrival times."""
    deadline = time.perf_counter() + timeout
    while len(arrivals.get(event_id, [])) < panels:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{len(arrivals.get(event_id, []))} of {panels} panels got event {event_id}")
        await asyncio.sleep(0.002)
    return arrivals.pop(event_id)


async def _read(ws: Any, arrivals: dict[int, list[float]]) -> None:
    async for raw in ws:
        now = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") == "events":
            for event in message["events"]:
                if event["kind"] in ("halt", "resume"):
                    arrivals.setdefault(event["id"], []).append(now)


def _session_cookie() -> str:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return client.cookies["sessionid"].value


def _bench_user() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="bench")


def _report(results: dict[str, list[float]], args: argparse.Namespace) -> None:
    layer = f"channels-redis ({args.redis})" if args.redis else "in-memory channel layer"
    print(f"{args.panels} panels, {args.rounds} rounds, {layer}")
    for name, values in results.items():
        ms = sorted(v * 1000 for v in values)
        p99 = ms[max(0, math.ceil(0.99 * len(ms)) - 1)]
        print(f"  {name:15s} median {statistics.median(ms):7.1f} ms   p99 {p99:7.1f} ms   max {ms[-1]:7.1f} ms")


if __name__ == "__main__":
    main()
