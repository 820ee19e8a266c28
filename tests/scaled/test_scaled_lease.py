"""The agent lease on PostgreSQL (issue 12, item 3): its times are the database's (STATEMENT_TIMESTAMP),
and its heartbeat outlives a connection the server drops (pgbouncer's idle kill, pg_terminate_backend,
a failover)."""

from __future__ import annotations

from .test_scaled import scaled_env, shell  # noqa: F401  (scaled_env is the fixture)

HEARTBEAT = """
import time
from datetime import timedelta
from django.db import connection
from agents.lease import LeaseHeartbeat, lease_claim, lease_lost
from agents.models import AgentConfig

OTHERS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
          "AND backend_type = 'client backend'")
agent = AgentConfig.objects.create(name=f"pg-lease-{time.monotonic_ns()}")
lease = lease_claim(agent)
with LeaseHeartbeat(lease, max_hold=timedelta(minutes=1)) as beat, connection.cursor() as cursor:
    deadline = time.monotonic() + 10
    while True:  # the heartbeat thread's own connection, opened by its first renewal
        cursor.execute(OTHERS)
        if cursor.fetchall() or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({OTHERS}) AS others")
    terminated = len(cursor.fetchall())
    time.sleep(5)  # 2.5 TTLs: without a new connection every renewal fails and the lease lapses
    print("terminated", terminated, "kept", lease_lost(lease) is None and not beat.lost)
"""


def test_it_keeps_the_lease_when_the_server_drops_the_heartbeats_connection(scaled_env):  # noqa: F811
    env = {**scaled_env, "AGENT_LEASE_TTL_S": "2"}  # a beat every 0.67 s
    persistent = {**env, "DATABASE_URL": env["DATABASE_URL"] + "?conn_max_age=600"}  # as behind pgbouncer
    for each in (env, persistent):
        assert shell(each, HEARTBEAT).split() == ["terminated", "1", "kept", "True"]


CLOCKS = """
from datetime import timedelta
from django.utils import timezone
from agents.lease import lease_claim, lease_lost, lease_release, lease_renew
from agents.models import AgentConfig, Run
from agents.services import runs_sweep_crashed

agent = AgentConfig.objects.create(name="pg-clock")
held = lease_claim(agent)
run = Run.objects.create(agent=agent, started_at=timezone.now())
real = timezone.now
timezone.now = lambda: real() + timedelta(seconds=16)  # another host, its clock more than a TTL ahead
print("taken", lease_claim(agent) is not None, "swept", runs_sweep_crashed(), "lost", lease_lost(held) is not None)
timezone.now = real
before = timezone.now()
lease_release(held)
timezone.now = lambda: before  # a renewal that read the clock before the release
print("renewed", lease_renew(held), "free", lease_claim(agent) is not None)
"""


def test_it_compares_lease_times_by_the_postgresql_clock(scaled_env):  # noqa: F811
    out = shell(scaled_env, CLOCKS).split("\n")
    assert [line for line in out if line] == ["taken False swept 0 lost False", "renewed False free True"], out
