"""The fleet on the scaled setup (issue 15): PostgreSQL + Redis, 4 worker processes (`manage.py qcluster`,
one worker each), 2 web processes (daphne), the dispatcher and the monitor; 12 agents every 5 s, the
agent lease at 3 s.

One scenario on one set of processes:
1. every worker runs agents;
2. a pause saved on web process 1 stops the runs of every worker, and no order is placed after it;
   a resume saved on web process 2 lets every agent complete runs again;
3. a worker killed mid-run (SIGKILL to its whole process group) has its agent run by another worker
   within the lease time, its run is recorded as crashed, and the other 3 workers keep running every agent;
4. over all of it, no agent ran twice at once: per agent the runs do not overlap, their fencing tokens
   grow, and every order in the venue's log was placed inside the run that journaled it.

The test reads the database directly (psycopg): a `manage.py shell` per poll would take seconds each.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg
import pytest
import redis

from agents.venue.schemas import Order as VenueOrder
from paper_venue.faults import Faults
from paper_venue.testing import free_port

from .test_scaled import ROOT, manage, scaled_env, shell  # noqa: F401  (scaled_env is the fixture)

pytestmark = [pytest.mark.scaled, pytest.mark.fault, pytest.mark.timeout(300)]

AGENTS = 12
WORKERS = 4
LEASE_TTL_S = 3
TICK_S = 1.0  # DISPATCH_TICK_S: how often the dispatcher looks for a lapsed lease
PICKUP_S = 2.0  # broker pop, the worker's task start, the lock, the lease and the Run row, on a busy 2-CPU host
GRACE_S = 3.0  # a run past its last stop check when the pause lands may still finish (and place one order)
SURVIVORS_S = 30  # six intervals: every agent runs again on the other workers well within it
SLOW_MS = 250  # venue latency per request while a worker is killed: a run then lasts a few seconds
PASSWORD = "pw-desk-fleet-123456"
MARKET_TYPES = ["crypto-hourly", "sports", "politics"]  # the rules policy trades these
QUEUE_KEY = "django_q:academy:q"  # django-q2's Redis list for the cluster named "academy"

T = TypeVar("T")


@dataclass(frozen=True)
class RunRow:
    id: int
    agent: int
    status: str
    started: datetime
    ended: datetime | None
    worker: str
    token: int | None
    reason: str

    @property
    def pid(self) -> int:
        """The worker process's pid, from the lease holder id host:pid:nonce."""
        parts = self.worker.rsplit(":", 2)
        return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0


@dataclass(frozen=True)
class Kill:
    cluster: int
    at: datetime
    runs: list[RunRow]  # the runs its worker was in when it died


class Fleet:
    """The processes of one deployment, their logs, and the database they share."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.clusters: dict[int, str] = {}  # a qcluster's pid (its process group and session) -> its name
        self.cluster_of: dict[int, int] = {}  # a worker's pid -> its qcluster's pid, learned while it lives
        self.db = psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://"), autocommit=True)

    def start(self, name: str, args: list[str], *, session: bool = False) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=session
        )
        self.procs[name] = proc
        return proc

    def start_cluster(self, name: str) -> None:
        # Its own session: os.killpg on its pid takes the sentinel, pusher, monitor and worker with it, and
        # a worker's session id (/proc/<pid>/stat) names its cluster without walking the ppid chain.
        proc = self.start(name, [sys.executable, "manage.py", "qcluster"], session=True)
        self.clusters[proc.pid] = name

    def runs(self) -> list[RunRow]:
        rows = self.db.execute(
            "SELECT id, agent_id, status, started_at, ended_at, worker, lease_token, end_reason "
            "FROM agents_run ORDER BY started_at, id"
        ).fetchall()
        runs = [RunRow(*row) for row in rows]
        for run in runs:
            if run.pid and run.pid not in self.cluster_of and _session(run.pid) in self.clusters:
                self.cluster_of[run.pid] = _session(run.pid)
        return runs

    def cluster(self, run: RunRow) -> int | None:
        return self.cluster_of.get(run.pid)

    def stop(self) -> None:
        """SIGTERM everything, then SIGKILL what is still up (a cluster's whole group)."""
        for pid in self.clusters:
            _signal_group(pid, signal.SIGTERM)
        for proc in self.procs.values():
            if proc.pid not in self.clusters and proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for pid in self.clusters:
            _signal_group(pid, signal.SIGKILL)  # a worker left behind by its sentinel
        self.db.close()

    def tails(self, chars: int = 2500) -> str:
        return "\n".join(
            f"--- {name} ---\n{(self.logs / f'{name}.log').read_text(errors='replace')[-chars:]}" for name in self.procs
        )


def _session(pid: int) -> int | None:
    """The session id of a live process (field 6 of /proc/<pid>/stat), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[3])


def _members(session: int) -> set[int]:
    """Every live process of a session."""
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _session(int(p.name)) == session}


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _now() -> datetime:
    return datetime.now(UTC)


def _note(message: str) -> None:
    """Progress, shown with the logs when the test fails (and with -s)."""
    print(f"{_now():%H:%M:%S.%f} {message}")


def _wait(what: str, check: Callable[[], T | None], timeout: float, every: float = 0.3) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            _note(what)
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s in vain until {what}")
        time.sleep(every)


def _web(port: int) -> httpx.Client:
    """A browser on one web process, logged in as the desk's superuser."""
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20)
    _wait(f"web process :{port} answers", lambda: _answers(client), 60)
    form = client.get("/accounts/login/")
    done = client.post(
        "/accounts/login/", data={"username": "desk", "password": PASSWORD, "csrfmiddlewaretoken": _csrf(form.text)}
    )
    assert done.status_code == 302, done.text[-2000:]
    return client


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/accounts/login/").status_code == 200
    except httpx.TransportError:
        return False


def _csrf(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, page[-2000:]
    return found.group(1)


def _save_override(client: httpx.Client, document: dict[str, object]) -> datetime:
    """Save the desk override through the editor, as an operator does; return when it was in force."""
    page = client.get("/agents/override.json")
    assert page.status_code == 200, page.text[-2000:]
    based_on = re.search(r'name="based_on" value="(\d*)"', page.text)  # the row the form shows
    assert based_on, page.text[-2000:]
    saved = client.post("/agents/override.json", data={
        "document": json.dumps(document), "csrfmiddlewaretoken": _csrf(page.text), "based_on": based_on.group(1)})
    assert saved.status_code == 302, saved.text[-2000:]  # the row is committed before the redirect
    return _now()


def _start(fleet: Fleet) -> tuple[httpx.Client, httpx.Client]:
    daphne = str(Path(sys.executable).parent / "daphne")
    fleet.start("monitor", [sys.executable, "manage.py", "monitor"])
    fleet.start("dispatch", [sys.executable, "manage.py", "dispatch"])
    for i in range(WORKERS):
        fleet.start_cluster(f"worker-{i + 1}")
    ports = [free_port(), free_port()]
    for i, port in enumerate(ports):
        fleet.start(f"web-{i + 1}", [daphne, "-b", "127.0.0.1", "-p", str(port), "academy.asgi:application"])
    return _web(ports[0]), _web(ports[1])


def _every_worker_runs(fleet: Fleet) -> None:
    def covered() -> bool:
        return {fleet.cluster(r) for r in fleet.runs() if r.status == "completed"} >= set(fleet.clusters)

    _wait("completed runs come from all 4 workers", covered, 90)


def _pause_stops_every_worker(fleet: Fleet, web: httpx.Client, venue_orders: Callable[[], list[VenueOrder]]) -> None:
    """A pause saved on one web process: every run that starts after it (and a grace) ends paused, on
    every worker, and no order is journaled or reaches the venue after it."""
    cutoff = _save_override(web, {"pause": True, "note": "fleet drill: paused from web process 1"}) + timedelta(
        seconds=GRACE_S
    )

    def paused_on_every_worker() -> datetime | None:
        after = [r for r in fleet.runs() if r.started > cutoff and r.ended is not None and r.status != "skipped"]
        return _now() if {fleet.cluster(r) for r in after} >= set(fleet.clusters) else None

    seen = _wait("runs after the pause ended on all 4 workers", paused_on_every_worker, 60)

    def settled() -> list[RunRow] | None:  # every run started by then has ended
        after = [r for r in fleet.runs() if cutoff < r.started <= seen and r.status != "skipped"]
        return after if all(r.ended for r in after) else None

    after = _wait("the runs started during the pause ended", settled, 30)
    _note(
        f"pause: {len(after)} runs started after it and its grace, on workers "
        f"{sorted(str(fleet.cluster(r)) for r in after)}"
    )
    wrong = [(r.id, r.agent, r.status, r.reason[:120]) for r in after if r.status != "paused"]
    assert not wrong, f"runs started {GRACE_S} s after the pause did not end paused: {wrong}"
    journaled = fleet.db.execute(
        "SELECT client_order_id, created_at, run_id FROM agents_order WHERE created_at > %s", [cutoff]
    ).fetchall()
    assert journaled == [], f"orders journaled during the pause: {journaled}"
    placed = [(o.client_order_id, o.created_at) for o in venue_orders() if o.created_at > cutoff]
    assert placed == [], f"orders reached the venue during the pause: {placed}"


def _resume_lets_every_agent_trade(fleet: Fleet, web: httpx.Client) -> None:
    resumed = _save_override(web, {"pause": False, "note": "fleet drill: resumed from web process 2"})

    def every_agent_completes() -> bool:
        return len({r.agent for r in fleet.runs() if r.started > resumed and r.status == "completed"}) == AGENTS

    try:
        _wait("every agent completed a run after the resume", every_agent_completes, 60)
    except AssertionError as exc:
        since = [(r.id, r.agent, r.status, r.reason[:100]) for r in fleet.runs() if r.started > resumed]
        raise AssertionError(f"{exc}; the runs since the resume: {since}") from None


def _kill_a_busy_worker(fleet: Fleet, faults: Faults) -> Kill:
    """Slow the venue so runs last seconds, SIGKILL the cluster of a run under way, undo the slowness."""
    faults.latency(SLOW_MS)
    slow_from = _now()

    def young_run() -> RunRow | None:
        now = _now()
        running = [
            r
            for r in fleet.runs()
            if r.status == "running"
            and r.started > slow_from
            and timedelta(seconds=1.5) < now - r.started < timedelta(seconds=2.5)
            and fleet.cluster(r)
        ]
        return running[-1] if running else None

    try:
        victim = _wait("a slow run is under way", young_run, 30, every=0.1)
        cluster = fleet.cluster(victim)
        assert cluster is not None
        pids = _members(cluster)
        os.killpg(cluster, signal.SIGKILL)
        at = _now()
    finally:
        faults.latency(0)
    fleet.procs[fleet.clusters[cluster]].wait(timeout=10)
    killed = [r for r in fleet.runs() if r.pid in pids and r.started < at and (r.ended is None or r.ended > at)]
    assert killed, f"the kill missed: run {victim.id} had ended and its worker was idle"
    _note(f"killed {fleet.clusters[cluster]} (pid {cluster}) in runs {[(r.id, r.agent) for r in killed]}")
    return Kill(cluster, at, killed)


def _killed_agents_run_elsewhere(fleet: Fleet, kill: Kill, env: dict[str, str]) -> None:
    """The dead worker's agent runs on another worker within TTL + one dispatcher tick + pick-up: its lease
    lapses at most one TTL after the kill (the last renewal was before it), the dispatcher sees the lapse
    at its next tick and enqueues a recovery run at once, and an idle worker pops it. (Its next slot, when
    sooner, starts it earlier: the new run's flock is free and its lease's dead local holder is taken over.)"""
    bound = timedelta(seconds=LEASE_TTL_S + TICK_S + PICKUP_S)
    for crashed in kill.runs:

        def successor(agent: int = crashed.agent) -> RunRow | None:
            later = [r for r in fleet.runs() if r.agent == agent and r.started > kill.at and r.status != "skipped"]
            return later[0] if later else None

        try:
            after = _wait(f"agent {crashed.agent} runs again", successor, 30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {_schedule_evidence(fleet, env, [crashed.agent])}") from None
        assert fleet.cluster(after) not in (None, kill.cluster), after
        assert after.started - kill.at <= bound, (
            f"agent {crashed.agent}'s next run {after.id} started {after.started - kill.at} after the kill; "
            f"bound {bound}: {_schedule_evidence(fleet, env, [crashed.agent])}"
        )

        def marked(run_id: int = crashed.id) -> RunRow | None:
            row = next(r for r in fleet.runs() if r.id == run_id)
            return row if row.status != "running" else None

        _note(
            f"agent {crashed.agent}: run {after.id} on {fleet.clusters.get(fleet.cluster(after) or 0)} "
            f"{(after.started - kill.at).total_seconds():.2f} s after the kill"
        )
        row = _wait(f"run {crashed.id} is recorded as ended", marked, 30)
        _note(f"run {crashed.id}: {row.status} {row.reason[:100]!r}")
        assert row.status == "error" and "crashed" in row.reason, row


def _survivors_run_every_agent(fleet: Fleet, kill: Kill, env: dict[str, str]) -> None:
    """Within SURVIVORS_S of the kill the 3 other workers complete a run of every agent: also of those whose
    next run the dead cluster had already taken from the broker (its pusher holds up to 2 tasks ahead of
    its worker), which would otherwise wait for the dispatcher's stale-queue bound (QUEUED_STALE_MIN_S, 300 s)."""
    survivors = set(fleet.clusters) - {kill.cluster}

    def every_agent() -> list[RunRow] | None:
        done = [r for r in fleet.runs() if r.started > kill.at and r.status == "completed"]
        ok = len({r.agent for r in done}) == AGENTS and {fleet.cluster(r) for r in done} >= survivors
        return done if ok else None

    try:
        done = _wait("the 3 other workers completed a run of every agent after the kill", every_agent, SURVIVORS_S)
    except AssertionError as exc:
        ran = {r.agent for r in fleet.runs() if r.started > kill.at and r.status == "completed"}
        idle = sorted(set(_agent_ids(fleet)) - ran)
        raise AssertionError(
            f"{exc}; agents with no completed run since the kill: {_schedule_evidence(fleet, env, idle)}"
        ) from None
    first = {r.agent: r.started for r in reversed(done)}
    _note(f"every agent ran again, the last {max(first.values()) - kill.at} after the kill")


def _agent_ids(fleet: Fleet) -> list[int]:
    return [row[0] for row in fleet.db.execute("SELECT id FROM agents_agentconfig ORDER BY id").fetchall()]


def _schedule_evidence(fleet: Fleet, env: dict[str, str], agents: list[int]) -> str:
    """What the dispatcher thinks of these agents, their leases, and the broker's queue depth."""
    rows = fleet.db.execute(
        "SELECT s.agent_id, s.next_due, s.queued_at, s.coalesced, l.holder, l.token, l.expires_at, now() "
        "FROM agents_agentschedule s LEFT JOIN agents_agentlease l ON l.agent_id = s.agent_id "
        "WHERE s.agent_id = ANY(%s)",
        [agents],
    ).fetchall()
    depth = redis.Redis.from_url(env["REDIS_URL"]).llen(QUEUE_KEY)
    return f"schedule/lease rows {rows}; broker queue depth {depth}"


def _one_run_at_a_time(fleet: Fleet, kill: Kill, venue_orders: Callable[[], list[VenueOrder]]) -> int:
    """Per agent: run intervals never overlap, tokens grow with start times, each order in the venue's log
    (and its journal row) lies inside the run that placed it; one lease row per agent, its token at least
    its runs. A killed run's interval ends at the kill (recovery writes its ended_at later)."""
    runs = [r for r in fleet.runs() if r.status != "skipped"]
    killed = {r.id for r in kill.runs}
    far = _now() + timedelta(days=1)

    def end(run: RunRow) -> datetime:
        return kill.at if run.id in killed else run.ended or far

    for agent in _agent_ids(fleet):
        mine = [r for r in runs if r.agent == agent]
        for before, after in zip(mine, mine[1:], strict=False):
            assert end(before) <= after.started, f"agent {agent}: runs {before} and {after} overlap"
            assert before.token is not None and after.token is not None and before.token < after.token, (
                f"agent {agent}: fencing tokens do not grow: {before} then {after}"
            )
    by_id = {r.id: r for r in runs}
    journal = {
        cid: (run_id, created)
        for cid, run_id, created in fleet.db.execute(
            "SELECT client_order_id, run_id, created_at FROM agents_order"
        ).fetchall()
    }
    orders = venue_orders()
    for order in orders:
        assert order.client_order_id in journal, f"venue order {order} has no journal row"
        run_id, journaled = journal[order.client_order_id]
        run = by_id[run_id]
        assert run.started <= journaled <= order.created_at <= end(run), (
            f"order {order.client_order_id} (journaled {journaled}, at the venue {order.created_at}) "
            f"lies outside its run {run}"
        )
    leases = dict(fleet.db.execute("SELECT agent_id, token FROM agents_agentlease").fetchall())
    assert sorted(leases) == _agent_ids(fleet)
    for agent, token in leases.items():
        assert token >= len([r for r in runs if r.agent == agent]), (agent, token)
    _note(f"{len(runs)} runs, {len(orders)} venue orders checked")
    return len(orders)


def test_it_pauses_recovers_and_runs_each_agent_once_at_a_time(scaled_env, fresh_venue, tmp_path):  # noqa: F811
    venue, client = fresh_venue
    env = {**scaled_env, "AGENT_LEASE_TTL_S": str(LEASE_TTL_S), "Q_WORKERS": "1"}
    shell(
        env,
        "from agents.models import AgentConfig as A; from django.contrib.auth import get_user_model as g; "
        f"[A.objects.create(name=f'fleet-{{i}}', interval_s=5, known_market_types={MARKET_TYPES!r}) "
        f"for i in range({AGENTS})]; g().objects.create_superuser('desk', password='{PASSWORD}')",
    )
    manage(env, "schedule_agents")
    faults = Faults(venue.url, venue.faults_token)
    fleet = Fleet(env, tmp_path)
    webs: tuple[httpx.Client, ...] = ()

    def venue_orders() -> list[VenueOrder]:
        return client.orders(limit=5000)

    try:
        webs = _start(fleet)
        web1, web2 = webs
        _every_worker_runs(fleet)
        _pause_stops_every_worker(fleet, web1, venue_orders)
        _resume_lets_every_agent_trade(fleet, web2)
        kill = _kill_a_busy_worker(fleet, faults)
        _killed_agents_run_elsewhere(fleet, kill, env)
        _survivors_run_every_agent(fleet, kill, env)
        orders = _one_run_at_a_time(fleet, kill, venue_orders)
        assert orders > 0  # the venue's log had something to check
    except BaseException:
        print(fleet.tails())
        raise
    finally:
        fleet.stop()
        faults.close()
        for web in webs:
            web.close()
