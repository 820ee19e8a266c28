"""Admin for approval requests (decisions are made in the approvals UI, not here)."""

from __future__ import annotations

from django.contrib import admin

from academy.admin_tools import ReadOnlyAdmin
from approvals.models import ApprovalRequest


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "agent", "market", "side", "price", "size", "notional", "status", "requested_at"]
    list_filter = ["status", "agent"]
    list_select_related = ["agent"]
    search_fields = ["=client_order_id", "market"]
