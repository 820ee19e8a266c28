"""Who may see approval requests (trades in flight): the queue page and the live panel share this rule."""

from __future__ import annotations

from typing import Any

VIEW_PERMISSIONS = ("approvals.approve_trade", "approvals.view_approvalrequest")


def may_view_approvals(user: Any) -> bool:
    """Approvers and those allowed to view requests; anonymous users and everyone else: no."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return any(user.has_perm(p) for p in VIEW_PERMISSIONS)
