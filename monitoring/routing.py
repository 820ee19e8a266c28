"""Websocket routes of the live panel."""

from __future__ import annotations

from django.urls import path

from monitoring.consumers import PanelConsumer

websocket_urlpatterns = [
    path("ws/panel/", PanelConsumer.as_asgi(), name="panel_ws"),
]
