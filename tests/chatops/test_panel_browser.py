"""The live panel shows a degraded chat bot (its API failing) in the kill-switch box, in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paper_venue.testing import RunningVenue
from tests.browser import chromium, panel_page, paper_panel, require_chromium
from tests.panel.server import PanelServer

pytestmark = pytest.mark.browser
require_chromium()


@pytest.fixture
def bot_server(venue: RunningVenue, tmp_path: Path) -> Iterator[PanelServer]:
    with paper_panel(venue, tmp_path / "panel-chatbot", account="panel-chatbot") as server:
        server.env["TELEGRAM_BOT_TOKEN"] = "7000000001:AAH-panel-test-token"
        server.restart()
        yield server


def test_the_panel_says_the_chat_bot_is_degraded_and_since_when(venue, bot_server) -> None:
    bot_server.shell(
        "from datetime import timedelta; from django.utils import timezone; from chatops.models import ChatState; "
        "now = timezone.now(); ChatState.objects.create(platform='telegram', heartbeat_at=now, "
        "failing_since=now - timedelta(minutes=4), last_error='getUpdates: HTTP 502 Bad Gateway')")
    with chromium() as browser:
        page = panel_page(browser, bot_server, "operator")
        line = page.locator("#chatbot-state")
        line.wait_for(timeout=5000)
        text = line.inner_text()
        assert text.startswith("Chat bot DEGRADED since ") and "getUpdates: HTTP 502 Bad Gateway" in text
