"""Strict input at the Django views and the panel websocket (issue 12, item 6): bad input is a
clear 400 (or an error message on the socket), never a 500, and nothing is half-written."""

from __future__ import annotations

import json
import random

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse

from agents.overrides import desk_override_current, desk_override_text, override_write
from monitoring.models import HaltEvent
from tests.fuzz import random_document
from tests.panel.conftest import communicator, session_cookie

pytestmark = pytest.mark.django_db
FETCH = {"HTTP_X_PANEL_FETCH": "1"}
ORIGINAL = '{"pause": false}\n'
# Each of these is 10 (or 1000) to Python's Decimal, which the override schema uses.
BAD_NUMBERS = ["1_0", "١٠", "１０", "1e3", " 10", "10\n", "+10", "NaN", "Infinity", ".5"]


def _post_override(client, document: str):
    from agents.overrides import desk_override_row

    row = desk_override_row()  # as the form says which override it shows
    return client.post(reverse("agents:override"), {"document": document, "based_on": row.pk if row else ""})


def _error(response) -> str:
    return response.context["override_error"]


def test_it_refuses_a_deeply_nested_override_with_a_400(client, operator, data_dir):
    override_write(text=ORIGINAL, actor=operator)
    client.force_login(operator)
    for document in ("[" * 100_000 + "]" * 100_000, '{"limits": ' * 50_000 + "{}" + "}" * 50_000,
                     '{"note": ' + "[" * 9 + "]" * 9 + "}"):  # fmt: skip
        response = _post_override(client, document)
        assert response.status_code == 400, response.status_code
        assert _error(response).startswith("document: is "), _error(response)  # too large / nested deeper
    assert desk_override_text() == ORIGINAL


def test_it_refuses_override_limits_that_are_not_plain_ascii_decimals(client, operator, data_dir):
    override_write(text=ORIGINAL, actor=operator)
    client.force_login(operator)
    for value in BAD_NUMBERS:
        response = _post_override(client, json.dumps({"limits": {"max_order_notional": value}}))
        assert response.status_code == 400, value
        assert _error(response).startswith("limits.max_order_notional: "), (value, _error(response))
    for literal in ("1e3", "true", "NaN", "-Infinity"):  # JSON literals, not strings
        response = _post_override(client, '{"limits": {"max_open_positions": ' + literal + "}}")
        assert response.status_code == 400, literal
        assert _error(response).split(":")[0] in ("limits.max_open_positions", "document"), _error(response)
    assert desk_override_text() == ORIGINAL
    response = _post_override(client, '{"limits": {"max_order_notional": "10", "max_open_positions": 3}}')
    assert response.status_code == 302  # plain numbers, as strings or JSON numbers, are fine
    assert json.loads(desk_override_text())["limits"]["max_open_positions"] == 3


def test_it_refuses_a_huge_or_broken_override_document(client, operator, data_dir):
    override_write(text=ORIGINAL, actor=operator)
    client.force_login(operator)
    huge = json.dumps({"note": "x" * 100_000})
    for document in (huge, '{"note": "\\ud800"}', "\ufeff{}", '{"pause": false, "pause": true, "note": "\x00"}'):
        response = _post_override(client, document)
        assert response.status_code == 400, document[:30]
        assert _error(response).split(":")[0] in ("document", "note"), _error(response)
    over_django_cap = client.post(reverse("agents:override"), {"document": "x" * 3_000_000})
    assert over_django_cap.status_code == 400  # DATA_UPLOAD_MAX_MEMORY_SIZE: Django's own 400
    assert desk_override_text() == ORIGINAL


def test_it_halts_with_control_characters_removed_from_the_reason(client, operator, panel_venue):
    client.force_login(operator)
    response = client.post(reverse("monitoring:panel_halt"), {"reason": "odd\x00 fills\x1b[31m\tnow"}, **FETCH)
    assert response.status_code == 200, response.content
    event = HaltEvent.objects.get(action="halt")
    assert event.reason == "odd fills[31m\tnow"  # no NUL for PostgreSQL to refuse after the venue sweep
    response = client.post(reverse("monitoring:panel_halt"), {"reason": "\x00\x01 "}, **FETCH)
    assert response.status_code == 400 and "needs a reason" in response.json()["message"]


def test_it_answers_fuzzed_posts_to_the_views_with_2xx_3xx_or_4xx(client, operator, data_dir):
    override_write(text=ORIGINAL, actor=operator)
    client.force_login(operator)
    client.raise_request_exception = True  # a 500 would raise here instead of hiding in a status code
    rng = random.Random(12)
    for i in range(300):
        document = _fuzz_document(rng) if i % 2 else "".join(chr(rng.randrange(0x30000)) for _ in range(50))
        targets = [(reverse("agents:override"), {"document": document}),
                   (reverse("approvals:decide", args=[rng.randrange(1, 10**6)]), {"decision": document[:50],
                                                                                  "note": document}),
                   (reverse("monitoring:panel_resume"), {"reason": document})]  # fmt: skip
        url, data = targets[i % len(targets)]
        response = client.post(url, {k: _no_surrogates(v) for k, v in data.items()}, **(FETCH if i % 3 else {}))
        assert response.status_code < 500, (url, document[:100])
    written = desk_override_text()
    assert written == ORIGINAL or json.loads(written) is not None  # whatever was accepted is whole JSON


def _no_surrogates(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _fuzz_document(rng: random.Random) -> str:
    keys = ["pause", "limits", "note", "max_order_notional", "max_open_positions", "approval_notional", "x"]
    return random_document(rng, keys, [*BAD_NUMBERS, "10", 3, -1, 0.5, True, None, "", "a\x00b", "\u202e", 10**30])


def test_it_keeps_the_panel_socket_open_after_bad_frames_and_a_bad_last_id(operator):
    cookie = session_cookie(operator)

    async def scenario() -> list[str]:
        comm = communicator(cookie)
        comm.scope["query_string"] = b"last_id=%C2%B2"  # '²': isdigit() is True, int() raises
        connected, _ = await comm.connect()
        assert connected
        assert (await comm.receive_json_from(timeout=3))["type"] == "snapshot"
        errors = []
        for frame in ("[" * 100_000 + "]" * 100_000, "[" * 500 + "]" * 500, "{nope", '{"a": NaN}'):
            await comm.send_to(text_data=frame)
            errors.append((await comm.receive_json_from(timeout=3))["message"])
        await comm.send_json_to({"type": "ping"})
        assert (await comm.receive_json_from(timeout=3))["type"] == "pong"
        await comm.disconnect()
        return errors

    errors = async_to_sync(scenario)()
    assert all(e.startswith("body: ") for e in errors), errors


def test_it_drops_control_and_bidi_characters_from_an_override_note(client, operator, data_dir):
    client.force_login(operator)
    response = _post_override(client, json.dumps({"pause": True, "note": "maint\u0000 window \u202eevil"}))
    assert response.status_code in (200, 302), response.status_code
    assert desk_override_current().note == "maint window evil"
