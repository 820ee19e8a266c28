"""Panel fixtures: a websocket client through the real ASGI stack (origin check, session auth)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from agents.venue.client import HttpVenue
from paper_venue.testing import RunningVenue


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def communicator(cookie: str | None = None, last_id: int | None = None) -> WebsocketCommunicator:
    """A panel websocket as a browser on 127.0.0.1 would open it (Origin + session cookie).

    Take the cookie from session_cookie(), called outside the event loop (it writes a session row).
    """
    from academy.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    path = "/ws/panel/" + (f"?last_id={last_id}" if last_id is not None else "")
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.fixture
def panel_venue(settings, venue: RunningVenue, make_trader: Callable[..., HttpVenue]) -> HttpVenue:
    """Point the deployment's venue (what halt() sweeps when called from a view) at a fresh paper account."""
    trader = make_trader()
    settings.VENUE_URL = venue.url
    settings.VENUE_API_KEY = trader.api_key  # type: ignore[attr-defined]
    return trader


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """A fresh $ACADEMY_DATA_DIR per test: the flag file and override.json live there."""
    settings.DATA_DIR = tmp_path
    return tmp_path
