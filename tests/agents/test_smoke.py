"""The card's smoke test: a 30 s live run on the paper venue, zero crashes."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agents.venue.client import HttpVenue
from agents.venue.testing import free_port
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_the_demo_agent_for_thirty_seconds_with_zero_crashes(fresh_venue, settings):
    running, _ = fresh_venue
    settings.VENUE_URL, settings.VENUE_API_KEY = running.url, running.api_key
    AgentConfigFactory(known_market_types=["crypto-hourly", "sports", "politics"])
    out = StringIO()
    call_command("smoke", seconds=30, stdout=out)
    assert "smoke passed" in out.getvalue()
    assert HttpVenue(running.url, running.api_key).orders()  # it really traded


def test_it_fails_when_the_venue_is_down(settings):
    settings.VENUE_URL = f"http://127.0.0.1:{free_port()}"
    settings.GUARD_GRACE_S = 3600  # here: the crashed runs must fail the smoke, not a halt first
    AgentConfigFactory()
    with pytest.raises(CommandError, match="smoke failed"):
        call_command("smoke", seconds=2, stdout=StringIO())
