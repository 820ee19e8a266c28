"""The panel websocket through the real ASGI stack: auth, live halts, catch-up, read-only."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from agents.venue.client import HttpVenue
from monitoring import panel
from monitoring.halt import halt, kill_switch_state
from monitoring.models import OutboxEvent
from monitoring.outbox import outbox_publish
from tests.panel.conftest import communicator, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 3


@pytest.fixture
def make_request_row():
    """A pending approval request (market secret-market) as the panel's snapshot lists it."""
    from tests.factories import ApprovalRequestFactory

    return lambda: ApprovalRequestFactory(market="secret-market")


async def _receive_until(comm: WebsocketCommunicator, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Skip messages (periodic snapshots, other events) until one matches."""
    while True:
        message = await comm.receive_json_from(timeout=TIMEOUT)
        if wanted(message):
            return message


def _events_of(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "events" and any(e["kind"] == kind for e in m["events"])


def test_it_refuses_anonymous_before_the_handshake():
    async def scenario() -> None:
        comm = communicator(None)
        connected, code = await comm.connect()
        assert connected is False
        assert code == 1000  # closed before accept(): daphne answers such a handshake with HTTP 403
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_refuses_a_foreign_origin(operator):
    cookie = session_cookie(operator)

    async def scenario() -> None:
        comm = communicator(cookie)
        comm.scope["headers"] = [(k, b"http://evil.example" if k == b"origin" else v) for k, v in comm.scope["headers"]]
        connected, _ = await comm.connect()
        assert connected is False

    async_to_sync(scenario)()


def test_it_sends_a_snapshot_on_connect(operator):
    cookie = session_cookie(operator)

    async def scenario() -> None:
        comm = communicator(cookie)
        assert (await comm.connect())[0]
        message = await comm.receive_json_from(timeout=TIMEOUT)
        assert message["type"] == "snapshot"
        assert message["can_toggle"] is True
        assert message["snapshot"]["kill_switch"]["state"] == "running"
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_pushes_a_halt_to_a_connected_panel(operator, make_trader: Callable[..., HttpVenue]):
    trader = make_trader()

    cookie = session_cookie(operator)

    async def scenario() -> None:
        comm = communicator(cookie)
        assert (await comm.connect())[0]
        await comm.receive_json_from(timeout=TIMEOUT)  # the snapshot on connect
        await database_sync_to_async(halt)(reason="consumer test", source="command", venue=trader)
        events = await _receive_until(comm, _events_of("halt"))
        halt_event = next(e for e in events["events"] if e["kind"] == "halt")
        assert halt_event["payload"]["reason"] == "consumer test"
        assert events["catchup"] is False
        snap = await _receive_until(comm, lambda m: m["type"] == "snapshot")
        assert snap["snapshot"]["kill_switch"]["state"] == "halted"
        assert snap["snapshot"]["kill_switch"]["reason"] == "consumer test"
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_catches_up_on_reconnect_from_the_last_id_seen(operator):
    cookie = session_cookie(operator)

    async def scenario() -> None:
        comm = communicator(cookie)
        assert (await comm.connect())[0]
        first = await comm.receive_json_from(timeout=TIMEOUT)
        last_seen = first["snapshot"]["last_id"]
        await comm.disconnect()
        publish = database_sync_to_async(outbox_publish)
        missed = [await publish("run_end", {"run": n, "agent": "a", "status": "completed"}) for n in (1, 2, 3)]
        again = communicator(cookie, last_id=last_seen)
        assert (await again.connect())[0]
        assert (await again.receive_json_from(timeout=TIMEOUT))["type"] == "snapshot"
        caught = await again.receive_json_from(timeout=TIMEOUT)
        assert caught == {"type": "events", "catchup": True, "truncated": False, "events": caught["events"]}
        assert [e["id"] for e in caught["events"]] == [e.pk for e in missed]
        assert [e["payload"]["run"] for e in caught["events"]] == [1, 2, 3]
        await again.disconnect()

    async_to_sync(scenario)()


def test_it_sends_an_event_once_when_catch_up_and_live_overlap(operator, monkeypatch):
    """An event committed after the tailer fixed its cursor but before the catch-up read is in BOTH
    the catch-up and the tailer's next live batch: the consumer must send it once."""
    cookie = session_cookie(operator)
    base = outbox_publish("run_end", {"run": 1})
    real_events_after = panel.events_after
    overlap: list[int] = []

    def events_after_with_a_commit_first(last_id: int, limit: int = panel.CATCHUP_MAX):
        # Runs after subscribe() fixed the cursor at base.pk: this event is also the tailer's next live one.
        overlap.append(outbox_publish("run_end", {"run": 2}).pk)
        return real_events_after(last_id, limit)

    monkeypatch.setattr(panel, "events_after", events_after_with_a_commit_first)

    async def scenario() -> None:
        comm = communicator(cookie, last_id=base.pk - 1)
        assert (await comm.connect())[0]
        assert (await comm.receive_json_from(timeout=TIMEOUT))["type"] == "snapshot"
        caught = await comm.receive_json_from(timeout=TIMEOUT)
        assert caught["catchup"] is True
        assert [e["id"] for e in caught["events"]] == [base.pk, overlap[0]]
        marker = await database_sync_to_async(outbox_publish)("override", {"note": "marker"})
        delivered: list[int] = []
        while marker.pk not in delivered:  # everything live up to the marker (the overlap batch came first)
            message = await comm.receive_json_from(timeout=TIMEOUT)
            if message["type"] == "events":
                assert message["catchup"] is False
                delivered += [e["id"] for e in message["events"]]
        assert delivered == [marker.pk]  # the overlapping event was not sent a second time
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_still_delivers_a_halt_after_the_group_membership_expired(operator, make_trader):
    """Channel layers drop group members after group_expiry (24 h by default): the tailer re-adds them."""
    trader = make_trader()
    cookie = session_cookie(operator)
    layer = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"group_expiry": 1}}}

    async def scenario() -> None:
        comm = communicator(cookie)
        assert (await comm.connect())[0]
        await comm.receive_json_from(timeout=TIMEOUT)
        await asyncio.sleep(2.5)  # > group_expiry: the join from connect() alone has expired by now
        await database_sync_to_async(halt)(reason="after expiry", source="command", venue=trader)
        events = await _receive_until(comm, _events_of("halt"))
        assert [e["payload"]["reason"] for e in events["events"] if e["kind"] == "halt"] == ["after expiry"]
        await comm.disconnect()

    with override_settings(CHANNEL_LAYERS=layer):
        async_to_sync(scenario)()


def _approval_event() -> OutboxEvent:
    return outbox_publish("approval", {"id": 1, "event": "requested", "status": "pending", "market": "secret-market",
                                       "side": "BUY", "size": "50"})


@pytest.mark.parametrize("who,sees", [("nobody", False), ("approver", True)])
def test_it_shows_approvals_over_the_websocket_only_to_users_of_the_queue(request, make_request_row, who, sees):
    """Snapshot on connect, catch-up, live events and live snapshots: no approval for `nobody`."""
    user = request.getfixturevalue(who)
    make_request_row()
    cookie = session_cookie(user)
    before = _approval_event()

    async def scenario() -> None:
        comm = communicator(cookie, last_id=before.pk - 1)
        assert (await comm.connect())[0]
        first = await comm.receive_json_from(timeout=TIMEOUT)
        assert ("approvals" in first["snapshot"]) is sees
        if sees:
            assert [a["market"] for a in first["snapshot"]["approvals"]] == ["secret-market"]
        caught = await comm.receive_json_from(timeout=TIMEOUT)
        assert [e["kind"] for e in caught["events"]] == (["approval"] if sees else [])
        live = await database_sync_to_async(_approval_event)()
        marker = await database_sync_to_async(outbox_publish)("override", {"note": "marker"})
        delivered: list[dict[str, Any]] = []
        snapshots: list[dict[str, Any]] = []
        while marker.pk not in [e["id"] for e in delivered] or not snapshots:
            message = await comm.receive_json_from(timeout=TIMEOUT)
            if message["type"] == "events":
                delivered += message["events"]
            elif message["type"] == "snapshot":
                snapshots.append(message["snapshot"])
        assert (live.pk in [e["id"] for e in delivered]) is sees
        assert all(("approvals" in snap) is sees for snap in snapshots)
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_lets_a_read_only_user_watch_but_not_halt(nobody):
    cookie = session_cookie(nobody)

    async def scenario() -> None:
        comm = communicator(cookie)
        assert (await comm.connect())[0]
        snap = await comm.receive_json_from(timeout=TIMEOUT)
        assert snap["can_toggle"] is False
        await comm.send_json_to({"type": "halt", "reason": "let me"})
        answer = await _receive_until(comm, lambda m: m["type"] == "error")
        assert "only reads" in answer["message"]
        await comm.disconnect()

    async_to_sync(scenario)()
    assert kill_switch_state()["state"] == "running"
    assert not OutboxEvent.objects.filter(kind="halt").exists()


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_it_pushes_through_the_redis_channel_layer(operator):
    layer = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                         "CONFIG": {"hosts": ["redis://127.0.0.1:6379/9"], "prefix": f"test-{uuid.uuid4().hex[:8]}"}}}

    cookie = session_cookie(operator)

    async def scenario() -> None:
        comm = communicator(cookie)
        assert (await comm.connect())[0]
        await comm.receive_json_from(timeout=TIMEOUT)
        event = await database_sync_to_async(outbox_publish)("run_end", {"run": 7, "agent": "a", "status": "completed"})
        got = await _receive_until(comm, _events_of("run_end"))
        assert [e["id"] for e in got["events"]] == [event.pk]
        await comm.disconnect()

    with override_settings(CHANNEL_LAYERS=layer):
        async_to_sync(scenario)()
