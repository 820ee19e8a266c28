from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring and kill switch"

    def ready(self) -> None:
        from monitoring import prom, sinks  # noqa: F401  (registers the monitoring.E0xx system checks)
        from monitoring.halt import halt_slot_allocate

        halt_slot_allocate()  # before the disk can fill: a halt then needs no free space (agents/core/haltslot.py)
