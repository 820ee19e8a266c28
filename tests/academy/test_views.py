"""The home page and /healthz."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from monitoring.models import KillSwitch, kill_switch_writer
from tests.factories import AgentConfigFactory, RunFactory

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_users_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)


def test_it_lists_agents_with_their_last_run(client, nobody):
    agent = AgentConfigFactory(name="alpha")
    RunFactory(agent=agent, status="completed")
    last = RunFactory(agent=agent, status="max_steps")
    client.force_login(nobody)
    page = client.get(reverse("home")).content.decode()
    assert "alpha" in page and f"#{last.pk}" in page and "max_steps" in page
    assert "TRADING ENABLED" in page


def test_it_shows_the_kill_switch_halted_from_the_row(client, nobody):
    with kill_switch_writer():
        KillSwitch.objects.filter(pk=1).update(active=True, reason="drill", source="command")
    client.force_login(nobody)
    page = client.get(reverse("home")).content.decode()
    assert "HALTED" in page and "drill" in page


def test_it_shows_the_kill_switch_halted_from_the_flag_file(client, nobody):
    flag = settings.DATA_DIR / "kill_switch.flag"
    flag.touch()
    try:
        client.force_login(nobody)
        assert "HALTED" in client.get(reverse("home")).content.decode()
    finally:
        flag.unlink()


def test_it_shows_unknown_not_running_when_the_row_is_missing(client, nobody):
    with kill_switch_writer():
        KillSwitch.objects.all().delete()
    client.force_login(nobody)
    page = client.get(reverse("home")).content.decode()
    assert "STATE UNKNOWN" in page and "TRADING ENABLED" not in page


def test_it_answers_healthz_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "db": "ok"}


def test_it_shows_the_paper_venue_reachable(client, nobody, venue, settings):
    settings.VENUE_URL = venue.url
    client.force_login(nobody)
    page = client.get(reverse("home")).content.decode()
    assert 'id="venue-state">reachable<' in page


def test_it_shows_an_unreachable_venue_plainly(client, nobody, settings):
    from paper_venue.testing import free_port

    settings.VENUE_URL = f"http://127.0.0.1:{free_port()}"
    client.force_login(nobody)
    page = client.get(reverse("home")).content.decode()
    assert 'id="venue-state">unreachable<' in page
