"""The agent lease by the database's clock, and the lock file naming its holder (issue 12, item 3).

A host's clock that runs ahead (or behind) is stood for by patching django.utils.timezone.now, the only
clock a host reads: every lease time is the database's (Now()), so none of these moves anything."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.core.state import AgentLock, agents_dir
from agents.lease import lease_claim, lease_lost, lease_release, lease_renew
from agents.models import AgentLease, Run, RunStatus
from agents.services import runs_sweep_crashed, state_dir
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db(transaction=True)

SKEW = timedelta(seconds=16)  # more than one TTL (15 s): a renewed lease reads as expired on such a host


@pytest.fixture
def host_clock(monkeypatch) -> Callable[[timedelta], None]:
    """`host_clock(offset)`: this host's clock from now on runs `offset` off the database's."""
    real = timezone.now

    def skew(offset: timedelta) -> None:
        monkeypatch.setattr(timezone, "now", lambda: real() + offset)

    return skew


def test_it_keeps_a_live_lease_from_a_host_whose_clock_runs_ahead(host_clock):
    agent = AgentConfigFactory()
    held = lease_claim(agent)  # host A, renewed just now
    host_clock(SKEW)  # host B
    assert lease_claim(agent) is None, "a host with its clock ahead took a live lease: two writers"
    assert lease_lost(held) is None and AgentLease.objects.get(agent=agent).holder == held.holder


def test_it_counts_a_lapsed_lease_as_lost_on_a_host_whose_clock_runs_behind(host_clock):
    agent = AgentConfigFactory()
    lease = lease_claim(agent)
    AgentLease.objects.filter(agent=agent).update(expires_at=timezone.now() - timedelta(seconds=1))
    host_clock(-SKEW)
    assert lease_lost(lease) and lease_renew(lease) is False  # lost, and never brought back
    assert lease_claim(agent) is not None  # free for the next run, whatever this host's clock says


def test_it_never_marks_a_live_run_crashed_from_a_monitor_whose_clock_runs_ahead(host_clock):
    agent = AgentConfigFactory()
    lease_claim(agent)
    run = Run.objects.create(agent=agent, started_at=timezone.now())
    host_clock(SKEW)  # the monitor's host
    assert runs_sweep_crashed() == 0
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING, run.end_reason


def test_it_still_marks_a_run_crashed_once_its_lease_lapsed_whatever_the_monitors_clock(host_clock):
    agent = AgentConfigFactory()
    lease_claim(agent)
    AgentLease.objects.filter(agent=agent).update(expires_at=timezone.now() - timedelta(seconds=1))
    run = Run.objects.create(agent=agent, started_at=timezone.now() - timedelta(seconds=5))
    host_clock(-SKEW)  # the monitor's clock behind: the run would look as if it had not started yet
    assert runs_sweep_crashed() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR and run.end_reason.startswith("crashed")


def test_it_never_brings_back_a_released_lease_by_a_renewal_that_read_the_clock_before(monkeypatch):
    """Item 6: the heartbeat's join is bounded; its renewal, blocked on the database, may run after the
    release. By the database's clock when it runs, the released lease has expired: it stays released."""
    agent = AgentConfigFactory()
    lease = lease_claim(agent)
    before = timezone.now()  # the heartbeat thread took the time here...
    lease_release(lease)  # ...the run released its lease...
    monkeypatch.setattr(timezone, "now", lambda: before)  # ...and the renewal goes on with the time it took
    assert lease_renew(lease) is False
    assert lease_lost(lease)
    assert lease_claim(agent) is not None  # free for the next run at once


def test_it_never_renews_a_released_lease_whatever_its_expiry_reads():
    """On PostgreSQL a renewal blocked behind the release re-checks its filter on the released row with
    its own statement time, earlier than the release's: the released row names no holder, so it fails."""
    agent = AgentConfigFactory()
    lease = lease_claim(agent)
    lease_release(lease)
    AgentLease.objects.filter(agent=agent).update(expires_at=timezone.now() + timedelta(seconds=5))
    assert lease_renew(lease) is False and AgentLease.objects.get(agent=agent).holder == ""


# --- item 7: the lock file names the whole holder (host:pid:nonce) -----------------------------------


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen(["sleep", "60"])
    proc.kill()
    proc.wait()
    return proc.pid


def locked(agent) -> AgentLock:
    lock = AgentLock(state_dir(), str(agent.pk))
    lock.acquire()
    return lock


def test_it_records_the_lease_holder_in_the_agents_lock_file():
    agent = AgentConfigFactory()
    lock = locked(agent)
    try:
        lease = lease_claim(agent, lock=lock)
        lines = lock.path.read_text().splitlines()
    finally:
        lock.release()
    assert lease is not None and lines == [lease.holder.split(":")[1], lease.holder]  # the pid, for humans, first
    again = locked(agent)
    try:
        assert (again.previous_pid, again.previous_holder) == (int(lines[0]), lease.holder)
    finally:
        again.release()


@pytest.mark.parametrize("lock_file", ["a namesake's holder", "a pid only"])
def test_it_waits_for_the_ttl_when_only_the_host_and_pid_match(lock_file, dead_pid):
    """Two containers with one hostname and their own pid namespaces: this lock file was last written by
    our own dead process with the same pid as the live holder of the other container (another nonce), or
    by a version that wrote the pid alone. Neither proves the holder used this lock: wait for its TTL."""
    agent = AgentConfigFactory()
    live_elsewhere = f"{socket.gethostname()}:{dead_pid}:a1a1a1a1"
    AgentLease.objects.create(agent=agent, holder=live_elsewhere, token=5,
                              expires_at=timezone.now() + timedelta(minutes=10))
    namesake = f"{socket.gethostname()}:{dead_pid}:b2b2b2b2\n" if lock_file == "a namesake's holder" else ""
    (agents_dir(state_dir()) / f"{agent.pk}.lock").write_text(f"{dead_pid}\n{namesake}")
    lock = locked(agent)
    try:
        assert lease_claim(agent, lock=lock) is None
    finally:
        lock.release()
    assert AgentLease.objects.get(agent=agent).holder == live_elsewhere
