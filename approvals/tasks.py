"""Thin django-q2 tasks: take ids, call one service."""

from __future__ import annotations

from approvals.services import approval_place, approvals_expire


def approval_place_task(request_id: int) -> str:
    """Place one approved order (enqueued on commit by approval_decide); return its final status."""
    return approval_place(request_id=request_id).status


def approvals_expire_task() -> int:
    """The expiry sweep as a task (`manage.py monitor` calls approvals_expire itself every 30 s); return how many."""
    return approvals_expire()
