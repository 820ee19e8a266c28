"""The per-agent database lease with a fencing token (DESIGN: "a DB lease with a fencing token
when several hosts run workers").

The lease is short (AGENT_LEASE_TTL_S, 15 s by default) and kept alive by a heartbeat thread of
the process that holds it, so a crashed holder's lease lapses within seconds instead of outliving
any possible run. On the crashed holder's own host it is taken at once: see `_dead_local_holder`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from agents.core.state import AgentLock
from agents.models import AgentConfig, AgentLease

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lease:
    agent_id: int
    holder: str
    token: int
    taken_from: str = ""  # the dead local holder whose lease was taken before it expired


def lease_ttl() -> timedelta:
    """How long a lease outlives its holder's last heartbeat."""
    return timedelta(seconds=settings.AGENT_LEASE_TTL_S)


def lease_max_hold(agent: AgentConfig) -> timedelta:
    """Longer than any run can last (its wall-clock budget, model retries, a hung tool, waiting for
    abandoned tool threads, a margin): past it the heartbeat stops, so a wedged process lets go."""
    return timedelta(seconds=agent.max_seconds + 3 * 60 + 2 * agent.tool_timeout_s + 60 + 60)


def holder_id() -> str:
    """host:pid:nonce; the nonce tells two claims of one process apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_claim(agent: AgentConfig, *, lock: AgentLock | None = None) -> Lease | None:
    """Claim the agent's lease if it is free or expired (compare-and-set); None when another holds it.

    With `lock` (the agent's flock, held by the caller) a lease whose holder was a process of this
    host that has died is taken at once, without waiting for it to expire.
    """
    now = timezone.now()
    me = holder_id()
    try:
        with transaction.atomic():
            AgentLease.objects.get_or_create(agent=agent, defaults={"expires_at": now})
    except IntegrityError:
        pass  # another process created the row a moment ago: the claim below decides
    if _take(AgentLease.objects.filter(agent=agent, expires_at__lte=now), me, now):
        return _claimed(agent, me)
    row = AgentLease.objects.filter(agent=agent).values("holder", "token").first()
    if row and lock is not None and _dead_local_holder(row["holder"], lock):
        if _take(AgentLease.objects.filter(agent=agent, holder=row["holder"], token=row["token"]), me, now):
            log.warning("agent %s: took the lease of %s at once (its process is dead)", agent.pk, row["holder"])
            return _claimed(agent, me, taken_from=row["holder"])
    return None


def _take(rows: QuerySet[AgentLease], me: str, now: datetime) -> bool:
    """Compare-and-set: the rows' filter is the condition; a new token fences the old holder."""
    return bool(rows.update(holder=me, token=F("token") + 1, expires_at=now + lease_ttl()))


def _claimed(agent: AgentConfig, me: str, taken_from: str = "") -> Lease | None:
    row = AgentLease.objects.get(agent=agent)
    return Lease(agent.pk, me, row.token, taken_from) if row.holder == me else None


def _dead_local_holder(holder: str, lock: AgentLock) -> bool:
    """True when the holder was a process of this host, used this very lock file, and is gone.

    1. its host is ours; 2. the lock file we now hold was last written by its pid, so it used our
    lock (not a namesake host, e.g. a container with host networking and its own pid namespace),
    and our flock proves it is out of its run; 3. that pid is not alive. A reused pid looks alive:
    we then wait for the TTL, never take over early.
    """
    parts = holder.rsplit(":", 2)  # a hostname has no ":", but split from the right anyway
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    return (lock.held and host == socket.gethostname() and lock.previous_pid == pid and pid != os.getpid()
            and not pid_alive(pid))


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists here (a zombie, killed but not reaped, counts as dead)."""
    if pid <= 0:
        return True  # not a real pid: never a reason to take over
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def lease_renew(lease: Lease) -> bool:
    """Extend our lease by one TTL if we still hold it: same holder, same token, not yet expired.

    An expired lease is not renewed even when nobody took it: the stop check has already said lost,
    and a sweep may have recorded the run as crashed. Lost stays lost.
    """
    now = timezone.now()
    return bool(AgentLease.objects.filter(agent_id=lease.agent_id, holder=lease.holder, token=lease.token,
                                          expires_at__gt=now).update(expires_at=now + lease_ttl()))


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


class LeaseHeartbeat:
    """`with LeaseHeartbeat(lease, max_hold=...):` renews the lease every TTL/3 from a thread.

    The thread lives as long as the block (the run, its wait for abandoned tool threads, an
    approved placement) and dies with the process, so the lease lapses one TTL after a crash.
    It stops for good when the lease is lost (the stop check then trips on lease_lost) or after
    `max_hold`. A failed renewal (database busy) is retried at the next beat.
    """

    def __init__(self, lease: Lease, *, max_hold: timedelta) -> None:
        self.lease = lease
        self.max_hold_s = max_hold.total_seconds()
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-heartbeat-{lease.agent_id}", daemon=True)

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            # Bounded: a renewal stuck on a busy database is harmless after release (it needs an
            # unexpired lease of ours, and release expired it).
            self._thread.join(timeout=settings.AGENT_LEASE_TTL_S / 3 + 1)

    def _beat(self) -> None:
        interval = settings.AGENT_LEASE_TTL_S / 3
        give_up = time.monotonic() + self.max_hold_s
        try:
            while not self._stop.wait(interval):
                if time.monotonic() >= give_up:
                    log.error("agent %s: run outlived its longest possible duration; letting its lease lapse",
                              self.lease.agent_id)
                    return
                if not self._renew():
                    return
        finally:
            connections.close_all()  # this thread's connections only

    def _renew(self) -> bool:
        """False once the lease is lost; a database error is logged and retried."""
        try:
            if lease_renew(self.lease):
                return True
        except Exception:
            log.exception("agent %s: lease renewal failed; retrying", self.lease.agent_id)
            return True
        self.lost = True
        log.warning("agent %s: lease #%s lost; not renewing it", self.lease.agent_id, self.lease.token)
        return False
