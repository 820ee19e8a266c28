"""The live panel shows a degraded chat bot (its API failing) in the kill-switch box, in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue
from tests.panel.server import PanelServer
from tests.panel.test_browser import ARGS, CHROMIUM, _panel

pytestmark = pytest.mark.browser
playwright_sync = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


@pytest.fixture
def bot_server(venue: RunningVenue, tmp_path: Path) -> Iterator[PanelServer]:
    faults = Faults(venue.url, venue.faults_token)
    key = "key-panel-chatbot-0123456789"
    faults.account("panel-chatbot", key, "10000")
    faults.close()
    server = PanelServer.create(tmp_path / "panel-chatbot", venue_url=venue.url, venue_api_key=key)
    server.env["TELEGRAM_BOT_TOKEN"] = "7000000001:AAH-panel-test-token"
    server.restart()
    yield server
    server.stop()


def test_the_panel_says_the_chat_bot_is_degraded_and_since_when(venue, bot_server) -> None:
    bot_server.shell(
        "from datetime import timedelta; from django.utils import timezone; from chatops.models import ChatState; "
        "now = timezone.now(); ChatState.objects.create(platform='telegram', heartbeat_at=now, "
        "failing_since=now - timedelta(minutes=4), last_error='getUpdates: HTTP 502 Bad Gateway')")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = _panel(browser, bot_server, "operator")
            line = page.locator("#chatbot-state")
            line.wait_for(timeout=5000)
            text = line.inner_text()
            assert text.startswith("Chat bot DEGRADED since ") and "getUpdates: HTTP 502 Bad Gateway" in text
        finally:
            browser.close()
