"""URL routes of the live panel (included at /panel/, namespace "monitoring")."""

from __future__ import annotations

from django.urls import path

from monitoring import views_panel

urlpatterns = [
    path("", views_panel.panel, name="panel"),
    path("state.json", views_panel.panel_state, name="panel_state"),
    path("activity.json", views_panel.panel_activity, name="panel_activity"),
    path("halt/", views_panel.panel_halt, name="panel_halt"),
    path("resume/", views_panel.panel_resume, name="panel_resume"),
]
