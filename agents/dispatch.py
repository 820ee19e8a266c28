"""The dispatcher: enqueue each agent's run at its own slot in its interval (`manage.py dispatch`).

Why not one django-q2 Schedule per agent: the cluster's scheduler wakes about once a minute and
enqueues every due schedule in that tick, so a fleet of 1,000 agents at 60 s started each minute with
a burst of 1,000 runs. Here every agent has a stable offset within its interval (from its id), and
the dispatcher, awake every DISPATCH_TICK_S, enqueues what has come due: 1,000 agents at 60 s are
about 17 runs a second, evenly.

Safe with any number of dispatchers on any hosts: a slot is claimed by compare-and-set on
`AgentSchedule.next_due`, so each slot is enqueued once (a dispatcher whose clock runs ahead
enqueues a little early, never twice). A run still waiting in the queue when its next slot comes is not enqueued twice
(`queued_at`): a fleet the workers cannot keep up with falls behind by whole slots (`coalesced`
counts them) while the queue stays one run per agent deep. A queued run lost with its broker is
re-enqueued after QUEUED_STALE_INTERVALS intervals; one lost with a worker that died (its cluster had
taken it from the broker), as soon as that worker's lease lapses. Whatever the dispatcher does, one run
of an agent at a time is still the lock's and the lease's job (agents/lease.py).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from academy.dbclock import db_clock
from agents.models import AgentConfig, AgentLease, AgentSchedule

log = logging.getLogger("academy.dispatch")

TASK = "agents.tasks.run_agent_task"
QUEUED_STALE_INTERVALS = 5  # a run queued this many intervals ago and never started was lost (broker restart)
QUEUED_STALE_MIN_S = 300.0
BATCH = 1000


def slot_offset(agent_id: int, interval_s: int) -> float:
    """The agent's stable place in its interval: a hash of its id, so neighbours do not bunch up."""
    digest = hashlib.sha256(f"agent:{agent_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * interval_s


def next_slot(after: datetime, interval_s: int, offset_s: float) -> datetime:
    """The first time strictly after `after` on the grid offset_s + k * interval_s (epoch seconds),
    to the millisecond (a slot read back from the database compares equal to the one written)."""
    tz = after.tzinfo or timezone.get_current_timezone()
    k = math.floor((after.timestamp() - offset_s) / interval_s)
    slot = datetime.fromtimestamp(round(offset_s + k * interval_s, 3), tz=tz)
    while slot <= after:  # float rounding can land on `after` itself, or just before it
        k += 1
        slot = datetime.fromtimestamp(round(offset_s + k * interval_s, 3), tz=tz)
    return slot


def schedules_sync(now: datetime | None = None) -> list[str]:
    """Make the AgentSchedule rows match the enabled agents: one line per change."""
    now = now or timezone.now()
    changes: list[str] = []
    with transaction.atomic():
        agents = {a.pk: a for a in AgentConfig.objects.filter(enabled=True).only("pk", "name", "interval_s")}
        rows = {s.agent_id: s for s in AgentSchedule.objects.select_for_update()}
        for pk, agent in agents.items():
            row = rows.get(pk)
            if row is not None and row.interval_s == agent.interval_s:
                continue
            offset = slot_offset(pk, agent.interval_s)
            due = next_slot(now, agent.interval_s, offset)
            AgentSchedule.objects.update_or_create(agent_id=pk, defaults={
                "interval_s": agent.interval_s, "offset_s": offset, "next_due": due})
            verb = "created" if row is None else "updated"
            changes.append(f"{verb} agent:{pk} ({agent.name}, every {agent.interval_s} s, at +{offset:.1f} s)")
        stale = [pk for pk in rows if pk not in agents]
        if stale:
            AgentSchedule.objects.filter(agent_id__in=stale).delete()
            changes += [f"removed agent:{pk} (agent disabled or deleted)" for pk in stale]
    return changes


@dataclass
class Dispatched:
    """What one pass did."""

    enqueued: list[int] = field(default_factory=list)
    coalesced: list[int] = field(default_factory=list)  # due, but the previous run still waits in the queue
    failed: list[int] = field(default_factory=list)  # the broker refused: the slot is given back
    orphans: list[int] = field(default_factory=list)  # enqueued at once: their worker died mid-run
    resent: list[int] = field(default_factory=list)  # queued before a worker died: perhaps lost with it

    def __bool__(self) -> bool:
        return bool(self.enqueued or self.coalesced or self.failed or self.orphans or self.resent)


def dispatch_due(now: datetime | None = None, *, enqueue: Any = None) -> Dispatched:
    """Enqueue one run of every agent whose slot has come (by this host's clock: a dispatcher whose clock
    runs ahead enqueues a little early, never twice), once.

    1. read the due rows (next_due <= now); 2. per row, claim the slot: move next_due to the next slot
    after now, compare-and-set on the old value (another dispatcher that got there first wins);
    3. a run of this agent still queued and not stale: count the slot as coalesced; else mark it queued
    and enqueue it. A failed enqueue gives the slot back (next_due and the mark restored) for the next pass.
    """
    now = now or timezone.now()
    send = _enqueue if enqueue is None else enqueue
    result = Dispatched()
    _enqueue_orphans(now, send, result)  # first: the rows read below then show what it marked queued
    due = list(AgentSchedule.objects.filter(next_due__lte=now, agent__enabled=True).order_by("next_due").values(
        "agent_id", "interval_s", "offset_s", "next_due", "queued_at", "queued_for", "last_enqueued_at")[:BATCH])
    for row in due:
        new_due = next_slot(now, row["interval_s"], row["offset_s"])
        claimed = AgentSchedule.objects.filter(agent_id=row["agent_id"], next_due=row["next_due"]).update(
            next_due=new_due)
        if not claimed:
            continue  # another dispatcher took this slot
        if row["queued_at"] is not None and now - row["queued_at"] < _stale_after(row["interval_s"]):
            AgentSchedule.objects.filter(agent_id=row["agent_id"]).update(coalesced=F("coalesced") + 1)
            result.coalesced.append(row["agent_id"])
            continue
        # Marked before the send: a worker waiting on the broker may start the run, and clear the mark
        # (run_picked_up), before the send returns; marked after, the agent would look queued for good.
        AgentSchedule.objects.filter(agent_id=row["agent_id"]).update(
            queued_at=now, queued_for=row["next_due"], last_enqueued_at=now)
        try:
            send(row["agent_id"], row["next_due"])
        except Exception:  # broker down: the slot comes back at the next pass, nothing is half-done
            log.exception("could not enqueue the run of agent %s; retrying at the next pass", row["agent_id"])
            AgentSchedule.objects.filter(agent_id=row["agent_id"], next_due=new_due).update(next_due=row["next_due"])
            AgentSchedule.objects.filter(agent_id=row["agent_id"], last_enqueued_at=now).update(
                queued_at=row["queued_at"], queued_for=row["queued_for"], last_enqueued_at=row["last_enqueued_at"])
            result.failed.append(row["agent_id"])
            continue
        result.enqueued.append(row["agent_id"])
    return result


def _enqueue_orphans(now: datetime, send: Any, result: Dispatched) -> None:
    """A lease expired with its holder still named lost its worker mid-run (a clean end clears the holder).
    Enqueue now, not at their next slots: 1. that agent's recovery run; 2. every run queued before that
    lease lapsed and not started yet: the dead worker's cluster may have taken it from the broker ahead of
    its worker (django-q2's pusher holds up to QUEUE_LIMIT + 1 tasks, and the Redis broker has no ack), and
    it died with it; `queued_at` would keep its agent from running for QUEUED_STALE_MIN_S. A run that was
    not lost runs once more after it, or is skipped: one run of an agent at a time is the lock's and the
    lease's job.

    Once per lapse: each is marked queued by the database's clock, after the lapse (the lease's own clock),
    so the next passes find nothing more to send.
    """
    dead_by = (AgentLease.objects.filter(agent__enabled=True, expires_at__lte=db_clock()).exclude(holder="")
               .aggregate(at=Max("expires_at"))["at"])
    if dead_by is None:
        return  # no worker died: nothing was lost
    # Nothing sent since the lease lapsed: a recovery run once per lapse. Not `queued_at`, which the run
    # clears when it starts: a recovery run skipped because the lapsed holder is alive and still holds
    # the agent's lock (a wedged run) would otherwise be sent again at every pass.
    orphan = (Q(agent__lease__expires_at__lte=db_clock()) & ~Q(agent__lease__holder="")
              & (Q(last_enqueued_at=None) | Q(last_enqueued_at__lt=F("agent__lease__expires_at"))))
    waiting = Q(queued_at__lt=dead_by)  # perhaps in the dead cluster's hands
    orphans = set(AgentSchedule.objects.filter(orphan, agent__enabled=True).values_list("agent_id", flat=True))
    rows = (AgentSchedule.objects.filter(orphan | waiting, agent__enabled=True)
            .values_list("agent_id", "queued_for")[:BATCH])
    for agent_id, queued_for in rows:
        recovery = agent_id in orphans
        _resend(agent_id, now if recovery else queued_for or now, now, send, result, orphan | waiting,
                recovery=recovery)


def _resend(agent_id: int, due: datetime, now: datetime, send: Any, result: Dispatched, condition: Q, *,
            recovery: bool) -> None:
    """Mark the agent queued (compare-and-set on `condition`: another dispatcher may have sent it) and send
    its run: a recovery run now, or the waiting run again for its slot. A failed send is retried at the
    next pass (a recovery) or at the agent's next slot (a waiting run)."""
    if not AgentSchedule.objects.filter(condition, agent_id=agent_id).update(
            queued_at=db_clock(), queued_for=due, last_enqueued_at=db_clock()):
        return
    try:
        send(agent_id, due)
    except Exception:
        log.exception("could not enqueue the run of agent %s after a worker died; retrying", agent_id)
        AgentSchedule.objects.filter(agent_id=agent_id, queued_for=due).update(queued_at=None, last_enqueued_at=None)
        result.failed.append(agent_id)
        return
    if recovery:
        log.warning("agent %s: its worker died mid-run (lease lapsed); recovery run enqueued", agent_id)
        result.orphans.append(agent_id)
    else:
        log.warning("agent %s: its run queued for %s may have died with a worker; enqueued again", agent_id, due)
        result.resent.append(agent_id)


def _stale_after(interval_s: int) -> timedelta:
    return timedelta(seconds=max(QUEUED_STALE_MIN_S, QUEUED_STALE_INTERVALS * interval_s))


def _enqueue(agent_id: int, due: datetime) -> None:
    from django_q.tasks import async_task

    async_task(TASK, agent_id, due.isoformat(), group="agents")


def run_picked_up(agent_id: int) -> None:
    """A worker started the queued run: the agent's next slot may be enqueued again."""
    AgentSchedule.objects.filter(agent_id=agent_id).filter(~Q(queued_at=None)).update(queued_at=None)


def dispatch_lag(now: datetime | None = None) -> float:
    """Seconds the most overdue enabled slot is behind (0 when none is): how far the dispatcher lags."""
    now = now or timezone.now()
    oldest = (AgentSchedule.objects.filter(agent__enabled=True, next_due__lte=now).order_by("next_due")
              .values_list("next_due", flat=True).first())
    return 0.0 if oldest is None else (now - oldest).total_seconds()
