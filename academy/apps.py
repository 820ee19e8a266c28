from __future__ import annotations

from django.apps import AppConfig


class AcademyConfig(AppConfig):
    name = "academy"
    verbose_name = "Academy"

    def ready(self) -> None:
        from academy import checks  # noqa: F401  (registers the system checks)
