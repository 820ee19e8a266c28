from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring and kill switch"

    def ready(self) -> None:
        from monitoring import prom, sinks  # noqa: F401  (registers the monitoring.E0xx system checks)
