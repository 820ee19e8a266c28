"""URL routes of this app (included from academy/urls.py under /approvals/, namespace "approvals")."""

from __future__ import annotations

from django.urls import path

from approvals import views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("pending/", views.queue_fragment, name="fragment"),
    path("<int:request_id>/decide/", views.decide, name="decide"),
]
