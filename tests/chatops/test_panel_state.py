"""The panel says when the chat bot is degraded or down (and nothing when it is off or well)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chatops.models import ChatState
from monitoring.panel import chatbot_snapshot, snapshot


@pytest.mark.django_db
def test_the_bot_state_on_the_panel(settings) -> None:
    settings.TELEGRAM_BOT_TOKEN = ""
    assert chatbot_snapshot() == {"state": "off"} and snapshot()["chatbot"] == {"state": "off"}
    settings.TELEGRAM_BOT_TOKEN = "7000000001:AAH-token"
    assert chatbot_snapshot()["state"] == "down"  # configured, never seen: its process is not running
    now = timezone.now()
    row = ChatState.objects.create(platform="telegram", heartbeat_at=now, last_ok_at=now)
    assert chatbot_snapshot()["state"] == "ok"
    row.failing_since, row.last_error = now - timedelta(minutes=3), "getUpdates: HTTP 502"
    row.save()
    assert chatbot_snapshot() == {"state": "degraded", "since": row.failing_since.isoformat(),
                                  "error": "getUpdates: HTTP 502"}
    row.heartbeat_at = now - timedelta(minutes=5)
    row.save()
    state = chatbot_snapshot()
    assert state["state"] == "down" and "halts and pages wait for it" in state["error"]
