"""URL routes of the operator UI for agents (included at /agents/, namespace "agents")."""

from __future__ import annotations

from django.urls import path

from agents import views, views_charts
from agents import views_runs as runs

# "override.json" cannot be an agent name (slugs have no dot), so it never shadows an agent page.
urlpatterns = [
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    # Above <slug:name>/: "runs" is a valid agent slug, and this route must win.
    path("runs/", runs.run_search, name="runs"),
    path("override.json", views.override_edit, name="override"),
    path("override/pause/", views.override_pause, name="override_pause"),  # two segments: no agent page
    path("<slug:name>/", views.agent_detail, name="agent"),
    path("<slug:name>/enabled/", views.agent_set_enabled, name="agent_enabled"),
    path("<slug:name>/metrics.json", views_charts.agent_metrics, name="agent_metrics"),
]
