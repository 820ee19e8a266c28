"""Websocket routes: the live kill-switch panel (monitoring/routing.py)."""

from __future__ import annotations

from monitoring.routing import websocket_urlpatterns

__all__ = ["websocket_urlpatterns"]
