"""Websocket routes of the live panel."""

from __future__ import annotations

websocket_urlpatterns: list = []
