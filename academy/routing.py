"""Websocket routes (the live kill-switch panel is added by the monitoring app)."""

from __future__ import annotations

websocket_urlpatterns: list = []
