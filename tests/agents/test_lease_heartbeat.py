"""The short agent lease: kept alive by a heartbeat, never resurrected, taken at once from a dead
process of this host (issue 12, item 3)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.core.policies import ScriptedPolicy
from agents.core.state import AgentLock, agents_dir
from agents.lease import LeaseHeartbeat, lease_claim, lease_lost, lease_renew, pid_alive
from agents.models import AgentLease, RunStatus
from agents.services import run_agent, state_dir
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the heartbeat thread has its own connection


@pytest.fixture
def short_ttl(settings):
    settings.AGENT_LEASE_TTL_S = 2  # a beat every 0.67 s
    return 2


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_it_keeps_the_lease_past_its_ttl_only_while_the_heartbeat_beats(short_ttl):
    kept, left = lease_claim(AgentConfigFactory()), lease_claim(AgentConfigFactory())
    with LeaseHeartbeat(kept, max_hold=timedelta(minutes=1)) as beat:
        time.sleep(short_ttl + 1)
        assert lease_lost(kept) is None and not beat.lost
    assert lease_lost(left)  # nobody renewed it: lapsed after one TTL
    row = AgentLease.objects.get(agent_id=kept.agent_id)
    assert row.expires_at <= timezone.now() + timedelta(seconds=short_ttl)  # stopped with the block


def test_it_never_renews_a_lease_another_worker_took(short_ttl):
    agent = AgentConfigFactory()
    lease = lease_claim(agent)
    with LeaseHeartbeat(lease, max_hold=timedelta(minutes=1)) as beat:
        AgentLease.objects.filter(agent=agent).update(holder="host-b:7:beef", token=99,
                                                      expires_at=timezone.now() + timedelta(seconds=1))
        wait_until(lambda: beat.lost, timeout=short_ttl)
    row = AgentLease.objects.get(agent=agent)
    assert (row.holder, row.token) == ("host-b:7:beef", 99) and lease_lost(lease)


def test_it_does_not_resurrect_an_expired_lease_nobody_took(short_ttl):
    agent = AgentConfigFactory()
    lease = lease_claim(agent)
    AgentLease.objects.filter(agent=agent).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert lease_renew(lease) is False
    assert lease_lost(lease) and AgentLease.objects.get(agent=agent).expires_at < timezone.now()


def test_it_lets_the_lease_lapse_when_the_holder_outlives_its_longest_run(short_ttl):
    lease = lease_claim(AgentConfigFactory())
    with LeaseHeartbeat(lease, max_hold=timedelta(seconds=0.1)):
        time.sleep(short_ttl + 1)
        assert lease_lost(lease)  # a wedged process does not hold the agent forever


def test_it_holds_the_lease_while_the_run_waits_for_an_abandoned_tool(short_ttl, make_trader, faults):
    agent = AgentConfigFactory(tool_timeout_s=1)
    trader = make_trader(timeout=20.0, retries=0)
    seen: list[bool] = []

    def check_then_release() -> None:
        time.sleep(short_ttl + 1.5)  # the loop has ended; the run waits for the hung get_balance thread
        row = AgentLease.objects.get(agent=agent)
        seen.append(row.expires_at > timezone.now() and f":{os.getpid()}:" in row.holder)
        faults.release()

    faults.hang(path_prefix="/paper/portfolio")
    checker = threading.Thread(target=check_then_release)
    checker.start()
    try:
        run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[("get_balance", {})], "done"]))
    finally:
        checker.join()
    assert seen == [True] and run.status == RunStatus.COMPLETED
    assert lease_lost_for(agent)  # released at the end


def lease_lost_for(agent) -> bool:
    return AgentLease.objects.get(agent=agent).expires_at <= timezone.now()


# --- the same-host shortcut: a dead local holder's lease is taken at once ----------------------


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    """A real process of this host to stand for a lease holder."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def held_by(agent, pid: int, host: str | None = None, lock_pid: int | None = None) -> None:
    """The lease held for 10 minutes by `pid`, which was also the last to take the agent's lock
    (unless `lock_pid` took it after)."""
    holder = f"{host or socket.gethostname()}:{pid}:abcd1234"
    AgentLease.objects.create(agent=agent, holder=holder, token=5, expires_at=timezone.now() + timedelta(minutes=10))
    lock_holder = holder if lock_pid is None else f"{socket.gethostname()}:{lock_pid}:ffff0000"
    (agents_dir(state_dir()) / f"{agent.pk}.lock").write_text(f"{lock_pid or pid}\n{lock_holder}\n")


def locked(agent) -> AgentLock:
    lock = AgentLock(state_dir(), str(agent.pk))
    lock.acquire()
    return lock


def test_it_takes_the_lease_of_a_dead_local_holder_at_once(sleeper):
    agent = AgentConfigFactory()
    held_by(agent, sleeper.pid)
    lock = locked(agent)
    try:
        assert lease_claim(agent, lock=lock) is None  # alive (or its pid reused): wait for the TTL
        sleeper.kill()
        sleeper.wait()
        lease = lease_claim(agent, lock=lock)
    finally:
        lock.release()
    assert lease is not None and lease.token == 6 and lease.taken_from.split(":")[1] == str(sleeper.pid)


def test_it_counts_a_killed_unreaped_holder_as_dead(sleeper):
    os.kill(sleeper.pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(sleeper.pid), timeout=5)  # a zombie until its parent reaps it
    assert sleeper.poll() is not None  # reaping it now: it really was dead


@pytest.mark.parametrize("case", ["another host", "another lock holder since", "no lock held"])
def test_it_waits_for_the_ttl_when_the_dead_holder_may_not_be_ours(case, sleeper):
    agent = AgentConfigFactory()
    sleeper.kill()
    sleeper.wait()
    held_by(agent, sleeper.pid, host="other-host" if case == "another host" else None,
            lock_pid=os.getppid() if case == "another lock holder since" else None)
    lock = locked(agent)
    try:
        if case == "no lock held":
            lock.release()
        assert lease_claim(agent, lock=lock) is None
    finally:
        lock.release()
    assert AgentLease.objects.get(agent=agent).token == 5
