"""The deploy gate with VENUE=limitless: item 6 checks the dead-man's watchdog and its cover beat (Limitless has
no cancel-on-disconnect), and item 5b the live venue's keys and clock, never sending an order."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from academy import deploy_gate
from academy.deploy_gate import FAIL, NOT_CHECKED, PASS
from agents import services
from agents.venue.port import VenueError, VenueUnavailable
from monitoring.metrics import metric_record
from monitoring.models import CoverBeat
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db

KEY = "0x" + "ab" * 32  # a valid secp256k1 key, for tests only
HMAC_SECRET = base64.b64encode(b"hmac-secret-for-tests-" * 2).decode()
WALLET = "0x000000000000000000000000000000000000dEaD"


class FakeLimitless:
    """What limitless_venue() returns here: it records every attribute asked for (an order would show)."""

    address = WALLET

    def __init__(self, skew: str = "") -> None:
        self.asked: list[str] = []
        self.skew = skew
        self.clock_checked = False

    def check_clock(self) -> float:
        """A read of the venue's Date header (never an order): allowed."""
        self.clock_checked = True
        if self.skew:
            raise VenueError(self.skew)
        return 0.0

    def __getattr__(self, name: str) -> Any:
        self.asked.append(name)
        raise AssertionError(f"the gate used the configured venue: {name}")


@pytest.fixture
def live(settings, monkeypatch):
    settings.VENUE = "limitless"
    settings.VENUE_CANCEL_ON_DISCONNECT = False  # what academy/settings.py forces on Limitless
    settings.LIMITLESS_API_URL = "https://api.limitless.exchange"
    settings.LIMITLESS_WS_URL = "https://ws.limitless.exchange"
    settings.LIMITLESS_PRIVATE_KEY = KEY
    settings.LIMITLESS_HMAC_TOKEN_ID = "token-1"
    settings.LIMITLESS_HMAC_SECRET = HMAC_SECRET
    settings.LIMITLESS_API_KEY = ""
    settings.CHAIN_RPC_URL = "https://base.example.com/v2/rpc-path-secret"
    settings.ALERT_SINKS = ["log", "webhook"]
    settings.ALERT_WEBHOOK_URL = "https://hooks.example.com/academy"
    settings.REQUIRE_MONITOR_HEARTBEAT = True
    settings.REQUIRE_DEADMAN_COVER = True
    settings.DEADMAN_WATCHDOG_S = 15
    fake = FakeLimitless()
    monkeypatch.setattr("agents.services.limitless_venue", lambda: fake)
    metric_record("kill_switch_active", 0)  # the monitor ran just now
    return fake


def armed_beat(*, age_s: float = 0.0, armed: bool = True) -> CoverBeat:
    """The monitor's cover beat for this account, as cover_confirm writes it."""
    at = timezone.now() - timedelta(seconds=age_s)
    return CoverBeat.objects.create(
        host="monitor-1", account=services.cover_account(), armed=armed, confirmed_at=at, armed_at=at if armed else None
    )


def test_it_passes_item_6_on_limitless_with_the_watchdog_and_a_fresh_armed_beat(live):
    armed_beat()

    result = deploy_gate.check_cancel_on_disconnect()

    assert result.status == PASS, result
    assert "REQUIRE_DEADMAN_COVER=True" in result.detail and "DEADMAN_WATCHDOG_S=15" in result.detail
    assert "cover beat: armed within 3 s" in result.detail
    assert "VENUE_CANCEL_ON_DISCONNECT" not in result.detail  # forced off on Limitless: not what is checked


def test_it_fails_item_6_on_limitless_without_a_cover_beat(live):
    result = deploy_gate.check_cancel_on_disconnect()

    assert result.status == FAIL, result
    assert "cover beat: none armed within 3 s" in result.detail and "(never)" in result.detail


def test_it_fails_item_6_on_limitless_with_a_stale_or_down_beat(live):
    beat = armed_beat(age_s=60)
    stale = deploy_gate.check_cancel_on_disconnect()
    CoverBeat.objects.filter(pk=beat.pk).update(armed=False, confirmed_at=timezone.now())
    down = deploy_gate.check_cancel_on_disconnect()

    assert stale.status == FAIL and "last armed at" in stale.detail, stale
    assert down.status == FAIL and "last DOWN at" in down.detail, down


def test_it_ignores_a_beat_for_another_account(live):
    CoverBeat.objects.create(
        host="monitor-1", account="0123456789abcdef", armed=True, confirmed_at=timezone.now(), armed_at=timezone.now()
    )

    assert deploy_gate.check_cancel_on_disconnect().status == FAIL


def test_it_fails_item_6_on_limitless_without_the_deadman_cover(live, settings):
    armed_beat()
    settings.REQUIRE_DEADMAN_COVER = False

    result = deploy_gate.check_cancel_on_disconnect()

    assert result.status == FAIL and "FAILED REQUIRE_DEADMAN_COVER=False" in result.detail, result


def test_it_passes_item_5b_with_the_keys_set_and_the_clock_checked(live):
    result = deploy_gate.check_live_venue()

    assert result.status == PASS, result
    assert "HMAC token" in result.detail and WALLET in result.detail
    assert live.asked == [] and live.clock_checked  # the clock was checked, nothing else was asked of it


def test_it_fails_item_5b_when_the_clock_check_fails(live, monkeypatch):
    skewed = FakeLimitless("check_clock: our clock is +42.0 s off the venue's; fix the host's time (NTP)")
    monkeypatch.setattr("agents.services.limitless_venue", lambda: skewed)

    result = deploy_gate.check_live_venue()

    assert result.status == FAIL and "+42.0 s off" in result.detail, result


def test_it_fails_item_5b_naming_a_missing_key_without_building_the_venue(live, settings, monkeypatch):
    settings.LIMITLESS_HMAC_SECRET = ""
    settings.CHAIN_RPC_URL = ""
    monkeypatch.setattr("agents.services.limitless_venue", lambda: pytest.fail("built without its keys"))

    result = deploy_gate.check_live_venue()

    assert result.status == FAIL, result
    assert "CHAIN_RPC_URL" in result.detail and "LIMITLESS_HMAC_SECRET" in result.detail


def test_it_never_prints_a_key_in_item_5b(live, monkeypatch):
    def leaky():
        raise VenueUnavailable(f"POST https://base.example.com/v2/rpc-path-secret failed: {KEY} {HMAC_SECRET}")

    monkeypatch.setattr("agents.services.limitless_venue", leaky)

    result = deploy_gate.check_live_venue()

    assert result.status == FAIL and "VenueUnavailable" in result.detail, result
    assert KEY[2:] not in result.detail.lower() and HMAC_SECRET not in result.detail
    assert "rpc-path-secret" not in result.detail


def test_it_runs_the_whole_gate_on_limitless_without_touching_the_venue(live):
    AgentConfigFactory(
        name="gate-agent",
        max_order_notional="25",
        approval_notional="10",
        allowed_tools=["get_market", "place_limit_order"],
    )
    armed_beat()

    results = {r.item.split(".")[0]: r for r in deploy_gate.run_gate()}

    assert list(results) == ["1", "2", "3", "4", "5", "5b", "6", "7"]
    assert results["1"].status == NOT_CHECKED
    assert {n: r.status for n, r in results.items() if n != "1"} == dict.fromkeys(
        ["2", "3", "4", "5", "5b", "6", "7"], PASS
    ), results
    assert live.asked == []


def test_it_has_no_item_5b_on_the_paper_venue(settings):
    settings.VENUE = "paper"

    assert "5b" not in [r.item.split(".")[0] for r in deploy_gate.run_gate()]
