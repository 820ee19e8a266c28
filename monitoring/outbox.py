"""The outbox: every state change a live panel must see is one row, written by any process.

Call `outbox_publish()` inside the transaction that makes the change, so the panel never sees
a change that was rolled back, nor misses one that was committed.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from monitoring.models import OutboxEvent


def outbox_publish(kind: str, payload: dict[str, Any]) -> OutboxEvent:
    """Append one panel event (kinds: kill_switch, halt, resume, alert, approval, run_end)."""
    return OutboxEvent.objects.create(ts=timezone.now(), kind=kind, payload=payload)
