"""What the review of the desk and the per-agent pause found, each fixed: an editor save never undoes a
pause pressed meanwhile; the desk says HALTED first; a pause request must say pause or resume; a paused
agent cannot be renamed out of its pause; a name in pause_agents is a slug."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from agents import desk
from agents.models import DeskOverride
from agents.overrides import OverrideInvalid, desk_override_current, override_pause_set, override_write
from agents.services import stop_check
from monitoring.halt import halt
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_desk_cache():
    desk.desk_cache_clear()
    yield
    desk.desk_cache_clear()


def test_an_editor_save_based_on_an_older_override_is_refused_and_the_pause_kept(client, operator):
    AgentConfigFactory(name="alpha")
    client.force_login(operator)
    page = client.get(reverse("agents:override")).content.decode()
    assert 'name="based_on" value=""' in page  # the form says which override it shows (none yet)
    override_pause_set(actor=operator, pause=True, reason="odd fills", agent="alpha")  # pressed meanwhile
    response = client.post(reverse("agents:override"), {"document": '{"note": "fomc at 18:00"}', "based_on": ""})
    html = response.content.decode()
    assert response.status_code == 409 and "someone changed the desk override while you edited it" in html
    assert "paused agents: alpha" in html and "fomc at 18:00" in html  # the draft kept
    assert list(desk_override_current().pause_agents) == ["alpha"]
    assert stop_check(agent="alpha")().stop is not None
    row = DeskOverride.objects.latest("pk")
    stale = client.post(reverse("agents:override"), {"document": '{"note": "x"}'})  # an old form: no based_on
    assert stale.status_code == 400 and "out of date" in stale.content.decode()
    saved = client.post(reverse("agents:override"), {"document": '{"note": "x", "pause_agents": ["alpha"]}',
                                                     "based_on": str(row.pk)})
    assert saved.status_code == 302 and desk_override_current().note == "x"


def test_the_desk_says_halted_first_not_trading(client, operator, settings):
    settings.VENUE_URL = "http://127.0.0.1:9"
    AgentConfigFactory(name="alpha")
    client.force_login(operator)
    assert 'id="desk-halted"' not in client.get("/desk/").content.decode()
    halt(reason="drill at the desk", source="command")
    html = client.get("/desk/").content.decode()
    assert 'id="desk-halted">HALTED: drill at the desk<' in html
    assert "desk trading" not in html


def test_a_pause_request_that_does_not_say_pause_or_resume_changes_nothing(client, operator):
    AgentConfigFactory(name="alpha")
    override_pause_set(actor=operator, pause=True, reason="odd", agent="alpha")
    client.force_login(operator)
    for form in ({"agent": "alpha", "reason": "y"}, {"agent": "alpha", "reason": "y", "pause": "on"},
                 {"reason": "y", "pause": ""}):
        response = client.post(reverse("agents:override_pause"), form, follow=True)
        assert "did not say pause (1) or resume (0)" in response.content.decode()
    assert list(desk_override_current().pause_agents) == ["alpha"] and DeskOverride.objects.count() == 1


def test_an_agents_name_is_fixed_once_it_exists(admin_client):
    agent = AgentConfigFactory(name="alpha")
    html = admin_client.get(reverse("admin:agents_agentconfig_change", args=[agent.pk])).content.decode()
    assert 'name="name"' not in html  # shown, not editable
    assert 'name="name"' in admin_client.get(reverse("admin:agents_agentconfig_add")).content.decode()


def test_a_paused_agents_name_must_be_a_slug(operator):
    for bad in ("alpha\nFORGED log line", "a b", "x" * 101):
        with pytest.raises(OverrideInvalid):
            override_write(text=json.dumps({"pause_agents": [bad]}), actor=operator)
    assert not DeskOverride.objects.exists()
