"""Approval requests: created by a run when an order crosses a soft limit, decided by people, placed by a task.

One entry point per state change:
- `approval_request_create()`  a run records a request (pending);
- `approval_decide()`          a person approves or rejects (pending -> approved | rejected, or expired);
- `approvals_expire()`         the sweep (pending -> expired);
- `approval_place()`           the task places an approved order (approved -> placed | refused).
Every transition is a compare-and-set on `status`, so a repeated or concurrent call changes nothing twice.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from agents.core.orders import ApprovalDraft, OrderIntent, OrderResult, client_order_id, place_order_safe
from agents.core.ports import SystemClock, VenuePort
from agents.core.state import AgentLock, AlreadyRunning
from agents.core.tracing import EventKind
from agents.lease import Lease, LeaseHeartbeat, lease_claim, lease_release
from agents.models import AgentConfig, Run
from agents.venue.schemas import Outcome, Side
from approvals.models import ApprovalDecision, ApprovalRequest, ApprovalStatus, Decision
from monitoring.outbox import outbox_publish

log = logging.getLogger("academy.approvals")

PERMISSION = "approvals.approve_trade"
NOTE_MAX = 2000
LOCK_POLL_S = 0.25


class DecisionRefused(Exception):
    """approval_decide() said no (stale, expired, four-eyes, already voted); the message says why, for a person."""


# --- requests ------------------------------------------------------------------------------


def approval_request_create(*, agent: AgentConfig, run: Run, draft: ApprovalDraft, market_title: str = "",
                            model_reason: str = "") -> ApprovalRequest:
    """Record one request; the same client order id twice returns the first request (a retried step)."""
    now = timezone.now()
    req = draft.request
    two = draft.notional > agent.second_approval_notional
    with transaction.atomic():
        request, created = ApprovalRequest.objects.get_or_create(
            client_order_id=draft.client_order_id,
            defaults={
                "agent": agent, "run": run, "step": draft.step, "call_index": draft.call_index,
                "market": req.market, "market_title": market_title, "market_type": draft.market_type,
                "side": req.side.value, "outcome": req.outcome.value, "price": req.price, "size": req.size,
                "notional": draft.notional, "reasons": list(draft.reasons), "model_reason": model_reason,
                "required_approvals": 2 if two else 1, "requested_at": now,
                "expires_at": now + timedelta(minutes=settings.APPROVAL_TTL_MINUTES),
            },
        )
        if created:
            _supersede_older(request, now)
            _publish(request, "requested")  # same transaction: the panel never sees a rolled-back request
    return request


def _supersede_older(request: ApprovalRequest, now: datetime) -> None:
    """The agent asks again for the same trade each run: keep only the newest request pending,
    so an approver on a phone cannot approve the same trade three times over."""
    older = ApprovalRequest.objects.filter(
        agent=request.agent, market=request.market, side=request.side, outcome=request.outcome,
        status=ApprovalStatus.PENDING,
    ).exclude(pk=request.pk)
    for old in older:
        changed = ApprovalRequest.objects.filter(pk=old.pk, status=ApprovalStatus.PENDING).update(
            status=ApprovalStatus.EXPIRED, decided_at=now, outcome_note=f"superseded by request #{request.pk}")
        if changed:
            _publish(old, "expired")


FINAL = [ApprovalStatus.PLACED, ApprovalStatus.REFUSED, ApprovalStatus.REJECTED, ApprovalStatus.EXPIRED]


def approval_briefing(agent: AgentConfig) -> str:
    """Tell the agent's next run what became of its requests (once each); empty when nothing new."""
    now = timezone.now()
    news = list(ApprovalRequest.objects.filter(agent=agent, status__in=FINAL, reported_at__isnull=True)
                .order_by("requested_at")[:50])
    if not news:
        return ""
    ApprovalRequest.objects.filter(pk__in=[r.pk for r in news]).update(reported_at=now)
    lines = [f"- {r.side} {r.size} {r.outcome} {r.market} @ {r.price}: {r.status}"
             + (f" ({r.outcome_note})" if r.outcome_note else "") for r in news]
    return "Outcome of your earlier orders that needed human approval:\n" + "\n".join(lines)


def _publish(request: ApprovalRequest, event: str, **extra: Any) -> None:
    """One panel event per transition; call inside the transaction that made it."""
    outbox_publish("approval", {
        "id": request.pk, "event": event, "status": request.status, "agent": request.agent.name,
        "market": request.market, "side": request.side, "price": str(request.price), "size": str(request.size),
        "notional": str(request.notional), "required_approvals": request.required_approvals,
        "expires_at": request.expires_at.isoformat(), **extra,
    })


# --- deciding ------------------------------------------------------------------------------


def approval_decide(*, request_id: int, actor: Any, decision: str, note: str = "") -> ApprovalRequest:
    """Record one person's approve/reject; the one way a pending request is decided.

    1. the actor needs `approvals.approve_trade` (PermissionDenied otherwise);
    2. an overdue request is expired instead, and the decision refused;
    3. in one transaction, with the request row locked: it must still be pending, the actor must not have
       started its run nor own its agent (four-eyes) nor have voted on it already; write the vote;
    4. compare-and-set the status (rejected, approved once enough distinct people approved, else still
       pending); if another decision got there first, roll the vote back and say so;
    5. after commit, an approval enqueues the placement task.
    Raises DecisionRefused with a message meant for the person.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.has_perm(PERMISSION):
        raise PermissionDenied("deciding trades needs the approve_trade permission")
    choice = _parse_decision(decision)
    note = (note or "").strip()[:NOTE_MAX]
    now = timezone.now()
    if _expire_one(request_id, now):
        raise DecisionRefused(f"Request #{request_id} had expired before your decision; it can no longer be "
                              "approved. The agent is told on its next run.")
    with transaction.atomic():
        request = _request_for_update(request_id)
        _check_decidable(request, actor, now, choice)
        _vote(request, actor, choice, note, now)
        status = _status_after_vote(request, choice)
        _compare_and_set(request, status, now)
        _publish(request, "decided", decision=choice, actor=actor.get_username(),
                 approvals=_approvals(request))
        if status == ApprovalStatus.APPROVED:
            transaction.on_commit(lambda: _enqueue_placement(request.pk))
    return request


def _parse_decision(decision: str) -> Decision:
    try:
        return Decision(decision)
    except ValueError:
        raise DecisionRefused(f"Unknown decision {decision!r}: use approve or reject.") from None


def _request_for_update(request_id: int) -> ApprovalRequest:
    """Lock the row (PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers)."""
    try:
        return ApprovalRequest.objects.select_for_update().select_related("agent", "run").get(pk=request_id)
    except ApprovalRequest.DoesNotExist:
        raise DecisionRefused(f"There is no approval request #{request_id}.") from None


def _check_decidable(request: ApprovalRequest, actor: Any, now: datetime, choice: Decision) -> None:
    if request.status != ApprovalStatus.PENDING:
        raise DecisionRefused(_already_decided(request))
    if request.expires_at <= now:
        raise DecisionRefused(f"Request #{request.pk} has expired; it can no longer be approved.")
    if choice == Decision.APPROVE and not request.agent.enabled:
        raise DecisionRefused(f"Agent {request.agent.name} is disabled: request #{request.pk} cannot be approved "
                              "(its order would not be placed). Reject it, or enable the agent first.")
    if request.run.started_by_id == actor.pk:
        raise DecisionRefused(f"Four-eyes rule: you started run #{request.run_id}, which raised request "
                              f"#{request.pk}; someone else must decide it.")
    if request.agent.owner_id == actor.pk:
        raise DecisionRefused(f"Four-eyes rule: you own agent {request.agent.name}; someone else must decide "
                              f"request #{request.pk}.")
    if request.decisions.filter(actor=actor).exists():
        raise DecisionRefused(f"You have already voted on request #{request.pk}; it needs a different second "
                              "approver.")


def _already_decided(request: ApprovalRequest) -> str:
    last = request.decisions.select_related("actor").last()
    who = f" by {last.actor.get_username()}" if last and request.status in (
        ApprovalStatus.APPROVED, ApprovalStatus.REJECTED, ApprovalStatus.PLACED, ApprovalStatus.REFUSED) else ""
    return f"Request #{request.pk} was already decided{who}: it is {request.get_status_display().lower()}."


def _vote(request: ApprovalRequest, actor: Any, choice: Decision, note: str, now: datetime) -> None:
    try:
        with transaction.atomic():  # savepoint: a duplicate vote must not poison the outer transaction
            ApprovalDecision.objects.create(request=request, actor=actor, decision=choice, note=note, ts=now)
    except IntegrityError:
        raise DecisionRefused(f"You have already voted on request #{request.pk}.") from None


def _approvals(request: ApprovalRequest) -> int:
    return request.decisions.filter(decision=Decision.APPROVE).count()


def _status_after_vote(request: ApprovalRequest, choice: Decision) -> str:
    """One rejection is final (fail safe); approval needs `required_approvals` distinct people."""
    if choice == Decision.REJECT:
        return ApprovalStatus.REJECTED
    if _approvals(request) >= request.required_approvals:
        return ApprovalStatus.APPROVED
    return ApprovalStatus.PENDING


def _compare_and_set(request: ApprovalRequest, status: str, now: datetime) -> None:
    """Move pending -> status only if still pending; otherwise another decision won: undo our vote."""
    final = status != ApprovalStatus.PENDING
    changed = ApprovalRequest.objects.filter(pk=request.pk, status=ApprovalStatus.PENDING).update(
        status=status, **({"decided_at": now} if final else {}))
    if changed != 1:
        fresh = ApprovalRequest.objects.get(pk=request.pk)
        raise DecisionRefused("Someone else decided first; your vote was not recorded. " + _already_decided(fresh))
    request.status = status
    if final:
        request.decided_at = now


def _enqueue_placement(request_id: int) -> None:
    ApprovalRequest.objects.filter(pk=request_id).update(placement_enqueued_at=timezone.now())
    async_task("approvals.tasks.approval_place_task", request_id, task_name=f"approval-place-{request_id}")


# --- expiry --------------------------------------------------------------------------------


def approvals_expire() -> int:
    """Expire every pending request past its deadline (the scheduled sweep); return how many."""
    now = timezone.now()
    due = ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING, expires_at__lte=now)
    return sum(_expire_one(pk, now) for pk in due.values_list("pk", flat=True)[:500])


def _expire_one(request_id: int, now: datetime) -> bool:
    """Compare-and-set one overdue pending request to expired; False when not due or already decided."""
    with transaction.atomic():
        changed = ApprovalRequest.objects.filter(
            pk=request_id, status=ApprovalStatus.PENDING, expires_at__lte=now,
        ).update(status=ApprovalStatus.EXPIRED, decided_at=now,
                 outcome_note=f"expired: nobody decided within {settings.APPROVAL_TTL_MINUTES} min")
        if changed:
            _publish(ApprovalRequest.objects.select_related("agent").get(pk=request_id), "expired")
    return bool(changed)


# --- placing -------------------------------------------------------------------------------


STUCK_AFTER = timedelta(minutes=2)


def approvals_retry_stuck() -> int:
    """Re-run placement for approvals left `approved` (a worker died mid-placement); safe to repeat:
    placement looks the client order id up at the venue first, and holds the agent's lock."""
    # Enqueue, never place inline: the monitor calls this, and a placement may wait minutes for a
    # busy agent's lock. Only after a placement task had time to finish or be killed (Q_TIMEOUT).
    cutoff = timezone.now() - max(STUCK_AFTER, timedelta(seconds=settings.Q_TIMEOUT + 60))
    stuck = list(ApprovalRequest.objects.filter(status=ApprovalStatus.APPROVED, decided_at__lt=cutoff)
                 .filter(Q(placement_enqueued_at__isnull=True) | Q(placement_enqueued_at__lt=cutoff))
                 .values_list("pk", flat=True)[:100])
    for request_id in stuck:
        _enqueue_placement(request_id)
    return len(stuck)


def approval_place(*, request_id: int, venue: VenuePort | None = None) -> ApprovalRequest:
    """Place one approved order through place_order_safe, then record placed or refused.

    1. nothing to do unless the request is approved (a repeated task is a no-op);
    2. hold the agent's single-writer lock, so no run of the agent trades or writes the trace meanwhile;
    3. refuse if the agent is disabled now; else place with approved=True: the kill switch and the hard
       limits are checked again, now;
    4. compare-and-set approved -> placed | refused, with the outcome in the run's trace and on the panel.
    """
    request = ApprovalRequest.objects.select_related("agent", "run").get(pk=request_id)
    if request.status != ApprovalStatus.APPROVED:
        return request
    lock = AgentLock(_state_dir(), str(request.agent_id))
    deadline = time.monotonic() + _lock_wait_s(request.agent)
    if not _acquire(lock, deadline - time.monotonic()):
        return _record_outcome(request, ApprovalStatus.REFUSED,
                               "refused: the agent was busy with a run for too long to place it safely")
    try:
        lease = _claim_lease(request.agent, lock, deadline)  # other hosts: the same single writer as a run
        if lease is None:
            return _record_outcome(request, ApprovalStatus.REFUSED,
                                   "refused: another worker held the agent for too long to place it safely")
        try:
            with LeaseHeartbeat(lease, max_hold=timedelta(seconds=settings.Q_TIMEOUT)):  # the task's own bound
                request.refresh_from_db()
                if request.status != ApprovalStatus.APPROVED:
                    return request  # a concurrent task got here first
                return _record_outcome(request, *_place_or_explain(request, venue, lease))
        finally:
            lease_release(lease)
    finally:
        lock.release()


def _claim_lease(agent: AgentConfig, lock: AgentLock, deadline: float) -> Lease | None:
    while True:
        lease = lease_claim(agent, lock=lock)
        if lease is not None or time.monotonic() >= deadline:
            return lease
        time.sleep(LOCK_POLL_S)


def _place_or_explain(request: ApprovalRequest, venue: VenuePort | None, lease: Lease | None = None) -> tuple[str, str]:
    """Place; if anything raises, ask the venue whether the order landed, so the request tells the truth."""
    from agents.services import sent_orders_cover, venue_client

    inner = venue or venue_client()
    try:
        return _place_through_desk(request, inner, lease)
    except Exception as exc:
        log.exception("approval %s: placement raised", request.pk)
        landed = _lookup(inner, request.client_order_id)
        if landed is not None:
            return ApprovalStatus.PLACED, f"placed at the venue as order {landed.id} (but: {type(exc).__name__})"
        return ApprovalStatus.REFUSED, (f"refused: placement failed ({type(exc).__name__}: {str(exc)[:200]}); "
                                        f"the venue shows no order {request.client_order_id}")
    finally:  # no run's end follows an approved placement: cancel it here unless a beat covers it
        sent_orders_cover(agent=request.agent, venue=inner,
                          orders=request.agent.orders.filter(client_order_id=request.client_order_id))
        if venue is None:
            getattr(inner, "close", lambda: None)()  # our own client: do not leak its connection pool


def _state_dir() -> Any:
    from agents.services import state_dir

    return state_dir()


def _lock_wait_s(agent: AgentConfig) -> float:
    """A run is bounded by its wall-clock budget; wait that long, within the task's own timeout."""
    return float(max(1, min(agent.max_seconds + 30, settings.Q_TIMEOUT - 30)))


def _acquire(lock: AgentLock, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            lock.acquire()
            return True
        except AlreadyRunning:
            if time.monotonic() >= deadline:
                return False
            time.sleep(LOCK_POLL_S)


def _place_through_desk(request: ApprovalRequest, venue: VenuePort, lease: Lease | None = None) -> tuple[str, str]:
    """Run place_order_safe for the request; return (status, note). The desk's recorder writes the trace."""
    from agents.journal import JournaledVenue
    from agents.services import open_run_recorder, order_desk

    recorder = open_run_recorder(request.run)
    try:
        recorder.append(EventKind.APPROVAL_DECIDED, request.step, _decision_event(request))
        landed = _lookup(venue, request.client_order_id)  # a retry after a crash: the order may be there
        if landed is not None:
            return ApprovalStatus.PLACED, f"placed at the venue as order {landed.id}"
        problem = _disabled_problem(request) or _stale_problem(request)
        if problem:
            recorder.append(EventKind.REFUSAL, request.step, _refusal_event(request, problem))
            return ApprovalStatus.REFUSED, f"refused: {problem}"
        journaled = JournaledVenue(venue, agent=request.agent, run=request.run)
        desk = order_desk(request.agent, request.run, venue=journaled, recorder=recorder, clock=SystemClock(),
                          lease=lease)
        # call_index is not None here: _stale_problem refused the request otherwise.
        result = place_order_safe(desk, _intent(request), step=request.step, call_index=request.call_index or 0,
                                  approved=True)
        if result.status == "halted":  # place_order_safe returns before tracing a halt; the trace must say it
            recorder.append(EventKind.REFUSAL, request.step, _refusal_event(request, result.reason))
        return _outcome(result)
    finally:
        recorder.writer.close()


def _lookup(venue: VenuePort, cid: str) -> Any:
    try:
        return venue.order_by_client_id(cid)
    except Exception:
        return None


def order_key(run: Run) -> str:
    from agents.services import order_key as key

    return key(run)


def _disabled_problem(request: ApprovalRequest) -> str:
    """A disabled agent places nothing, approved or not: read the flag now (it may have changed since the vote)."""
    enabled = AgentConfig.objects.filter(pk=request.agent_id).values_list("enabled", flat=True).first()
    if not enabled:
        return f"agent {request.agent.name} is disabled; approved orders of a disabled agent are not placed"
    return ""


def _stale_problem(request: ApprovalRequest) -> str:
    """Refuse what we cannot place faithfully: an id we cannot re-derive, or an approval gone stale."""
    if request.call_index is None or client_order_id(order_key(request.run), request.step,
                                                     request.call_index) != request.client_order_id:
        return "the request's client order id cannot be re-derived; not placing a differently-identified order"
    ttl = timedelta(minutes=settings.APPROVAL_TTL_MINUTES)
    if request.decided_at is None or timezone.now() - request.decided_at > ttl:
        return f"approved more than {settings.APPROVAL_TTL_MINUTES} min ago and not placed since; the price is stale"
    return ""


def _intent(request: ApprovalRequest) -> OrderIntent:
    return OrderIntent(market=request.market, side=Side(request.side), price=request.price, size=request.size,
                       outcome=Outcome(request.outcome))


def _outcome(result: OrderResult) -> tuple[str, str]:
    if result.status == "placed" and result.order is not None:
        again = " (it was already there: a retry)" if result.duplicate else ""
        return ApprovalStatus.PLACED, f"placed at the venue as order {result.order.id}, {result.order.status}{again}"
    if result.status == "simulated":
        return ApprovalStatus.PLACED, "simulated (dry run): nothing was sent to the venue"
    return ApprovalStatus.REFUSED, f"refused at placement: {result.reason or result.status}"


def _decision_event(request: ApprovalRequest) -> dict[str, Any]:
    votes = [{"by": d.actor.get_username(), "decision": d.decision, "note": d.note, "ts": d.ts.isoformat()}
             for d in request.decisions.select_related("actor")]
    return {"what": "approval", "approval_id": request.pk, "client_order_id": request.client_order_id,
            "decision": "approved", "votes": votes}


def _refusal_event(request: ApprovalRequest, reason: str) -> dict[str, Any]:
    return {"what": "approved order", "approval_id": request.pk, "client_order_id": request.client_order_id,
            "reason": reason, "notional": request.notional}


def _record_outcome(request: ApprovalRequest, status: str, note: str) -> ApprovalRequest:
    """Compare-and-set approved -> placed | refused, with its panel event, in one transaction."""
    with transaction.atomic():
        changed = ApprovalRequest.objects.filter(pk=request.pk, status=ApprovalStatus.APPROVED).update(
            status=status, outcome_note=note[:2000])
        request.refresh_from_db()
        if changed:
            _publish(request, status, outcome_note=request.outcome_note)
    if status == ApprovalStatus.REFUSED:
        log.warning("approval %s: %s", request.pk, note)
    return request
