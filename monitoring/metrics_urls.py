"""Root-level routes of this app: /metrics for Prometheus (included from academy/urls.py)."""

from __future__ import annotations

from django.urls import path

from monitoring import views_metrics

urlpatterns = [
    path("metrics", views_metrics.metrics, name="metrics"),
]
