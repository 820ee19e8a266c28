"""Benchmark: N agents at one interval, the whole system as separate processes, for minutes.

The paper venue, the monitor, the dispatcher and the django-q2 workers run as `make run` (or a
deployment) runs them; the rules policy decides (no model). After a warm-up interval (the agents'
first slots), every 10 s it reads from the database: runs started, how late each started after its
slot (`started_at - scheduled_for`), runs waiting in the queue, slots passed over (coalesced), and
the monitor's own health-pass times (from its log). A fleet is sustained when it runs
N x 60 / interval runs a minute and the lateness does not grow from one minute to the next.

    .venv/bin/python bench/fleet.py --agents 1000 --backend pg --workers 8 --minutes 3
    .venv/bin/python bench/fleet.py --agents 200 --backend sqlite --workers 4

--backend sqlite is the embedded default (SQLite WAL, the ORM broker); pg is PostgreSQL at
127.0.0.1:5432 (a throwaway database) with Redis at 127.0.0.1:6379 (db 13, flushed).
--clusters C starts C qcluster processes of --workers each (several hosts' worth).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_DB = 13
SAMPLE_S = 10.0

CREATE_AGENTS = """
from agents.models import AgentConfig
AgentConfig.objects.bulk_create([AgentConfig(name=f"fleet-{{i}}", interval_s={interval},
    known_market_types=["crypto-hourly", "sports", "politics"], max_daily_notional=1000000,
    max_market_exposure=1000000, max_open_positions=1000) for i in range({n})])
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--workers", type=int, default=4, help="Q_WORKERS of each qcluster process")
    parser.add_argument("--clusters", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=3.0, help="measured, after one warm-up interval")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="academy-fleet-"))
    # DEBUG off as in production: with it on, Django keeps every query's SQL in memory (CPU per query).
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "false",
           "SECRET_KEY": "bench-only-" + uuid.uuid4().hex * 2,
           "ACADEMY_DATA_DIR": str(data_dir), "Q_WORKERS": str(args.workers), "PYTHONUNBUFFERED": "1",
           "ALERT_SINKS": "log"}
    db_name = None
    if args.backend == "pg":
        db_name = _pg_create()
        env |= {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}",
                "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}"}
        _redis_flush()
    from paper_venue.testing import start_venue

    venue = start_venue(data_dir / "venue", VENUE_TICK_INTERVAL="1")
    env |= {"VENUE_URL": venue.url, "VENUE_API_KEY": venue.api_key}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "shell", "--no-imports", "-c", CREATE_AGENTS.format(n=args.agents, interval=args.interval))
        procs["monitor"] = start(env, data_dir, "monitor", "monitor", "-v", "2")
        _wait_heartbeat(env)
        manage(env, "schedule_agents")
        procs["dispatch"] = start(env, data_dir, "dispatch", "dispatch")
        for c in range(args.clusters):
            procs[f"worker{c}"] = start(env, data_dir, f"worker{c}", "qcluster")
        os.environ.update(env)
        import django

        django.setup()
        report(args, data_dir, procs, venue.process.pid)
    finally:
        for proc in procs.values():
            _stop(proc)
        venue.stop()
        if db_name:
            _pg_drop(db_name)
            _redis_flush()


def report(args: argparse.Namespace, data_dir: Path, procs: dict[str, subprocess.Popen[bytes]],
           venue_pid: int) -> None:
    from django.db import connection
    from django.db.models import Count, Sum
    from django.utils import timezone

    from agents.dispatch import dispatch_lag
    from agents.models import AgentSchedule, Run

    expected = args.agents * 60 / args.interval
    print(f"{args.agents} agents every {args.interval} s ({expected:.0f} runs/min expected), {args.backend}, "
          f"{args.clusters} x {args.workers} workers; warming up {args.interval} s")
    time.sleep(args.interval)
    start = timezone.now()
    pids = {**{name: p.pid for name, p in procs.items()}, "venue": venue_pid, "postgres": _postgres_pid()}
    pids = {name: pid for name, pid in pids.items() if pid}
    cpu0 = {name: _cpu_s(pid) for name, pid in pids.items()}
    wall0 = time.monotonic()
    coalesced0 = AgentSchedule.objects.aggregate(c=Sum("coalesced"))["c"] or 0
    minutes = []
    end = time.monotonic() + args.minutes * 60
    window_start = start
    while time.monotonic() < end:
        time.sleep(min(60.0, end - time.monotonic()))
        now = timezone.now()
        runs = Run.objects.filter(started_at__gte=window_start, started_at__lt=now)
        lags = [(s - d).total_seconds() for s, d in runs.exclude(scheduled_for=None)
                .values_list("started_at", "scheduled_for")]
        statuses = dict(runs.values_list("status").annotate(n=Count("id")).order_by())
        coalesced = AgentSchedule.objects.aggregate(c=Sum("coalesced"))["c"] or 0
        queued = AgentSchedule.objects.exclude(queued_at=None).count()
        span = (now - window_start).total_seconds() / 60
        minutes.append({"runs_per_min": len(lags) / span, "lag": lags, "statuses": statuses,
                        "coalesced": coalesced - coalesced0, "queued": queued, "dispatch_lag": dispatch_lag(now)})
        coalesced0, window_start = coalesced, now
        m = minutes[-1]
        print(f"  minute {len(minutes)}: {m['runs_per_min']:.0f} runs/min, lateness p50 {_q(lags, .5):.2f} s "
              f"p95 {_q(lags, .95):.2f} s max {_q(lags, 1):.2f} s, {m['coalesced']} slots passed over, "
              f"{queued} waiting, dispatcher {m['dispatch_lag']:.1f} s behind, {statuses}")
    wall = time.monotonic() - wall0
    cpu = {name: (_cpu_s(pid) - cpu0[name]) / wall for name, pid in pids.items()}
    passes = _monitor_passes(data_dir / "monitor.log")
    print(f"sustained: {all(m['runs_per_min'] >= 0.97 * expected for m in minutes)} "
          f"(>= 97% of {expected:.0f} runs/min every minute); lateness p95 by minute: "
          f"{[round(_q(m['lag'], .95), 2) for m in minutes]} s; slots passed over: "
          f"{sum(m['coalesced'] for m in minutes)}")
    if passes:
        print(f"monitor health pass: median {statistics.median(passes):.0f} ms, max {max(passes):.0f} ms "
              f"over {len(passes)} passes ({max(passes) / 50:.1f}% of its 5 s interval at the worst)")
    print("CPU (cores, process and its children): " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    print(f"database: {connection.vendor}")


def _postgres_pid() -> int | None:
    """The PostgreSQL postmaster on this machine (its backends are its children), if it runs here."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = Path(entry, "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if cmd.endswith((b"/postgres", b"postmaster")):
                return int(entry.name)
    return None


def _q(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.5) - 1))]


def _monitor_passes(log: Path) -> list[float]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [float(m) for m in re.findall(r"health pass ([0-9.]+) ms", text)][2:]  # the first two warm caches


def _cpu_s(pid: int) -> float:
    """CPU seconds of a process and all its descendants, those already exited included (utime, stime and
    the reaped children's cutime, cstime, from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for child in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()
            total += sum(int(f) for f in fields[11:15]) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def _descendants(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(Path(entry, "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out += [int(entry.name), *_descendants(int(entry.name))]
    return out


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    if result.returncode:
        raise SystemExit(f"manage.py {args[0]} failed: {result.stderr[-2000:]}")
    return result.stdout


def start(env: dict[str, str], data_dir: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    log = open(data_dir / f"{name}.log", "wb")  # noqa: SIM115 (lives as long as the process)
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_heartbeat(env: dict[str, str]) -> None:
    code = ("from monitoring.models import MetricSample as M; "
            "print(M.objects.filter(name='kill_switch_active').exists())")
    for _ in range(120):
        if manage(env, "shell", "--no-imports", "-c", code).strip() == "True":
            return
        time.sleep(0.5)
    raise SystemExit("the monitor recorded no heartbeat")


def _pg_create() -> str:
    import psycopg

    name = f"academy_fleet_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _pg_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis_flush() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


if __name__ == "__main__":
    main()
