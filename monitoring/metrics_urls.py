"""URL routes of this app (included from academy/urls.py)."""

from __future__ import annotations

from django.urls import path  # noqa: F401

urlpatterns: list = []
