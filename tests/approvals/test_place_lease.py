"""An approved placement holds the agent's short lease like a run does (issue 12, item 3): kept
alive by the heartbeat while it places, taken at once from a dead holder of this host."""

from __future__ import annotations

import socket
import subprocess
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from agents.core.state import agents_dir
from agents.lease import lease_lost
from agents.models import AgentLease
from agents.services import state_dir
from approvals import services
from approvals.models import ApprovalStatus
from approvals.services import approval_place
from tests.approvals.test_place import approve

pytestmark = pytest.mark.django_db(transaction=True)  # the heartbeat thread has its own connection


@pytest.fixture
def approved(make_request, approver, market, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)  # placed by the test, not a worker
    monkeypatch.setattr(services, "_lock_wait_s", lambda agent: 0.3)  # a held lease refuses at once
    return approve(make_request(market=market), approver, django_capture_on_commit_callbacks)


def test_it_places_at_once_when_the_agents_lease_holder_died_on_this_host(approved, make_trader):
    dead = subprocess.Popen(["sleep", "60"])
    dead.kill()
    dead.wait()
    holder = f"{socket.gethostname()}:{dead.pid}:abcd1234"
    AgentLease.objects.create(agent=approved.agent, holder=holder, token=3,
                              expires_at=timezone.now() + timedelta(minutes=10))
    (agents_dir(state_dir()) / f"{approved.agent_id}.lock").write_text(f"{dead.pid}\n{holder}\n")  # its lock last
    trader = make_trader()
    placed = approval_place(request_id=approved.pk, venue=trader)
    assert placed.status == ApprovalStatus.PLACED, placed.outcome_note
    assert [o.client_order_id for o in trader.orders()] == [approved.client_order_id]
    lease = AgentLease.objects.get(agent=approved.agent)
    assert lease.token == 4 and lease.expires_at <= timezone.now()  # taken, then released


def test_it_keeps_the_lease_through_a_placement_longer_than_its_ttl(approved, make_trader, settings, monkeypatch):
    settings.AGENT_LEASE_TTL_S = 2
    real = services._place_through_desk
    seen: list[str | None] = []

    def slow(request: Any, venue: Any, lease: Any = None) -> tuple[str, str]:
        time.sleep(3)  # a slow venue: longer than one TTL
        seen.append(lease_lost(lease))
        return real(request, venue, lease)

    monkeypatch.setattr(services, "_place_through_desk", slow)
    placed = approval_place(request_id=approved.pk, venue=make_trader())
    assert seen == [None] and placed.status == ApprovalStatus.PLACED, (seen, placed.outcome_note)
