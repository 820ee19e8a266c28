"""The approval queue: a page, the fragment it polls, and the decide POST. Decisions go through approval_decide."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from approvals.access import may_view_approvals
from approvals.decided import decided_recent
from approvals.forms import DecisionForm
from approvals.models import ApprovalRequest, ApprovalStatus, Decision
from approvals.queue import queue_rows
from approvals.services import PERMISSION, DecisionRefused, approval_decide
from monitoring.halt import kill_switch_state

POLL_MS = 5000


def may_view_queue(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Trades in flight are not for every logged-in user: approvers and those allowed to view requests."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_view_approvals(request.user):
            raise PermissionDenied("viewing the approval queue needs approve_trade or view_approvalrequest")
        return view(request, *args, **kwargs)

    return guarded


@login_required
@require_GET
@may_view_queue
def queue(request: HttpRequest) -> HttpResponse:
    """The queue page; its script re-fetches the list fragment every few seconds."""
    return render(request, "approvals/queue.html", {**_list_context(request), "poll_ms": POLL_MS})


@login_required
@require_GET
@may_view_queue
def queue_fragment(request: HttpRequest) -> HttpResponse:
    """The list alone, for the page's poll (no layout, no messages: those belong to the page)."""
    response = render(request, "approvals/_list.html", _list_context(request))
    response["Cache-Control"] = "no-store"
    return response


def _list_context(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()  # one clock reading: every "time left" on the page agrees
    decided = decided_recent()  # superseded requests folded away: they bury the real decisions
    return {"rows": queue_rows(request.user, now=now), "recent": decided.decided, "superseded": decided.superseded,
            "superseded_count": decided.superseded_count, "superseded_hidden": decided.superseded_hidden,
            "kill_switch": kill_switch_state(), "now": now}


@login_required
@require_POST
@permission_required(PERMISSION, raise_exception=True)
def decide(request: HttpRequest, request_id: int) -> HttpResponse:
    """Approve or reject one request (optional note), then back to the queue with what happened."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Request #{request_id}: nothing was decided ({_form_errors(form)}).")
        return redirect("approvals:queue")
    try:
        decided = approval_decide(request_id=request_id, actor=request.user, decision=form.cleaned_data["decision"],
                                  note=form.cleaned_data["note"])
    except DecisionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _decided_message(decided, form.cleaned_data["decision"]))
    return redirect("approvals:queue")


def _form_errors(form: DecisionForm) -> str:
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


def _decided_message(request: ApprovalRequest, decision: str) -> str:
    what = f"#{request.pk} ({request.side} {request.size} {request.market} @ {request.price})"
    if decision == Decision.REJECT:
        return f"Rejected {what}. Nothing will be sent; the agent is told on its next run."
    if request.status == ApprovalStatus.PENDING:
        return (f"Your approval of {what} is recorded ({request.decisions.count()} of "
                f"{request.required_approvals}); a second, different approver is needed.")
    return (f"Approved {what}. It is being placed now: the kill switch and hard limits are checked again, "
            "and the outcome shows under Recently decided.")
