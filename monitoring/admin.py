"""Admin for metrics, the kill switch and halt events (all read-only here)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from academy.admin_tools import LargeTableAdmin, ReadOnlyAdmin, pretty_json
from monitoring.halt import ResumeRefused, halt, resume
from monitoring.models import Alert, AlertDelivery, HaltEvent, HaltSource, KillSwitch, MetricSample


@admin.register(MetricSample)
class MetricSampleAdmin(LargeTableAdmin):
    list_display = ["ts", "name", "agent", "value", "run"]
    list_filter = ["name", "agent", ("ts", admin.DateFieldListFilter)]
    list_select_related = ["agent", "run__agent"]  # the run column names its agent


@admin.register(KillSwitch)
class KillSwitchAdmin(ReadOnlyAdmin):
    """Read-only row; the two actions go through halt()/resume() like every other shape."""

    list_display = ["__str__", "source", "reason", "since", "hold_until", "needs_reconciliation"]
    actions = ["halt_trading", "resume_trading"]

    def has_toggle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("monitoring.toggle_kill_switch")

    @admin.action(description="HALT trading (cancel every resting order)", permissions=["toggle"])
    def halt_trading(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._with_reason(request, queryset, "halt_trading", "Halt trading", self._halt)

    @admin.action(description="Resume trading", permissions=["toggle"])
    def resume_trading(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._with_reason(request, queryset, "resume_trading", "Resume trading", self._resume)

    def _with_reason(self, request: HttpRequest, queryset: QuerySet, action: str, title: str,
                     apply: Callable[[HttpRequest, str], None]) -> HttpResponse | None:
        """Ask for a reason on an intermediate page; apply only with a non-empty one."""
        reason = request.POST.get("reason", "").strip()
        if "apply" in request.POST and reason:
            apply(request, reason)
            return None
        if "apply" in request.POST:
            self.message_user(request, "A reason is required.", messages.ERROR)
        context = {**self.admin_site.each_context(request), "title": title, "action": action,
                   "queryset": queryset, "opts": self.model._meta}
        return TemplateResponse(request, "admin/monitoring/reason.html", context)

    def _halt(self, request: HttpRequest, reason: str) -> None:
        event = halt(reason=reason, source=HaltSource.ADMIN, actor=request.user)
        level = messages.WARNING if event.errors else messages.SUCCESS
        self.message_user(request, f"Halted: {event.orders_cancelled} resting orders cancelled. "
                          + " ".join(event.errors), level)

    def _resume(self, request: HttpRequest, reason: str) -> None:
        try:
            resume(actor=request.user, reason=reason, source=HaltSource.ADMIN)
        except (PermissionDenied, ResumeRefused, ValueError) as exc:
            self.message_user(request, f"Resume refused: {exc}", messages.ERROR)
            return
        self.message_user(request, "Trading resumed.", messages.SUCCESS)


@admin.register(HaltEvent)
class HaltEventAdmin(ReadOnlyAdmin):
    list_display = ["ts", "action", "source", "actor", "reason", "orders_cancelled", "flattened"]
    list_filter = ["action", "source"]
    readonly_fields = ["figures_pretty"]
    exclude = ["figures"]

    @admin.display(description="figures")
    def figures_pretty(self, event: HaltEvent) -> str:
        return pretty_json(event.figures)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["last_fired_at", "state", "severity", "key", "title", "fire_count"]
    list_filter = ["state", "severity"]
    search_fields = ["key", "title"]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "alert", "sink", "event", "status", "attempts", "last_error"]
    list_filter = ["status", "sink"]
