"""SIGKILL a real run at every trace point, then run the agent again (issue 12, item 3).

A driver process (tests/agents/crash_driver.py) forks one real run per command against this
test's database file, data dir and a venue process of the test's own; the run kills itself right
before or right after its Nth trace event. The next run must take the agent at once (the dead
holder was on this host), mark the crashed run, reconcile its orders by client order id and go on:
zero duplicates and zero unknown orders at the venue, zero runs left `running`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from agents.models import AgentLease, Order, OrderStatus, Run, RunStatus, TraceEvent, TraceKind
from agents.venue.client import HttpVenue
from agents.venue.schemas import OrderRequest, Outcome, Side
from monitoring.management.commands.monitor import housekeeping
from monitoring.models import OutboxEvent
from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue, running_venue
from tests.factories import AgentConfigFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.fault]

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("crash_driver.py")
MARKETS = 2
# Longer than the whole test: a next run that is not skipped took the dead holder's lease at once.
LONG_TTL = "600"


@dataclass
class Desk:
    """The driver process, the test's venue and its markets; one fresh agent and account per round."""

    driver: subprocess.Popen
    venue_url: str
    faults: Faults
    clients: list[HttpVenue]

    def send(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.driver.stdin and self.driver.stdout
        self.driver.stdin.write(json.dumps(command) + "\n")
        self.driver.stdin.flush()
        line = self.driver.stdout.readline()
        assert line, "the crash driver died"
        return json.loads(line)

    def account(self) -> HttpVenue:
        name = f"crash-{len(self.clients)}"  # the venue outlives each test: names stay unique per module
        key = f"key-{name}-0123456789abcdef"
        self.faults.account(name, key, "1000")
        client = HttpVenue(self.venue_url, key)
        client.api_key = key  # type: ignore[attr-defined]
        self.clients.append(client)
        return client

    def run(self, agent_id: int, client: HttpVenue, kill: dict[str, Any] | None = None,
            **overrides: Any) -> dict[str, Any]:
        return self.send({"agent_id": agent_id, "api_key": client.api_key, "kill": kill,  # type: ignore[attr-defined]
                          "settings": overrides})


@pytest.fixture(scope="module")
def desk(django_db_setup, tmp_path_factory) -> Iterator[Desk]:
    """One venue process and one driver for the module (tests flush the database, not these)."""
    with running_venue(tmp_path_factory.mktemp("crash-venue"), VENUE_SEED="11") as running:
        faults = Faults(running.url, running.faults_token)
        open_our_markets(running, faults)
        driver = start_driver(running.url)
        d = Desk(driver, running.url, faults, [])
        yield d
        driver.stdin.close()  # type: ignore[union-attr]
        driver.wait(timeout=20)
        for client in d.clients:
            client.close()
        faults.close()


def open_our_markets(running: RunningVenue, faults: Faults) -> None:
    """Only our markets are open (the rules policy quotes every one), each with a wide spread."""
    with HttpVenue(running.url, running.api_key) as demo:
        for market in demo.markets():
            faults.close_market(market.slug)
    maker_key = "key-crash-maker-0123456789abcdef"
    faults.account("crash-maker", maker_key, "100000")
    with HttpVenue(running.url, maker_key) as maker:
        for i in range(MARKETS):
            slug = f"crash-market-{i}"
            faults.create_market(slug, title=f"Crash {i}")
            # 0.400 / 0.600: every round's BUY one tick over the bid still fits inside the spread.
            for outcome in (Outcome.YES, Outcome.NO):
                maker.place(OrderRequest(market=slug, side=Side.BUY, outcome=outcome, price=Decimal("0.400"),
                                         size=Decimal("50"), client_order_id=f"maker-{slug}-{outcome.value}"))


def start_driver(venue_url: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true", "PYTHONUNBUFFERED": "1",
           "ACADEMY_DATA_DIR": str(django_settings.DATA_DIR), "VENUE_URL": venue_url,
           "VENUE_API_KEY": "set-per-command", "REQUIRE_MONITOR_HEARTBEAT": "false", "AGENT_LEASE_TTL_S": LONG_TTL,
           "DATABASE_URL": f"sqlite:///{django_settings.DATABASES['default']['NAME']}"}
    driver = subprocess.Popen([sys.executable, str(DRIVER)], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert driver.stdout is not None
    assert "ready" in json.loads(driver.stdout.readline())
    return driver


def new_agent() -> Any:
    return AgentConfigFactory(known_market_types=["test"])


def assert_desk_consistent(agent: Any, client: HttpVenue) -> None:
    """Zero duplicates, zero unknown orders, every row as the venue has it, no run left running."""
    at_venue = client.orders()
    cids = [o.client_order_id for o in at_venue]
    assert len(cids) == len(set(cids)), f"duplicate client order ids at the venue: {cids}"
    rows = {o.client_order_id: o for o in Order.objects.filter(agent=agent)}
    assert set(cids) <= set(rows), f"orders at the venue unknown to us: {set(cids) - set(rows)}"
    by_cid = {o.client_order_id: o for o in at_venue}
    for cid, row in rows.items():
        found = by_cid.get(cid)
        if row.status == OrderStatus.REJECTED:
            assert found is None, f"{cid}: rejected here, at the venue as {found}"
            continue
        assert found is not None and row.status == found.status.value.lower(), (cid, row.status, found)
        assert (row.venue_order_id, row.market, row.side, row.price, row.size) == (
            found.id, found.market, found.side.value, found.price, found.size)
    live = [o.market for o in at_venue if o.status.value == "LIVE"]
    assert len(live) == len(set(live)), f"more than one quote per market after the crash: {live}"
    assert not Run.objects.filter(status=RunStatus.RUNNING).exists()


def assert_recovered(agent: Any, crash: dict[str, Any], after: Run) -> None:
    """The next run ran (not skipped), took the dead holder's lease, marked the crashed run."""
    assert after.status == RunStatus.COMPLETED, (after.status, after.end_reason)
    crashed = Run.objects.filter(agent=agent).exclude(pk=after.pk)
    recovery = TraceEvent.objects.filter(run=after, kind=TraceKind.RECOVERY).first()
    assert recovery is not None, "the next run did not recover"
    assert f":{crash['pid']}:" in recovery.data["lease_taken_from"]
    for run in crashed:
        assert run.status == RunStatus.ERROR and run.end_reason.startswith("crashed:"), (run.pk, run.end_reason)
        assert run.pk in recovery.data["crashed_runs"]


def round_trip(desk: Desk, kill: dict[str, Any] | None) -> tuple[Any, HttpVenue, dict[str, Any], Run]:
    """One fresh agent and account: a run killed at `kill`, then the next run; both real processes."""
    agent, client = new_agent(), desk.account()
    crash = desk.run(agent.pk, client, kill)
    after = desk.run(agent.pk, client)
    assert (after["signal"], after["exit"]) == (None, 0), after
    return agent, client, crash, Run.objects.filter(agent=agent).order_by("-pk").first()


@pytest.mark.parametrize("when", ["before", "after"])
def test_it_recovers_from_a_sigkill_at_every_trace_point_of_a_run(desk, when):
    agent, client = new_agent(), desk.account()
    assert desk.run(agent.pk, client)["exit"] == 0  # a typical run, untouched: count its trace points
    typical = Run.objects.get(agent=agent)
    events = TraceEvent.objects.filter(run=typical).count()
    assert typical.status == RunStatus.COMPLETED and Order.objects.filter(agent=agent, status="live").count() == MARKETS
    points = range(1, events + 1)
    for n in points:
        agent, client, crash, after = round_trip(desk, {"at": "trace_append", "n": n, "when": when})
        assert crash["signal"] == signal.SIGKILL, (n, when, crash)
        assert_recovered(agent, crash, after)
        assert_desk_consistent(agent, client)
    print(f"killed {when} each of the {events} trace events of a run placing {MARKETS} orders")


def test_it_recovers_a_run_killed_between_its_row_and_the_state_file(desk):
    """The state file never heard of the crashed run: its Run row alone says it was running."""
    agent, client, crash, after = round_trip(desk, {"at": "mark_run_started", "n": 1, "when": "before"})
    assert crash["signal"] == signal.SIGKILL
    assert_recovered(agent, crash, after)
    assert_desk_consistent(agent, client)


def test_it_lets_another_host_take_over_one_ttl_after_the_crash(desk):
    """Off this host the pid means nothing: the lease lapses a TTL after the last heartbeat."""
    agent, client = new_agent(), desk.account()
    # Before the 23rd event, the second order_placed: that order is at the venue, its row still `sent`.
    crash = desk.run(agent.pk, client, {"at": "trace_append", "n": 23, "when": "before"}, AGENT_LEASE_TTL_S=2)
    assert crash["signal"] == signal.SIGKILL
    lease = AgentLease.objects.get(agent=agent)
    assert lease.expires_at <= timezone.now() + timedelta(seconds=2)  # not minutes: one TTL at most
    AgentLease.objects.filter(agent=agent).update(holder="other-host:" + lease.holder.split(":", 1)[1])
    wait_until(lambda: AgentLease.objects.get(agent=agent).expires_at < timezone.now(), timeout=5)
    after = desk.run(agent.pk, client, AGENT_LEASE_TTL_S=2)
    assert after["exit"] == 0
    run = Run.objects.filter(agent=agent).order_by("-pk").first()
    assert run.status == RunStatus.COMPLETED
    recovery = TraceEvent.objects.get(run=run, kind=TraceKind.RECOVERY)
    assert recovery.data["lease_taken_from"] == ""  # expired, not taken from a dead local pid
    assert set(recovery.data["orders"].values()) == {"LIVE"}  # both of the crashed run's orders, reconciled
    assert_desk_consistent(agent, client)


def test_it_sweeps_a_dead_run_from_the_monitor_when_no_next_run_comes(desk):
    """Housekeeping marks a run crashed once its lease lapsed; a run whose lease is alive stays."""
    held, lapsed = new_agent(), new_agent()
    kill = {"at": "mark_run_started", "n": 1, "when": "before"}
    assert desk.run(held.pk, desk.account(), kill)["signal"] == signal.SIGKILL  # lease TTL: 600 s
    assert desk.run(lapsed.pk, desk.account(), kill, AGENT_LEASE_TTL_S=2)["signal"] == signal.SIGKILL
    wait_until(lambda: AgentLease.objects.get(agent=lapsed).expires_at < timezone.now(), timeout=5)
    housekeeping()
    dead, alive = Run.objects.get(agent=lapsed), Run.objects.get(agent=held)
    assert dead.status == RunStatus.ERROR and "process is gone" in dead.end_reason and dead.ended_at
    assert alive.status == RunStatus.RUNNING  # its lease has not lapsed: as far as anyone knows, it runs
    ended = OutboxEvent.objects.filter(kind="run_end").values_list("payload", flat=True)
    assert [(e["run"], e["status"]) for e in ended] == [(dead.pk, RunStatus.ERROR)]  # the panels are told


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
