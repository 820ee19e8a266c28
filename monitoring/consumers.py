"""The live panel's websocket: a snapshot, the events missed since ?last_id=N, then live events.

Read-only by design: halt and resume are CSRF-protected POSTs (monitoring/views_panel.py), so
there is one permission-checked path for each, and the websocket carries nothing that acts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agents.venue.strict import InvalidInput, load_json, parse_int
from monitoring import panel

READ_ONLY = "the panel websocket only reads; halt and resume are POSTs to the panel's halt and resume URLs"
MAX_FRAME = 4096  # the panel only ever sends {"type": "ping"}


class PanelConsumer(AsyncJsonWebsocketConsumer):
    """One open panel. Anonymous users are refused before the handshake completes."""

    can_toggle = False
    can_see_approvals = False
    sent_in_catchup: set[int]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept(): the handshake fails with 403
            return
        self.sent_in_catchup = set()
        self.can_toggle = await database_sync_to_async(user.has_perm)("monitoring.toggle_kill_switch")
        self.can_see_approvals = await database_sync_to_async(panel.may_see_approvals)(user)
        await self.accept()
        await panel.tailer.subscribe(self.channel_name)  # first: live events queue up from here on
        await self._send_state(_last_id(self.scope))

    async def _send_state(self, last_id: int | None) -> None:
        """1. the snapshot; 2. the events after last_id (when given), oldest first."""
        snap, (events, truncated) = await database_sync_to_async(_state)(last_id)
        await self._send_snapshot(snap)
        if last_id is not None:
            self.sent_in_catchup = {e["id"] for e in events}
            events = panel.events_for_user(events, approvals=self.can_see_approvals)
            await self.send_json({"type": "events", "events": events, "catchup": True, "truncated": truncated})

    async def _send_snapshot(self, snap: dict[str, Any]) -> None:
        """Every snapshot goes through here: pending approvals only for users who may see the queue."""
        await self.send_json({"type": "snapshot", "snapshot": panel.for_user(snap, approvals=self.can_see_approvals),
                              "can_toggle": self.can_toggle})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "sent_in_catchup", None) is not None:  # only subscribed after accept()
            await panel.tailer.unsubscribe(self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Parse strictly (size and depth capped): a bad frame gets an error, not a crashed consumer."""
        try:
            content = load_json(text_data if text_data is not None else bytes_data or b"", max_bytes=MAX_FRAME)
        except InvalidInput as exc:
            await self.send_json({"type": "error", "message": str(exc)})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_json({"type": "error", "message": READ_ONLY})

    async def panel_batch(self, message: dict[str, Any]) -> None:
        """A batch from this process's tailer; skip what the catch-up already sent."""
        events = [e for e in message["events"] if e["id"] not in self.sent_in_catchup]
        events = panel.events_for_user(events, approvals=self.can_see_approvals)
        if events:
            await self.send_json({"type": "events", "events": events, "catchup": False, "truncated": False})
        if message.get("snapshot") is not None:
            await self._send_snapshot(message["snapshot"])


def _state(last_id: int | None) -> tuple[dict[str, Any], tuple[list[dict[str, Any]], bool]]:
    missed = panel.events_after(last_id) if last_id is not None else ([], False)
    return panel.snapshot(), missed


def _last_id(scope: dict[str, Any]) -> int | None:
    """?last_id=N: a non-negative integer, or None (no catch-up) for anything else."""
    raw = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("last_id", [""])[0]
    try:  # ASCII digits only and bounded: isdigit() let '²' through to int(), which raised
        return parse_int(raw, "last_id", low=0, high=2**63 - 1)
    except InvalidInput:
        return None
