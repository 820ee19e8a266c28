"""Admin for metrics, the kill switch and halt events (all read-only here)."""

from __future__ import annotations

from django.contrib import admin

from academy.admin_tools import LargeTableAdmin, ReadOnlyAdmin, pretty_json
from monitoring.models import HaltEvent, KillSwitch, MetricSample


@admin.register(MetricSample)
class MetricSampleAdmin(LargeTableAdmin):
    list_display = ["ts", "name", "agent", "value", "run"]
    list_filter = ["name", "agent", ("ts", admin.DateFieldListFilter)]
    list_select_related = ["agent"]


@admin.register(KillSwitch)
class KillSwitchAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "source", "reason", "since", "hold_until", "needs_reconciliation"]


@admin.register(HaltEvent)
class HaltEventAdmin(ReadOnlyAdmin):
    list_display = ["ts", "action", "source", "actor", "reason", "orders_cancelled", "flattened"]
    list_filter = ["action", "source"]
    readonly_fields = ["figures_pretty"]
    exclude = ["figures"]

    @admin.display(description="figures")
    def figures_pretty(self, event: HaltEvent) -> str:
        return pretty_json(event.figures)
