"""URL routes of the desk (included at /desk/, namespace "desk")."""

from __future__ import annotations

from django.urls import path

from agents import views_desk

urlpatterns = [
    path("", views_desk.desk_page, name="desk"),
    path("state.json", views_desk.desk_state, name="state"),
]
