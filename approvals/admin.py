"""Admin for approval requests and the decision audit trail (both read-only: decisions are made in the queue UI)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from academy.admin_tools import ReadOnlyAdmin
from approvals.models import ApprovalDecision, ApprovalRequest


class DecisionInline(admin.TabularInline):
    """Who voted on this request, read-only: the audit record is append-only."""

    model = ApprovalDecision
    fields = ["ts", "actor", "decision", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "agent", "market", "side", "price", "size", "notional", "required_approvals", "status",
                    "requested_at", "decided_at"]
    list_filter = ["status", "agent"]
    list_select_related = ["agent"]
    search_fields = ["=client_order_id", "market"]
    inlines = [DecisionInline]


@admin.register(ApprovalDecision)
class ApprovalDecisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "ts", "request", "actor", "decision", "note"]
    list_filter = ["decision"]
    list_select_related = ["request", "actor"]
    search_fields = ["=request__id", "actor__username"]
    date_hierarchy = "ts"
