"""The per-agent database lease with a fencing token (DESIGN: "a DB lease with a fencing token
when several hosts run workers").

The lease is short (AGENT_LEASE_TTL_S, 15 s by default) and kept alive by a heartbeat thread of
the process that holds it, so a crashed holder's lease lapses within seconds instead of outliving
any possible run. On the crashed holder's own host it is taken at once: see `_dead_local_holder`.

Every expiry is written and compared by the database's clock (academy.dbclock), never a host's: a
host whose clock runs ahead must not see a renewed lease as expired and take it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import F, QuerySet

from academy.dbclock import db_clock
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
    host that has died is taken at once, without waiting for it to expire; and the claimed holder id is
    written into the lock file, for the next holder of the lock to recognise us by.
    """
    me = holder_id()
    try:
        with transaction.atomic():
            AgentLease.objects.get_or_create(agent=agent, defaults={"expires_at": db_clock()})
    except IntegrityError:
        pass  # another process created the row a moment ago: the claim below decides
    if _take(AgentLease.objects.filter(agent=agent, expires_at__lte=db_clock()), me):
        lease = _claimed(agent, me)
    else:
        lease = _take_from_dead(agent, me, lock) if lock is not None else None
    if lease is not None and lock is not None:
        _record(lock, lease)
    return lease


def _take_from_dead(agent: AgentConfig, me: str, lock: AgentLock) -> Lease | None:
    row = AgentLease.objects.filter(agent=agent).values("holder", "token").first()
    if not row or not _dead_local_holder(row["holder"], lock):
        return None
    if not _take(AgentLease.objects.filter(agent=agent, holder=row["holder"], token=row["token"]), me):
        return None
    log.warning("agent %s: took the lease of %s at once (its process is dead)", agent.pk, row["holder"])
    return _claimed(agent, me, taken_from=row["holder"])


def _record(lock: AgentLock, lease: Lease) -> None:
    """Name our holder id in the lock file. Unwritable (a full disk), the run goes on: a next holder
    of the lock then finds no match and waits for the TTL, never takes over early."""
    try:
        lock.record_holder(lease.holder)
    except OSError:
        log.warning("agent %s: could not record lease holder %s in %s", lease.agent_id, lease.holder, lock.path,
                    exc_info=True)


def _take(rows: QuerySet[AgentLease], me: str) -> bool:
    """Compare-and-set: the rows' filter is the condition; a new token fences the old holder."""
    return bool(rows.update(holder=me, token=F("token") + 1, expires_at=db_clock(lease_ttl())))


def _claimed(agent: AgentConfig, me: str, taken_from: str = "") -> Lease | None:
    row = AgentLease.objects.get(agent=agent)
    return Lease(agent.pk, me, row.token, taken_from) if row.holder == me else None


def _dead_local_holder(holder: str, lock: AgentLock) -> bool:
    """True when the holder was a process of this host, used this very lock file, and is gone.

    1. its host is ours; 2. the lock file we now hold names this very holder (host:pid:nonce, written
    once it had claimed the lease), so it used our lock: not a namesake host whose pid collides (a
    container with the same hostname and its own pid namespace writes its own lock file), and our
    flock proves it is out of its run; 3. that pid is not alive. A live pid counts as alive whatever
    process it is now (a reused pid, or another pid namespace's): we then wait for the TTL, never
    take over early.
    """
    parts = holder.rsplit(":", 2)  # a hostname has no ":", but split from the right anyway
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    return (lock.held and host == socket.gethostname() and lock.previous_holder == holder and pid != os.getpid()
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
    Both times are the database's, read when the UPDATE runs: a renewal delayed past a release (or
    past the expiry) finds the lease expired and leaves it so.
    """
    return bool(AgentLease.objects.filter(agent_id=lease.agent_id, holder=lease.holder, token=lease.token,
                                          expires_at__gt=db_clock()).update(expires_at=db_clock(lease_ttl())))


def lease_lost(lease: Lease) -> str | None:
    """For the stop check: None while we still hold the lease, else why we may not act."""
    held = AgentLease.objects.filter(agent_id=lease.agent_id, holder=lease.holder, token=lease.token,
                                     expires_at__gt=db_clock()).exists()
    return None if held else f"agent lease #{lease.token} lost (expired or taken by another worker)"


def lease_release(lease: Lease) -> None:
    """Free the lease, only if it is still ours (a superseded run must not free its successor's).

    The holder is cleared too: a renewal already under way when the release lands (PostgreSQL then
    re-checks its filter against the released row, with its own earlier statement time) no longer
    matches, whatever the times say."""
    AgentLease.objects.filter(agent_id=lease.agent_id, holder=lease.holder, token=lease.token).update(
        holder="", expires_at=db_clock())


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
            # Bounded: a renewal stuck on a busy database is harmless after release (it needs a
            # lease of ours unexpired by the database's clock when it runs, and release expired it).
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
            # A connection the server dropped (pgbouncer's idle kill, pg_terminate_backend, a failover)
            # is never reopened by itself: without this every later renewal fails and a live run
            # loses its lease.
            close_old_connections()
            if lease_renew(self.lease):
                return True
        except Exception:
            log.exception("agent %s: lease renewal failed; retrying", self.lease.agent_id)
            return True
        self.lost = True
        log.warning("agent %s: lease #%s lost; not renewing it", self.lease.agent_id, self.lease.token)
        return False
