"""Placing approved orders: the same place_order_safe path, the same client order id, the real paper venue."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from agents.core.policies import ScriptedPolicy
from agents.core.policies.base import PolicyContext, PolicyStep
from agents.models import AgentConfig, Order, Run, TraceEvent
from agents.services import run_agent
from approvals import services
from approvals.models import ApprovalRequest, ApprovalStatus
from approvals.services import approval_briefing, approval_decide, approval_place
from approvals.tasks import approval_place_task
from monitoring.halt import halt, resume
from monitoring.models import OutboxEvent

pytestmark = pytest.mark.django_db


def approve(request: ApprovalRequest, actor, callbacks) -> ApprovalRequest:
    with callbacks(execute=True):
        approval_decide(request_id=request.pk, actor=actor, decision="approve")
    request.refresh_from_db()
    return request


def test_it_places_the_order_with_the_requests_client_order_id(make_request, approver, make_trader, market,
                                                               place_inline, django_capture_on_commit_callbacks):
    trader = make_trader()
    request = make_request(market=market)
    assert place_inline(trader) is not None
    request = approve(request, approver, django_capture_on_commit_callbacks)
    assert request.status == ApprovalStatus.PLACED, request.outcome_note
    at_venue = trader.order_by_client_id(request.client_order_id)
    assert at_venue is not None and at_venue.size == request.size and at_venue.price == request.price
    assert [o.client_order_id for o in trader.orders()] == [request.client_order_id]
    row = Order.objects.get(client_order_id=request.client_order_id)  # journaled like any agent order
    assert row.run_id == request.run_id and row.venue_order_id == at_venue.id
    kinds = list(TraceEvent.objects.filter(run=request.run).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["approval_decided", "order_placed"]
    assert OutboxEvent.objects.filter(kind="approval", payload__event="placed", payload__id=request.pk).exists()


def test_it_is_a_no_op_when_the_task_runs_twice(make_request, approver, make_trader, market,
                                                 django_capture_on_commit_callbacks, monkeypatch):
    from approvals import services

    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)
    trader = make_trader()
    request = approve(make_request(market=market), approver, django_capture_on_commit_callbacks)
    assert approval_place(request_id=request.pk, venue=trader).status == ApprovalStatus.PLACED
    assert approval_place(request_id=request.pk, venue=trader).status == ApprovalStatus.PLACED
    assert len(trader.orders()) == 1


def test_it_refuses_an_approval_while_trading_is_halted(make_request, approver, operator, make_trader, market,
                                                        place_inline, django_capture_on_commit_callbacks):
    trader = make_trader()
    place_inline(trader)
    request = make_request(market=market)
    halt(reason="drill", source="command", actor=operator, venue=trader)
    request = approve(request, approver, django_capture_on_commit_callbacks)
    assert request.status == ApprovalStatus.REFUSED and "kill switch" in request.outcome_note
    assert trader.orders() == [] and not Order.objects.exists()  # nothing reached the venue
    refusal = TraceEvent.objects.get(run=request.run, kind="refusal")
    assert refusal.data["approval_id"] == request.pk and "kill switch" in refusal.data["reason"]
    resume(actor=operator, reason="drill over")


def test_it_refuses_a_trade_that_now_breaks_a_hard_cap(make_request, approver, agent, make_trader, market,
                                                       place_inline, django_capture_on_commit_callbacks):
    trader = make_trader()
    place_inline(trader)
    request = make_request(market=market)  # 16.5 USDC, under the 100 cap when requested
    agent.max_order_notional = Decimal("15")  # an operator tightens the cap while it waits
    agent.save()
    request = approve(request, approver, django_capture_on_commit_callbacks)
    assert request.status == ApprovalStatus.REFUSED and "per-order cap" in request.outcome_note
    assert trader.orders() == []
    assert "per-order cap" in TraceEvent.objects.get(run=request.run, kind="refusal").data["reason"]


def test_it_refuses_to_place_an_approved_order_of_a_disabled_agent(make_request, approver, agent, make_trader,
                                                                   market, place_inline,
                                                                   django_capture_on_commit_callbacks):
    trader = make_trader()
    enqueued = place_inline(trader)
    request = make_request(market=market)
    original = services.approval_place

    def disable_then_place(*, request_id: int, venue=None):
        AgentConfig.objects.filter(pk=agent.pk).update(enabled=False)  # an operator disables it meanwhile
        return original(request_id=request_id, venue=venue)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "approval_place", disable_then_place)
        request = approve(request, approver, django_capture_on_commit_callbacks)
    assert enqueued == [request.pk]
    assert request.status == ApprovalStatus.REFUSED
    assert request.outcome_note == (f"refused: agent {agent.name} is disabled; approved orders of a disabled agent "
                                    "are not placed")
    assert trader.orders() == [] and not Order.objects.exists()  # nothing reached the venue
    refusal = TraceEvent.objects.get(run=request.run, kind="refusal")
    assert refusal.data["approval_id"] == request.pk and "disabled" in refusal.data["reason"]
    event = OutboxEvent.objects.filter(kind="approval", payload__event="refused", payload__id=request.pk).get()
    assert "disabled" in event.payload["outcome_note"]


def test_it_tells_the_agents_next_run_what_happened(make_request, approver, agent, make_trader, market,
                                                     place_inline, django_capture_on_commit_callbacks):
    trader = make_trader()
    place_inline(trader)
    placed = approve(make_request(market=market), approver, django_capture_on_commit_callbacks)
    approval_decide(request_id=make_request(market=market, step=2).pk, actor=approver, decision="reject")
    seen: list[str] = []

    def read_task(ctx: PolicyContext) -> PolicyStep:
        seen.append(json.dumps([m.content if hasattr(m, "content") else m for m in ctx.messages], default=str))
        return PolicyStep(final="noted")

    run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([read_task]))
    assert placed.status == "placed"
    assert "placed at the venue" in seen[0] and ": rejected" in seen[0]
    assert approval_briefing(agent) == ""  # told once


def test_it_refuses_an_approval_left_unplaced_too_long(make_request, approver, make_trader, market,
                                                       django_capture_on_commit_callbacks, monkeypatch):
    from approvals import services

    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)  # the worker was down
    trader = make_trader()
    request = approve(make_request(market=market), approver, django_capture_on_commit_callbacks)
    ApprovalRequest.objects.filter(pk=request.pk).update(decided_at=timezone.now() - timezone.timedelta(hours=1))
    assert approval_place(request_id=request.pk, venue=trader).status == ApprovalStatus.REFUSED
    assert trader.orders() == []


@pytest.mark.django_db(transaction=True)  # the runtime's tools run in worker threads
def test_it_places_a_request_the_runtime_raised_end_to_end(approver, agent, make_trader, market, settings, venue):
    trader = make_trader()
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, trader.api_key  # the task's venue_client()
    order = ("place_limit_order", {"market": market, "side": "BUY", "price": "0.500", "size": "30"})
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[order], "waiting"]))
    request = ApprovalRequest.objects.get(run=run)
    assert request.call_index is not None and trader.orders() == []
    approval_decide(request_id=request.pk, actor=approver, decision="approve")
    assert approval_place_task(request.pk) == ApprovalStatus.PLACED
    assert [o.client_order_id for o in trader.orders()] == [request.client_order_id]
    rows = list(TraceEvent.objects.filter(run=run).order_by("seq").values_list("seq", "kind"))
    assert [seq for seq, _ in rows] == list(range(len(rows)))  # the reopened trace continued the sequence
    assert [kind for _, kind in rows[-2:]] == ["approval_decided", "order_placed"]
    lines = [json.loads(x) for x in Path(Run.objects.get(pk=run.pk).trace_path).read_text().splitlines()]
    assert [(e["seq"], e["kind"]) for e in lines[-2:]] == rows[-2:]  # the NDJSON file got the same events


def test_it_tells_the_truth_when_placement_blows_up(make_request, approver, make_trader, market,
                                                   django_capture_on_commit_callbacks, monkeypatch):
    from approvals import services

    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)
    trader = make_trader()
    real = services.place_order_safe

    def lands_then_raises(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("trace disk full")

    monkeypatch.setattr(services, "place_order_safe", lands_then_raises)
    landed = approve(make_request(market=market), approver, django_capture_on_commit_callbacks)
    assert approval_place(request_id=landed.pk, venue=trader).status == ApprovalStatus.PLACED  # it did land

    def raises_before_sending(*args, **kwargs):
        raise RuntimeError("exposure table locked")

    monkeypatch.setattr(services, "place_order_safe", raises_before_sending)
    failed = approve(make_request(market=market, step=2), approver, django_capture_on_commit_callbacks)
    failed = approval_place(request_id=failed.pk, venue=trader)
    assert failed.status == ApprovalStatus.REFUSED and "exposure table locked" in failed.outcome_note
    assert [o.client_order_id for o in trader.orders()] == [landed.client_order_id]


def test_it_finishes_a_placement_interrupted_after_the_venue_accepted_it(make_trader, settings, venue, monkeypatch):
    """A worker died after the venue took the order: the retry sees it there and says placed."""
    from datetime import timedelta

    from django.utils import timezone

    from agents.core.orders import client_order_id
    from agents.services import order_key
    from agents.venue.schemas import OrderRequest
    from approvals.models import ApprovalRequest
    from approvals.services import approvals_retry_stuck
    from tests.factories import ApprovalRequestFactory, RunFactory

    trader = make_trader()
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, trader.api_key
    run = RunFactory()
    cid = client_order_id(order_key(run), 1, 0)
    request = ApprovalRequestFactory(run=run, agent=run.agent, step=1, call_index=0, client_order_id=cid,
                                     status="approved", decided_at=timezone.now() - timedelta(minutes=30),
                                     market="btc-above-100k-next-hour", price="0.100", size="1")
    trader.place(OrderRequest(market=request.market, side="BUY", price=request.price, size=request.size,
                              client_order_id=cid))
    from approvals import services

    enqueued: list[int] = []
    monkeypatch.setattr(services, "async_task", lambda func, request_id, **kw: enqueued.append(request_id))
    assert approvals_retry_stuck() == 1 and enqueued == [request.pk]  # handed to a worker, never inline
    assert approvals_retry_stuck() == 0  # and not again while that worker may still be on it
    services.approval_place(request_id=request.pk)  # what the worker does
    request = ApprovalRequest.objects.get(pk=request.pk)
    assert request.status == "placed" and "placed at the venue" in request.outcome_note


def test_it_refuses_to_place_while_another_worker_holds_the_agent(make_request, approver, make_trader, market,
                                                                   django_capture_on_commit_callbacks, monkeypatch,
                                                                   settings):
    """Placement is a single writer of its agent, like a run, across hosts too (the DB lease)."""
    from datetime import timedelta

    from agents.models import AgentLease
    from approvals import services

    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)
    monkeypatch.setattr(services, "_lock_wait_s", lambda agent: 0.3)  # don't wait a run's length here
    trader = make_trader()
    request = approve(make_request(market=market), approver, django_capture_on_commit_callbacks)
    AgentLease.objects.create(agent=request.agent, holder="host-b:1:run", token=3,
                              expires_at=timezone.now() + timedelta(minutes=5))
    placed = approval_place(request_id=request.pk, venue=trader)
    assert placed.status == ApprovalStatus.REFUSED and "another worker" in placed.outcome_note
    assert trader.orders() == []
