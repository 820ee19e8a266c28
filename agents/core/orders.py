"""place_order_safe: the only way an agent order reaches the venue.

Steps, in order (each refusal returns at once and sends nothing):
1. re-check the stop guard (kill switch, DB halt, override) -> halted
2. shape: tick, price in (0, 1), size > 0 -> rejected
3. exposure snapshot (cannot compute -> rejected: fail closed)
4. hard limits, tightened by the override -> rejected, whatever the model says
5. market lookup: must exist and be open (cannot look up -> rejected)
6. soft limits -> approval request, "pending approval" (unless already approved)
7. dry run -> simulated
8. idempotency: an order with this client id already exists -> that order (a retry never doubles)
9. place; if the call fails, look the client id up once more (the request may have landed)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from agents.core.guards import StopCheck
from agents.core.ports import Clock, VenuePort
from agents.core.risk import ExposureProvider, hard_limit_violation, order_notional, soft_limit_reasons
from agents.core.spec import AgentSpec, SoftLimits
from agents.core.tracing import EventKind, Recorder
from agents.venue.port import VenueRejected
from agents.venue.schemas import (
    SHARE_STEP,
    TICK,
    MarketStatus,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Outcome,
    Side,
)

OrderStatusOut = Literal["placed", "rejected", "pending_approval", "simulated", "halted", "unknown"]


def client_order_id(run_id: str, step: int, call_index: int) -> str:
    """Deterministic id from (run, step, call): the same call retried gets the same id."""
    digest = hashlib.sha256(f"{run_id}\x1f{step}\x1f{call_index}".encode()).hexdigest()
    return f"ac-{digest[:32]}"


@dataclass(frozen=True)
class OrderIntent:
    """What the agent asked for (validated tool arguments)."""

    market: str
    side: Side
    price: Decimal
    size: Decimal
    outcome: Outcome = Outcome.YES


@dataclass(frozen=True)
class ApprovalDraft:
    """A soft-limit hit, handed to the approval sink (the approvals app stores and queues it)."""

    agent: str
    run_id: str
    step: int
    call_index: int  # with run_id and step, re-derives client_order_id when the approved order is placed
    client_order_id: str
    request: OrderRequest
    notional: Decimal
    market_type: str
    reasons: list[str]


# approval_sink(draft) -> approval request id. Raising = the request was not recorded = reject.
ApprovalSink = Callable[[ApprovalDraft], str]


@dataclass(frozen=True)
class OrderResult:
    status: OrderStatusOut
    client_order_id: str
    reason: str = ""
    notional: Decimal = Decimal(0)
    order: Order | None = None
    approval_id: str | None = None
    duplicate: bool = False  # the venue already had this client id (a retry)
    extra: dict[str, Any] = field(default_factory=dict)

    def for_model(self) -> dict[str, Any]:
        """The short, plain answer the model gets back."""
        out: dict[str, Any] = {"status": self.status, "client_order_id": self.client_order_id}
        if self.reason:
            out["reason"] = self.reason
        if self.status == "unknown":
            out["message"] = "do not resubmit: it will be reconciled with the venue by its client order id"
        if self.status == "pending_approval":
            out["approval_id"] = self.approval_id
            out["message"] = "pending approval: a human must approve this order; do not resubmit it"
        if self.order is not None:
            out["order"] = self.order.model_dump(mode="json", include={"id", "status", "price", "size", "filled"})
        return out


@dataclass(frozen=True)
class OrderDesk:
    """Everything place_order_safe needs besides the intent, fixed for one run."""

    spec: AgentSpec
    run_id: str
    venue: VenuePort
    stop_check: StopCheck
    exposure: ExposureProvider
    approvals: ApprovalSink
    recorder: Recorder
    clock: Clock


def place_order_safe(desk: OrderDesk, intent: OrderIntent, *, step: int, call_index: int,
                     approved: bool = False) -> OrderResult:
    """Place one order through every limit; see the module docstring for the steps."""
    cid = client_order_id(desk.run_id, step, call_index)
    reading = desk.stop_check()
    if reading.stop is not None:
        return OrderResult("halted", cid, reason=f"{reading.stop.kind}: {reading.stop.reason}")
    shape = _shape_problem(intent)
    if shape:
        return _reject(desk, step, cid, shape)
    notional = order_notional(intent.side, intent.price, intent.size)
    limits = reading.override.tighten(desk.spec.hard)
    try:
        snap = desk.exposure()
    except Exception as exc:  # any failure: we cannot honour limits we cannot compute
        return _reject(desk, step, cid, f"exposure could not be computed ({_msg(exc)}); refusing to trade",
                       notional)
    violation = hard_limit_violation(market=intent.market, notional=notional, snap=snap, limits=limits)
    if violation:
        return _reject(desk, step, cid, f"hard limit: {violation}", notional)
    return _after_hard_limits(desk, intent, cid, notional, step=step, call_index=call_index, approved=approved,
                              soft=reading.override.tighten_soft(desk.spec.soft))


def _after_hard_limits(desk: OrderDesk, intent: OrderIntent, cid: str, notional: Decimal, *, step: int,
                       call_index: int, approved: bool, soft: SoftLimits) -> OrderResult:
    try:
        market = desk.venue.market(intent.market)
    except Exception as exc:
        return _reject(desk, step, cid, f"market {intent.market!r} could not be looked up ({_msg(exc)})", notional)
    if market.status != MarketStatus.OPEN:
        return _reject(desk, step, cid, f"market {intent.market!r} is {market.status.value}, not open", notional)
    req = OrderRequest(market=intent.market, side=intent.side, outcome=intent.outcome, price=intent.price,
                       size=intent.size, order_type=OrderType.GTC, client_order_id=cid)
    reasons = [] if approved else soft_limit_reasons(notional=notional, market_type=market.market_type, limits=soft)
    if reasons:
        return _request_approval(desk, req, notional, market.market_type, reasons, step, call_index)
    if desk.spec.dry_run:
        return _simulate(desk, req, notional, step)
    return _send(desk, req, notional, step)


def _shape_problem(i: OrderIntent) -> str:
    if not (Decimal(0) < i.price < Decimal(1)):
        return f"price {i.price} must be strictly between 0 and 1"
    if i.price % TICK != 0:
        return f"price {i.price} is not on the {TICK} tick"
    if i.size <= 0 or i.size % SHARE_STEP != 0:
        return f"size {i.size} must be positive with at most 3 decimals"
    return ""


def _reject(desk: OrderDesk, step: int, cid: str, reason: str, notional: Decimal = Decimal(0)) -> OrderResult:
    desk.recorder.append(EventKind.REFUSAL, step, {"what": "order", "client_order_id": cid, "reason": reason,
                                                   "notional": notional})
    return OrderResult("rejected", cid, reason=reason, notional=notional)


def _request_approval(desk: OrderDesk, req: OrderRequest, notional: Decimal, market_type: str,
                      reasons: list[str], step: int, call_index: int) -> OrderResult:
    draft = ApprovalDraft(agent=desk.spec.name, run_id=desk.run_id, step=step, call_index=call_index,
                          client_order_id=req.client_order_id, request=req, notional=notional,
                          market_type=market_type, reasons=reasons)
    try:
        approval_id = desk.approvals(draft)
    except Exception as exc:  # an approval we could not record must not turn into an order
        return _reject(desk, step, req.client_order_id, f"approval request could not be recorded ({_msg(exc)})",
                       notional)
    desk.recorder.append(EventKind.APPROVAL_REQUESTED, step, {"approval_id": approval_id, "request": req,
                                                              "notional": notional, "reasons": reasons})
    return OrderResult("pending_approval", req.client_order_id, reason="; ".join(reasons), notional=notional,
                       approval_id=approval_id)


def _simulate(desk: OrderDesk, req: OrderRequest, notional: Decimal, step: int) -> OrderResult:
    now = desk.clock.now()
    order = Order(id=f"dry-{req.client_order_id}", client_order_id=req.client_order_id, market=req.market,
                  side=req.side, outcome=req.outcome, price=req.price, size=req.size, filled=Decimal(0),
                  remaining=req.size, order_type=req.order_type, status=OrderStatus.LIVE, reason="dry run",
                  created_at=now, updated_at=now)
    desk.recorder.append(EventKind.ORDER_PLACED, step, {"dry_run": True, "order": order, "notional": notional})
    return OrderResult("simulated", req.client_order_id, reason="dry run: nothing sent", notional=notional,
                       order=order)


def _send(desk: OrderDesk, req: OrderRequest, notional: Decimal, step: int) -> OrderResult:
    existing = _lookup(desk, req.client_order_id)
    if existing is not None:
        return _placed(desk, req, existing, notional, step, duplicate=True)
    reading = desk.stop_check()  # the lookups above took time: a halt may have landed meanwhile
    if reading.stop is not None:
        return OrderResult("halted", req.client_order_id, reason=f"{reading.stop.kind}: {reading.stop.reason}")
    try:
        order = desk.venue.place(req)
    except VenueRejected as exc:  # a definite no from the venue
        return _reject(desk, step, req.client_order_id, f"venue refused the order: {_msg(exc)}", notional)
    except Exception as exc:
        # Timeout, 5xx, connection reset: the request may have reached the venue. The client id tells.
        landed = _lookup(desk, req.client_order_id)
        if landed is None:
            return _unknown(desk, step, req.client_order_id, _msg(exc), notional)
        order = landed
    if order.status == OrderStatus.REJECTED:
        return _reject(desk, step, req.client_order_id, f"venue rejected the order: {order.reason}", notional)
    return _placed(desk, req, order, notional, step, duplicate=False)


def _unknown(desk: OrderDesk, step: int, cid: str, error: str, notional: Decimal) -> OrderResult:
    """Neither placed nor refused for sure: never tell the model "refused" (it would resubmit under a
    new id); the journaled row stays `sent` and the next run reconciles it by client order id."""
    reason = f"outcome unknown ({error}); the order may rest at the venue: do not resubmit it"
    desk.recorder.append(EventKind.ERROR, step, {"what": "order", "client_order_id": cid, "reason": reason,
                                                 "notional": notional})
    return OrderResult("unknown", cid, reason=reason, notional=notional)


def _lookup(desk: OrderDesk, cid: str) -> Order | None:
    try:
        return desk.venue.order_by_client_id(cid)
    except Exception:
        return None  # a failed lookup only means we try to place; the venue dedups by client id too


def _placed(desk: OrderDesk, req: OrderRequest, order: Order, notional: Decimal, step: int, *,
            duplicate: bool) -> OrderResult:
    desk.recorder.append(EventKind.ORDER_PLACED, step, {"dry_run": False, "duplicate": duplicate, "order": order,
                                                        "notional": notional})
    return OrderResult("placed", req.client_order_id, notional=notional, order=order, duplicate=duplicate)


def _msg(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
