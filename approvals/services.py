"""Approval requests: created by a run when an order crosses a soft limit."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from agents.core.orders import ApprovalDraft
from agents.models import AgentConfig, Run
from approvals.models import ApprovalRequest, ApprovalStatus


def approval_request_create(*, agent: AgentConfig, run: Run, draft: ApprovalDraft, market_title: str = "",
                            model_reason: str = "") -> ApprovalRequest:
    """Record one request; the same client order id twice returns the first request (a retried step)."""
    now = timezone.now()
    req = draft.request
    two = draft.notional > agent.second_approval_notional
    request, _ = ApprovalRequest.objects.get_or_create(
        client_order_id=draft.client_order_id,
        defaults={
            "agent": agent, "run": run, "step": draft.step, "market": req.market, "market_title": market_title,
            "market_type": draft.market_type, "side": req.side.value, "outcome": req.outcome.value,
            "price": req.price, "size": req.size, "notional": draft.notional, "reasons": list(draft.reasons),
            "model_reason": model_reason, "required_approvals": 2 if two else 1, "requested_at": now,
            "expires_at": now + timedelta(minutes=settings.APPROVAL_TTL_MINUTES),
        },
    )
    return request


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
