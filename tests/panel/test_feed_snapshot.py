"""The panel feed's snapshot: halts and alerts kept apart from run ends, so a fleet's run ends never bury a halt."""

from __future__ import annotations

import pytest

from monitoring import panel
from monitoring.outbox import outbox_publish

pytestmark = pytest.mark.django_db


def _run_end(n: int) -> None:
    outbox_publish("run_end", {"run": n, "agent": "a", "status": "completed", "cost": "0", "steps": 1})


def test_it_keeps_a_halt_in_the_feed_under_a_flood_of_run_ends():
    halt = outbox_publish("halt", {"action": "halt", "source": "command", "reason": "spread blew out"})
    alert = outbox_publish("alert", {"key": "cost_per_run:a", "state": "firing", "title": "cost_per_run 0.3"})
    for n in range(panel.FEED_SIZE + 10):
        _run_end(n)
    outbox_publish("approval", {"id": 1})  # not a feed event
    feed = panel.snapshot()["feed"]
    kinds = [e["kind"] for e in feed]
    assert kinds.count("run_end") == panel.FEED_SIZE and kinds[:2] == ["halt", "alert"]
    assert [e["id"] for e in feed] == sorted(e["id"] for e in feed)  # oldest first, as before
    assert {halt.pk, alert.pk} <= {e["id"] for e in feed}
    assert [e["payload"]["run"] for e in feed if e["kind"] == "run_end"] == list(range(10, panel.FEED_SIZE + 10))


def test_it_looks_for_halts_only_among_the_newest_events(monkeypatch):
    monkeypatch.setattr(panel, "FEED_SCAN", 5)
    outbox_publish("halt", {"action": "halt", "source": "command", "reason": "long ago"})
    for n in range(5):
        _run_end(n)
    recent = outbox_publish("resume", {"action": "resume", "source": "panel", "reason": "fine"})
    feed = panel.snapshot()["feed"]
    assert [e["kind"] for e in feed] == ["run_end"] * 4 + ["resume"]  # a bounded id range, never a table scan
    assert feed[-1]["id"] == recent.pk
