from __future__ import annotations

from typing import Any

from django.contrib import admin

from academy.admin_tools import ReadOnlyAdmin
from chatops.models import ChatAudit, ChatOperator, ChatState


@admin.register(ChatOperator)
class ChatOperatorAdmin(admin.ModelAdmin):
    list_display = ("platform", "external_id", "user", "enabled", "push", "chat_id", "created_at")
    list_filter = ("platform", "enabled", "push")
    search_fields = ("external_id", "user__username", "note")
    autocomplete_fields = ("user",)

    # A chat account acts as its user, with every permission of theirs: mapping one is a superuser's call
    # (anyone else could map their own chat account to a superuser and act as them, four-eyes included).
    def has_add_permission(self, request: Any) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(ChatAudit)
class ChatAuditAdmin(ReadOnlyAdmin):
    """Read-only: the record of what was asked of the bot and what came of it."""

    list_display = ("ts", "platform", "external_id", "handle", "user", "command", "outcome")
    list_filter = ("platform", "outcome", "command")
    search_fields = ("external_id", "handle", "user__username", "text", "detail")
    date_hierarchy = "ts"


@admin.register(ChatState)
class ChatStateAdmin(admin.ModelAdmin):
    list_display = ("platform", "heartbeat_at", "last_ok_at", "failing_since", "last_error", "push_failing_since",
                    "push_error")
    readonly_fields = ("heartbeat_at", "last_ok_at", "failing_since", "last_error", "push_failing_since",
                       "push_error")
