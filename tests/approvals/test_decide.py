"""approval_decide: permission, four-eyes, two approvers, the double-click race, expiry, the audit trail."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalDecision, ApprovalRequest, ApprovalStatus
from approvals.services import DecisionRefused, approval_decide, approvals_expire
from monitoring.models import OutboxEvent
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record placement enqueues instead of queueing them (placement is tested in test_place.py)."""
    calls: list[int] = []
    monkeypatch.setattr(services, "async_task", lambda func, request_id, **kw: calls.append(request_id))
    return calls


def decide(request: ApprovalRequest, actor: Any, decision: str = "approve", note: str = "") -> ApprovalRequest:
    return approval_decide(request_id=request.pk, actor=actor, decision=decision, note=note)


def test_it_approves_and_enqueues_placement_after_commit(make_request, approver, enqueued,
                                                          django_capture_on_commit_callbacks):
    request = make_request()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        decide(request, approver, note="looks fine")
        assert enqueued == []  # not before the commit: a rolled-back approval must never place
    assert len(callbacks) == 1 and enqueued == [request.pk]
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED and request.decided_at is not None
    vote = ApprovalDecision.objects.get(request=request)
    assert (vote.actor, vote.decision, vote.note) == (approver, "approve", "looks fine")
    event = OutboxEvent.objects.filter(kind="approval").latest("id")
    assert event.payload["event"] == "decided" and event.payload["status"] == "approved"
    assert event.payload["actor"] == "approver"


def test_it_rejects_with_a_note_and_enqueues_nothing(make_request, approver, enqueued,
                                                     django_capture_on_commit_callbacks):
    request = make_request()
    with django_capture_on_commit_callbacks(execute=True):
        decide(request, approver, "reject", "too big for a Friday")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.REJECTED and enqueued == []
    assert ApprovalDecision.objects.get(request=request).note == "too big for a Friday"


def test_it_refuses_a_user_without_the_permission(make_request, nobody, enqueued):
    request = make_request()
    with pytest.raises(PermissionDenied):
        decide(request, nobody)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING and not ApprovalDecision.objects.exists()


def test_it_refuses_the_person_who_started_the_run(make_request, approver, agent, enqueued):
    request = make_request(run=RunFactory(agent=agent, started_by=approver))
    with pytest.raises(DecisionRefused, match="Four-eyes.*started run"):
        decide(request, approver)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING and not ApprovalDecision.objects.exists()


def test_it_refuses_the_agent_owner_even_a_superuser(make_request, operator, agent, enqueued):
    agent.owner = operator
    agent.save()
    request = make_request()
    with pytest.raises(DecisionRefused, match="Four-eyes.*own agent"):
        decide(request, operator, "reject")  # rejecting your own agent's trade is a decision too
    assert ApprovalRequest.objects.get(pk=request.pk).status == ApprovalStatus.PENDING


def test_it_needs_two_distinct_approvers_above_the_second_threshold(make_request, approver, approver2, enqueued,
                                                                    django_capture_on_commit_callbacks):
    request = make_request(size="80", required_approvals=2)  # 44 USDC > second_approval_notional 40
    with django_capture_on_commit_callbacks(execute=True):
        decide(request, approver)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING and enqueued == []
    with pytest.raises(DecisionRefused, match="already voted"):
        decide(request, approver)  # the same person twice is not two approvers
    with django_capture_on_commit_callbacks(execute=True):
        decide(request, approver2)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED and enqueued == [request.pk]
    assert list(request.decisions.values_list("actor__username", flat=True)) == ["approver", "approver2"]


def test_it_lets_one_rejection_end_a_two_approver_request(make_request, approver, approver2, enqueued):
    request = make_request(size="80", required_approvals=2)
    decide(request, approver)
    decide(request, approver2, "reject")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.REJECTED and enqueued == []


def test_it_tells_the_second_click_it_lost(make_request, approver, approver2, enqueued,
                                           django_capture_on_commit_callbacks):
    request = make_request()
    with django_capture_on_commit_callbacks(execute=True):
        decide(request, approver)
        with pytest.raises(DecisionRefused, match="already decided by approver"):
            decide(request, approver2, "reject")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED and enqueued == [request.pk]
    assert ApprovalDecision.objects.filter(request=request).count() == 1


def test_it_rolls_back_the_vote_when_the_compare_and_set_loses(make_request, approver, approver2, enqueued,
                                                                monkeypatch):
    request = make_request()
    stale = ApprovalRequest.objects.select_related("agent", "run").get(pk=request.pk)  # read before the other click
    decide(request, approver)
    monkeypatch.setattr(services, "_request_for_update", lambda pk: stale)  # this click still sees "pending"
    with pytest.raises(DecisionRefused, match="Someone else decided first"):
        decide(request, approver2, "reject")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED
    assert list(ApprovalDecision.objects.values_list("actor__username", flat=True)) == ["approver"]


@pytest.mark.django_db(transaction=True)
def test_it_yields_exactly_one_decision_when_two_approvers_click_at_once(make_request, approver, approver2,
                                                                        enqueued):
    request = make_request()
    gate = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def click(actor: Any, decision: str) -> None:
        try:
            gate.wait()
            decide(request, actor, decision)
            outcomes[actor.username] = "won"
        except DecisionRefused as exc:
            outcomes[actor.username] = str(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(approver, "approve")),
               threading.Thread(target=click, args=(approver2, "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(o == "won" for o in outcomes.values()) == [False, True], outcomes
    loser = next(o for o in outcomes.values() if o != "won")
    assert "already decided" in loser or "decided first" in loser
    request.refresh_from_db()
    assert ApprovalDecision.objects.filter(request=request).count() == 1
    assert request.status == {"approver": "approved", "approver2": "rejected"}[
        next(u for u, o in outcomes.items() if o == "won")]
    assert enqueued == ([request.pk] if request.status == "approved" else [])


def test_it_expires_an_overdue_request_instead_of_approving_it(make_request, approver, enqueued):
    request = make_request(requested_at=timezone.now() - timedelta(minutes=20))  # expired 5 min ago
    with pytest.raises(DecisionRefused, match="expired"):
        decide(request, approver)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.EXPIRED and "expired" in request.outcome_note
    assert not ApprovalDecision.objects.exists() and enqueued == []
    with pytest.raises(DecisionRefused, match="already decided"):
        decide(request, approver)  # and it stays expired


def test_it_sweeps_overdue_requests_and_leaves_fresh_ones(make_request):
    old = [make_request(requested_at=timezone.now() - timedelta(minutes=16)) for _ in range(2)]
    fresh = make_request()
    assert approvals_expire() == 2
    assert approvals_expire() == 0  # a repeated sweep changes nothing
    assert {r.status for r in ApprovalRequest.objects.filter(pk__in=[o.pk for o in old])} == {"expired"}
    assert ApprovalRequest.objects.get(pk=fresh.pk).status == ApprovalStatus.PENDING
    assert OutboxEvent.objects.filter(kind="approval", payload__event="expired").count() == 2


def test_it_refuses_an_unknown_request_or_decision(make_request, approver):
    with pytest.raises(DecisionRefused, match="no approval request #999999"):
        approval_decide(request_id=999999, actor=approver, decision="approve")
    with pytest.raises(DecisionRefused, match="Unknown decision"):
        decide(make_request(), approver, "maybe")


def test_it_keeps_decisions_append_only(make_request, approver):
    from academy.append_only import AppendOnlyError

    decide(make_request(), approver)
    with pytest.raises(AppendOnlyError):
        ApprovalDecision.objects.all().update(note="rewritten")
    with pytest.raises(AppendOnlyError):
        ApprovalDecision.objects.all().delete()


def test_it_enqueues_the_real_placement_task_on_the_broker(make_request, approver,
                                                           django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    request = make_request()
    with django_capture_on_commit_callbacks(execute=True):
        decide(request, approver)
    queued = OrmQ.objects.get()
    assert queued.func() == "approvals.tasks.approval_place_task" and queued.task["args"] == (request.pk,)


def test_it_refuses_to_approve_a_request_of_a_disabled_agent(make_request, approver, agent, enqueued):
    request = make_request()
    agent.enabled = False
    agent.save()
    with pytest.raises(DecisionRefused) as refused:
        decide(request, approver)
    assert str(refused.value) == (f"Agent {agent.name} is disabled: request #{request.pk} cannot be approved (its "
                                  "order would not be placed). Reject it, or enable the agent first.")
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING and enqueued == []
    assert not ApprovalDecision.objects.filter(request=request).exists()  # the refused vote is not recorded
    assert decide(request, approver, "reject").status == ApprovalStatus.REJECTED  # rejecting still works


def test_it_keeps_only_the_newest_request_for_the_same_trade_pending(agent):
    """A run every minute asks again for the same trade: the older request is superseded."""
    from decimal import Decimal

    from agents.core.orders import ApprovalDraft
    from agents.venue.schemas import OrderRequest
    from approvals.models import ApprovalRequest
    from approvals.services import approval_request_create
    from tests.factories import RunFactory

    def ask(run, price: str):
        req = OrderRequest(market="m-dup", side="SELL", price=Decimal(price), size=Decimal("5"),
                           client_order_id=f"ac-{run.pk}-{price}")
        draft = ApprovalDraft(agent=agent.name, run_id=str(run.pk), step=1, call_index=0,
                              client_order_id=req.client_order_id, request=req, notional=Decimal("20"),
                              market_type="test", reasons=["oversize"])
        return approval_request_create(agent=agent, run=run, draft=draft)

    first, second = ask(RunFactory(agent=agent), "0.249"), ask(RunFactory(agent=agent), "0.261")
    first.refresh_from_db()
    assert (first.status, first.outcome_note) == ("expired", f"superseded by request #{second.pk}")
    assert list(ApprovalRequest.objects.filter(status="pending").values_list("pk", flat=True)) == [second.pk]
