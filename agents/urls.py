"""URL routes of the operator UI for agents (included at /agents/, namespace "agents")."""

from __future__ import annotations

from django.urls import path

from agents import views

# "override.json" cannot be an agent name (slugs have no dot), so it never shadows an agent page.
urlpatterns = [
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("override.json", views.override_edit, name="override"),
    path("<slug:name>/", views.agent_detail, name="agent"),
    path("<slug:name>/enabled/", views.agent_set_enabled, name="agent_enabled"),
]
