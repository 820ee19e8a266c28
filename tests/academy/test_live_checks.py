"""VENUE=limitless: `check --deploy` refuses a live venue without a paging sink, its watchers, TLS, redaction of its
keys and small caps; a missing or malformed key stops start-up naming the variable, never printing a key."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import ERROR, run_checks

from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
KEY = "0x" + "ab" * 32  # a valid secp256k1 key, for tests only
LIVE_IDS = {f"academy.E00{n}" for n in range(2, 9)}


@pytest.fixture
def live(settings):
    """A complete live setup: every check below passes on it."""
    settings.VENUE = "limitless"
    settings.DEBUG = False
    settings.LIMITLESS_API_URL = "https://api.limitless.exchange"
    settings.LIMITLESS_WS_URL = "https://ws.limitless.exchange"
    settings.LIMITLESS_PRIVATE_KEY = KEY
    settings.LIMITLESS_HMAC_TOKEN_ID = "token-1"
    settings.LIMITLESS_HMAC_SECRET = base64.b64encode(b"s" * 32).decode()
    settings.CHAIN_RPC_URL = "https://base.example.com/v2/rpc-key"
    settings.ALERT_SINKS = ["log", "webhook"]
    settings.ALERT_WEBHOOK_URL = "https://hooks.example.com/academy"
    settings.REQUIRE_MONITOR_HEARTBEAT = True
    settings.REQUIRE_DEADMAN_COVER = True
    settings.DRY_RUN = False
    return settings


def live_errors() -> dict[str, str]:
    """The live checks' findings, by id (all must be errors: a warning would not fail `check --deploy`)."""
    found = [m for m in run_checks(include_deployment_checks=True) if m.id in LIVE_IDS]
    assert all(m.level == ERROR for m in found), found
    return {m.id: f"{m.msg} {m.hint}" for m in found}


def test_it_passes_a_complete_live_setup(live):
    AgentConfigFactory(max_order_notional="25", max_daily_notional="250")

    assert live_errors() == {}


def test_it_allows_dry_run_on_a_live_venue(live):
    live.DRY_RUN = True  # the recommended first step on the real venue

    assert live_errors() == {}


def test_it_runs_the_live_checks_only_with_deploy(live):
    live.ALERT_SINKS = ["log"]

    assert not [m for m in run_checks() if m.id in LIVE_IDS]


def test_it_refuses_a_live_venue_with_only_the_log_sink(live):
    live.ALERT_SINKS = ["log"]

    assert "ALERT_SINKS" in live_errors()["academy.E002"]


def test_it_refuses_a_live_venue_whose_only_paging_sink_lacks_its_settings(live):
    live.ALERT_SINKS = ["log", "slack"]
    live.SLACK_WEBHOOK_URL = ""

    assert "academy.E002" in live_errors()


def test_it_refuses_a_live_venue_without_the_monitor_heartbeat(live):
    live.REQUIRE_MONITOR_HEARTBEAT = False

    assert "REQUIRE_MONITOR_HEARTBEAT" in live_errors()["academy.E003"]


def test_it_refuses_a_live_venue_without_the_deadman_cover(live):
    live.REQUIRE_DEADMAN_COVER = False

    assert "REQUIRE_DEADMAN_COVER" in live_errors()["academy.E004"]


def test_it_refuses_loopback_http_to_the_live_venue_with_debug_off(live):
    live.LIMITLESS_API_URL = "http://127.0.0.1:8100"

    assert "LIMITLESS_API_URL='http://127.0.0.1:8100': not https" in live_errors()["academy.E005"]


def test_it_allows_loopback_http_only_for_a_paper_dry_run_with_debug_on(live):
    live.DEBUG = True
    live.LIMITLESS_API_URL = live.LIMITLESS_WS_URL = "http://127.0.0.1:8100"
    assert live_errors() == {}

    live.LIMITLESS_WS_URL = "http://ws.limitless.example"
    assert "LIMITLESS_WS_URL" in live_errors()["academy.E005"]


def test_it_refuses_a_live_venue_whose_keys_would_not_be_redacted(live):
    live.TRACE_SECRET_ENV_VARS = [n for n in live.TRACE_SECRET_ENV_VARS if n != "LIMITLESS_HMAC_SECRET"]

    assert "LIMITLESS_HMAC_SECRET" in live_errors()["academy.E006"]


def test_it_refuses_an_enabled_agent_above_the_live_maxima(live):
    AgentConfigFactory(name="big-orders", max_order_notional="101")
    AgentConfigFactory(name="big-days", max_order_notional="10", max_daily_notional="1000.01")
    AgentConfigFactory(name="small", max_order_notional="100", max_daily_notional="1000")
    AgentConfigFactory(name="off", enabled=False, max_order_notional="5000", max_daily_notional="50000")

    found = [m.msg for m in run_checks(include_deployment_checks=True) if m.id == "academy.E007"]

    assert len(found) == 2 and "'big-orders'" in found[1] and "'big-days'" in found[0]
    assert "(100 / 1000 USDC)" in found[0]


def test_it_reads_the_live_maxima_from_settings(live):
    AgentConfigFactory(name="mid", max_order_notional="50", max_daily_notional="500")
    live.LIVE_MAX_ORDER_NOTIONAL = 20

    assert "'mid'" in live_errors()["academy.E007"]


def test_it_fails_closed_when_the_agents_cannot_be_read(live, monkeypatch):
    from django.db import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("no such table: agents_agentconfig")

    monkeypatch.setattr("agents.models.AgentConfig.objects.filter", broken)

    assert "migrate" in live_errors()["academy.E008"]


def test_it_fires_none_of_the_live_checks_on_the_paper_venue(live):
    AgentConfigFactory(max_order_notional="5000", max_daily_notional="50000")
    live.VENUE = "paper"
    live.ALERT_SINKS = ["log"]
    live.REQUIRE_MONITOR_HEARTBEAT = live.REQUIRE_DEADMAN_COVER = False
    live.LIMITLESS_API_URL = "http://127.0.0.1:8100"
    live.TRACE_SECRET_ENV_VARS = []

    assert live_errors() == {}


# --- start-up, as a real process: a missing or malformed key stops it naming the variable, not its value -----

SECRET_KEY = "p" + "roduction-secret-" * 4


def live_env(tmp_path: Path) -> dict[str, str]:
    """A complete live environment with distinct, recognisable secret values."""
    return {
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "academy.example.com",
        "ACADEMY_DATA_DIR": str(tmp_path),
        "VENUE": "limitless",
        "LIMITLESS_PRIVATE_KEY": "0x" + secrets.token_hex(32),
        "LIMITLESS_HMAC_TOKEN_ID": "token-" + secrets.token_hex(4),
        "LIMITLESS_HMAC_SECRET": base64.b64encode(secrets.token_bytes(32)).decode(),
        "CHAIN_RPC_URL": f"https://base-mainnet.example.com/v2/{secrets.token_hex(16)}",
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_no_secret_printed(result: subprocess.CompletedProcess[str], env: dict[str, str]) -> None:
    out = result.stdout + result.stderr
    values = [env.get(n, "") for n in ("SECRET_KEY", "LIMITLESS_PRIVATE_KEY", "LIMITLESS_HMAC_SECRET", "CHAIN_RPC_URL")]
    values += [env.get("LIMITLESS_PRIVATE_KEY", "")[2:], env.get("CHAIN_RPC_URL", "").rsplit("/", 1)[-1]]
    leaked = [v for v in values if v and v.lower() in out.lower()]
    assert not leaked, "a secret value was printed"


def test_it_stops_start_up_naming_a_missing_private_key(tmp_path):
    env = live_env(tmp_path)
    del env["LIMITLESS_PRIVATE_KEY"]

    result = check_deploy(env)

    assert result.returncode != 0
    assert "LIMITLESS_PRIVATE_KEY is required" in result.stderr
    assert_no_secret_printed(result, env)


def test_it_stops_start_up_naming_a_malformed_hmac_secret(tmp_path):
    env = {**live_env(tmp_path), "LIMITLESS_HMAC_SECRET": "not*base64*" + secrets.token_hex(8)}

    result = check_deploy(env)

    assert result.returncode != 0
    assert "LIMITLESS_HMAC_SECRET is malformed" in result.stderr
    assert_no_secret_printed(result, env)


def test_it_stops_start_up_naming_a_missing_chain_rpc_url(tmp_path):
    env = live_env(tmp_path)
    del env["CHAIN_RPC_URL"]

    result = check_deploy(env)

    assert result.returncode != 0
    assert "CHAIN_RPC_URL is required" in result.stderr
    assert_no_secret_printed(result, env)


def test_it_fails_the_deploy_check_of_a_live_venue_with_only_the_log_sink(tmp_path):
    # Every key is there, so start-up succeeds: the registered deploy checks must refuse it (and the caps
    # of an unmigrated database, which were not read), without printing any key.
    env = live_env(tmp_path)

    result = check_deploy(env)

    assert result.returncode != 0
    assert "academy.E002" in result.stderr and "academy.E008" in result.stderr
    assert_no_secret_printed(result, env)
