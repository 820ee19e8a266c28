"""The per-agent database lease with a fencing token (DESIGN: "a DB lease with a fencing token
when several hosts run workers")."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agents.models import AgentConfig, AgentLease


@dataclass(frozen=True)
class Lease:
    agent_id: int
    holder: str
    token: int


def lease_ttl(agent: AgentConfig) -> timedelta:
    """Longer than any run can last: its wall-clock budget, model retries, a hung tool, a margin."""
    return timedelta(seconds=agent.max_seconds + 3 * 60 + 2 * agent.tool_timeout_s + 60)


def lease_claim(agent: AgentConfig) -> Lease | None:
    """Claim the agent's lease if it is free or expired (compare-and-set); None when another holds it."""
    now = timezone.now()
    me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    try:
        with transaction.atomic():
            AgentLease.objects.get_or_create(agent=agent, defaults={"expires_at": now})
    except IntegrityError:
        pass  # another process created the row a moment ago: the claim below decides
    claimed = AgentLease.objects.filter(agent=agent, expires_at__lte=now).update(
        holder=me, token=F("token") + 1, expires_at=now + lease_ttl(agent))
    if not claimed:
        return None
    row = AgentLease.objects.get(agent=agent)
    return Lease(agent.pk, me, row.token) if row.holder == me else None


def lease_lost(lease: Lease) -> str | None:
    """For the stop check: None while we still hold the lease, else why we may not act."""
    held = AgentLease.objects.filter(agent_id=lease.agent_id, holder=lease.holder, token=lease.token,
                                     expires_at__gt=timezone.now()).exists()
    return None if held else f"agent lease #{lease.token} lost (expired or taken by another worker)"


def lease_release(lease: Lease) -> None:
    """Free the lease, only if it is still ours (a superseded run must not free its successor's)."""
    AgentLease.objects.filter(agent_id=lease.agent_id, holder=lease.holder, token=lease.token).update(
        expires_at=timezone.now())


def lease_holder(agent: AgentConfig) -> str:
    row = AgentLease.objects.filter(agent=agent).first()
    return row.holder if row else ""
