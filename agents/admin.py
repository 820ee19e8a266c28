"""Admin for agents, runs and the trace: staff browse traces here after a loss."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from academy.admin_tools import LargeTableAdmin, ReadOnlyAdmin, pretty_json
from agents.models import AgentConfig, DeskOverride, MarketQuarantine, Order, Run, TraceEvent


@admin.register(AgentConfig)
class AgentConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "policy_kind", "model_version", "enabled", "dry_run", "interval_s", "max_steps"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        """The name is fixed once the agent exists: the desk override pauses agents by name, its orders and
        traces are filed under it, and a rename would quietly lift a pause."""
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is None else (*fields, "name")
    list_filter = ["enabled", "policy_kind", "dry_run"]
    search_fields = ["name", "model_version"]
    fieldsets = [
        (None, {"fields": ["name", "owner", "enabled", "dry_run", "interval_s"]}),
        ("Policy", {"fields": ["policy_kind", "model_version", "temperature", "seed", "system_prompt"]}),
        ("Tools (defense layer 3)", {"fields": ["allowed_tools"]}),
        (
            "Hard limits (enforced in code)",
            {"fields": ["max_order_notional", "max_daily_notional", "max_open_positions", "max_market_exposure"]},
        ),
        (
            "Soft limits (human approval)",
            {"fields": ["approval_notional", "second_approval_notional", "known_market_types"]},
        ),
        ("Budgets per run", {"fields": ["max_tokens", "max_tool_calls", "max_seconds", "max_steps", "tool_timeout_s"]}),
    ]


@admin.register(Run)
class RunAdmin(LargeTableAdmin):
    list_display = ["id", "agent", "status", "started_at", "duration", "steps", "tool_calls", "cost", "events_link"]
    list_filter = ["agent", "status", ("started_at", admin.DateFieldListFilter)]
    list_select_related = ["agent"]
    search_fields = ["=id", "end_reason", "worker"]
    readonly_fields = ["events_link", "latencies", "scheduled_for", "worker", "lease_token"]
    exclude = ["model_latencies_ms"]

    @admin.display(description="duration (s)")
    def duration(self, run: Run) -> str:
        return "—" if run.duration_s is None else f"{run.duration_s:.1f}"

    @admin.display(description="trace")
    def events_link(self, run: Run) -> str:
        url = reverse("admin:agents_traceevent_changelist") + f"?run__id__exact={run.pk}"
        timeline = reverse("agents:run", args=[run.pk])
        return format_html('<a href="{}">events</a> · <a href="{}">timeline</a>', url, timeline)

    @admin.display(description="model latencies (ms)")
    def latencies(self, run: Run) -> str:
        return pretty_json(run.model_latencies_ms)


@admin.register(TraceEvent)
class TraceEventAdmin(LargeTableAdmin):
    list_display = ["id", "time", "agent", "run_link", "seq", "step", "kind", "tool"]
    list_filter = ["kind", "agent", ("ts", admin.DateFieldListFilter)]
    list_select_related = ["agent"]
    # Exact or prefix matches only, never a scan of the JSON; see get_search_results.
    search_fields = ["^tool", "=kind"]
    search_help_text = "A run id (digits), a tool-name prefix, or an event kind."
    fields = ["run_link", "agent", "seq", "step", "ts", "kind", "tool", "data_pretty"]
    readonly_fields = fields

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """Search a run id by equality alone: OR-ing it with text fields would scan the table."""
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(run_id=int(term)), False
        return super().get_search_results(request, queryset, term)

    @admin.display(description="time (UTC)", ordering="ts")
    def time(self, event: TraceEvent) -> str:
        return event.ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]  # a run lasts seconds: minutes hide its order

    @admin.display(description="run", ordering="run_id")
    def run_link(self, event: TraceEvent) -> str:
        url = reverse("admin:agents_run_change", args=[event.run_id])
        return format_html('<a href="{}">run {}</a>', url, event.run_id)

    @admin.display(description="data")
    def data_pretty(self, event: TraceEvent) -> str:
        return pretty_json(event.data)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["client_order_id", "agent", "market", "side", "outcome", "price", "size", "status", "created_at"]
    list_filter = ["status", "agent", "side"]
    list_select_related = ["agent"]
    search_fields = ["=client_order_id", "=venue_order_id", "market"]


@admin.register(MarketQuarantine)
class MarketQuarantineAdmin(ReadOnlyAdmin):
    """Markets set aside because their text was flagged; staff may lift one early (recorded)."""

    list_display = ["market", "agent", "since", "until", "lifted_by", "run"]
    list_filter = ["agent"]
    list_select_related = ["agent", "lifted_by"]
    search_fields = ["market"]
    readonly_fields = ["agent", "market", "run", "since", "until", "fields", "findings", "lifted_by", "lifted_at"]
    actions = ["lift"]

    @admin.action(description="Lift: let the agent read and trade these markets again", permissions=["change"])
    def lift(self, request: HttpRequest, queryset: QuerySet[MarketQuarantine]) -> None:
        now = timezone.now()
        n = queryset.filter(until__gt=now).update(until=now, lifted_by=request.user, lifted_at=now)
        self.message_user(request, f"Lifted {n} quarantine(s).")

    def has_change_permission(self, request: HttpRequest, obj: MarketQuarantine | None = None) -> bool:
        return bool(request.user.is_staff and request.user.has_perm("agents.change_marketquarantine"))


@admin.register(DeskOverride)
class DeskOverrideAdmin(ReadOnlyAdmin):
    """The desk override's history: who paused or tightened what, and when (the newest is in force)."""

    list_display = ["id", "created_at", "actor_name", "pause", "text"]
    list_filter = ["pause"]
    search_fields = ["actor_name", "text"]
    fields = ["created_at", "actor_name", "actor", "pause", "text"]
    readonly_fields = fields
