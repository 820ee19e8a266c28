"""No order without a dead-man's cover (issue 12): the monitor's cancel-on-disconnect session for the
agent's venue account must be confirmed within seconds, by the database's clock, at the moment an order
is sent; when it is not, the agent sends nothing. An order counts as covered only once a beat armed
after its send; what no beat confirms within seconds of a run's end is cancelled."""

from __future__ import annotations

import itertools
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models.functions import Now
from django.utils import timezone

from agents.core.policies import ScriptedPolicy
from agents.models import Order, OrderStatus, RunStatus
from agents.services import cover_account, cover_missing_reason, run_agent
from agents.venue.schemas import OrderStatus as VenueStatus
from monitoring.deadman import CoverBeater, account_fingerprint, cover_confirm
from monitoring.models import Alert, CoverBeat
from tests.factories import AgentConfigFactory
from tests.monitoring.conftest import monitor_process  # noqa: F401  (the real `manage.py monitor` fixture)

pytestmark = pytest.mark.django_db(transaction=True)  # the beat thread has its own connection


@pytest.fixture
def agent(market, settings):
    settings.REQUIRE_DEADMAN_COVER = True
    settings.DEADMAN_COVER_STALE_S = Decimal("3")
    return AgentConfigFactory(known_market_types=["test"])


def order(market: str, price: str = "0.300") -> ScriptedPolicy:
    return ScriptedPolicy([[("place_limit_order", {"market": market, "side": "BUY", "price": price, "size": "1"})],
                           "done"])


def beat(*, armed: bool = True, age_s: float = 0.0, host: str = "monitor-host", account: str | None = None) -> None:
    """One beat of a monitor of this account (`age_s` old), as cover_confirm writes it: the database's clock."""
    at = Now() - timedelta(seconds=age_s)
    CoverBeat.objects.update_or_create(host=host, account=account or cover_account(), defaults={
        "armed": armed, "confirmed_at": at, "armed_at": at if armed else None})


class Session:
    """Stands for the monitor's DeadMansSwitch: armed while `alive`."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.alive = True

    def live(self, max_silence_s: float) -> bool:
        return self.alive

    def reconnect_if_silent(self, max_silence_s: float) -> bool:
        return False  # the beater asks first (monitoring/deadman.py); this stand-in is never silent


@pytest.fixture
def monitor_beats(agent) -> Iterator[Callable[[], CoverBeater]]:
    """A live monitor session for this account, beating every 0.2 s on its own thread, as the monitor does."""
    started: list[CoverBeater] = []

    def start() -> CoverBeater:
        beater = CoverBeater(Session(cover_account()), interval_s=0.2).start()
        started.append(beater)
        deadline = time.monotonic() + 10
        while cover_missing_reason() is not None:
            assert time.monotonic() < deadline, "the beat thread never confirmed the cover"
            time.sleep(0.05)
        return beater

    yield start
    for beater in started:
        beater.stop()


def live_orders(trader) -> list[str]:
    return [o.client_order_id for o in trader.orders(status=VenueStatus.LIVE)]


# --- no order without a live cover ---------------------------------------------------------------


def test_it_sends_no_order_when_no_monitor_ever_confirmed_a_cover(agent, market, make_trader):
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.KILL_SWITCH and "dead-man's cover" in run.end_reason
    assert trader.orders() == []


def test_it_sends_no_order_when_the_cover_is_stale_or_down(agent, market, make_trader):
    trader = make_trader()
    beat(age_s=10)
    assert run_agent(agent_id=agent.pk, venue=trader, policy=order(market)).status == RunStatus.KILL_SWITCH
    beat(armed=False)
    assert run_agent(agent_id=agent.pk, venue=trader, policy=order(market)).status == RunStatus.KILL_SWITCH
    assert trader.orders() == []


def test_it_trades_under_a_live_cover_from_any_monitor_host_of_its_account(agent, market, make_trader,
                                                                            monitor_beats):
    trader = make_trader()
    beat(armed=False, host="a")  # another host's monitor, down: the live one is enough
    monitor_beats()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.COMPLETED and len(live_orders(trader)) == 1  # confirmed after its send: kept
    assert Order.objects.get(agent=agent).status == OrderStatus.LIVE


def test_it_refuses_a_cover_for_another_venue_account(agent, market, make_trader, settings):
    """C5: a monitor armed for another API key (or another venue) cancels nothing of this agent's."""
    trader = make_trader()
    beat(account=account_fingerprint(settings.VENUE_URL, "some-other-key"))
    beat(host="b", account=account_fingerprint("http://other-venue:9999", settings.VENUE_API_KEY))
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.KILL_SWITCH and "this venue account" in run.end_reason
    assert trader.orders() == []


def test_it_fingerprints_the_account_without_the_key(settings):
    fp = account_fingerprint("http://venue:8000/", "key-secret-0123456789")
    assert len(fp) == 16 and int(fp, 16) >= 0  # a short hex digest: nothing of the key itself
    assert fp == account_fingerprint("http://venue:8000", "key-secret-0123456789")
    assert fp != account_fingerprint("http://venue:8000", "key-secret-0123456780")
    assert fp != account_fingerprint("http://venue:8001", "key-secret-0123456789")


# --- what was sent in the gap ---------------------------------------------------------------------


def test_it_cancels_an_order_a_short_run_sent_after_the_monitors_last_beat(agent, market, make_trader, settings):
    """C1: the monitor died just after its last beat (its session gone, the venue's cancel-on-disconnect
    already fired); a run sends inside the window the beat still reads fresh and ends at once."""
    trader = make_trader()
    beat()  # the last beat of a monitor that is now dead
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.COMPLETED  # the order went out: the cover still read fresh
    assert live_orders(trader) == []  # no beat after its send: cancelled at the run's end, not left resting
    assert Order.objects.get(agent=agent).status == OrderStatus.CANCELED


def test_it_cancels_what_rests_when_the_cover_lapses_during_the_run(agent, market, make_trader, monitor_beats,
                                                                   monkeypatch):
    import agents.services as services

    trader = make_trader()
    beater = monitor_beats()
    real = services._cancel_uncovered

    def monitor_dies_then_cleanup(agent_row, venue, run):
        beater.stop()  # the monitor died during the run, its session with it
        real(agent_row, venue, run)

    monkeypatch.setattr(services, "_cancel_uncovered", monitor_dies_then_cleanup)
    run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert live_orders(trader) == []
    assert Order.objects.get(agent=agent).status == OrderStatus.CANCELED


def test_it_never_cancels_older_orders_a_beat_confirmed(agent, market, make_trader, monitor_beats):
    """C2 (old cleanup): a beat that is merely late cancelled good orders at the end of any run of the agent."""
    trader = make_trader()
    beater = monitor_beats()
    assert run_agent(agent_id=agent.pk, venue=trader, policy=order(market)).status == RunStatus.COMPLETED
    beater.stop()
    CoverBeat.objects.update(confirmed_at=timezone.now() - timedelta(seconds=3.5))  # a late beat
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market, "0.301"))  # sends nothing: stale
    assert run.status == RunStatus.KILL_SWITCH
    assert len(live_orders(trader)) == 1, "an order confirmed under a live cover was cancelled for a late beat"


def test_it_pages_when_an_uncovered_order_cannot_be_cancelled(agent, market, make_trader, monkeypatch):
    trader = make_trader()
    beat()

    def venue_down(ids):
        raise ConnectionError("venue unreachable")

    monkeypatch.setattr(trader, "cancel_batch", venue_down)
    run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert Alert.objects.filter(key=f"uncovered_orders:{agent.pk}").exists()
    assert len(live_orders(trader)) == 1  # the page says so: someone must look


# --- the beat: the monitor's side ---------------------------------------------------------------


def test_it_records_the_monitors_cover_as_armed_only_while_the_venue_is_heard(settings):
    session = Session("acct")
    assert cover_confirm(session, host="h") is True
    row = CoverBeat.objects.get(host="h")
    assert row.armed and row.account == "acct" and row.armed_at == row.confirmed_at
    session.alive = False
    assert cover_confirm(session, host="h") is False
    down = CoverBeat.objects.get(host="h")
    assert not down.armed and down.armed_at == row.armed_at and down.confirmed_at >= row.confirmed_at
    assert cover_confirm(None, host="h", account="acct") is False
    assert CoverBeat.objects.count() == 1


def test_it_counts_a_session_silent_for_seven_seconds_as_down(settings):
    """C4: the venue pings every 5 s; a socket silent past one missed ping and a little is not a cover."""
    from django.conf import settings as defaults

    from monitoring.deadman import DeadMansSwitch

    assert defaults.DEADMAN_MAX_SILENCE_S == Decimal("7")

    class Stream:
        connected = threading.Event()
        last_heard = time.monotonic() - 8

    switch = DeadMansSwitch(venue_url="http://venue:1", api_key="k" * 20)
    switch.stream = Stream()
    switch.stream.connected.set()
    assert cover_confirm(switch, host="h") is False  # armed, but the venue was last heard 8 s ago
    Stream.last_heard = time.monotonic() - 1
    assert cover_confirm(switch, host="h") is True


def test_it_compares_by_the_database_clock_whatever_the_hosts_clocks_say(agent, monkeypatch):
    """C3: the monitor's clock 30 s behind, or the worker's 30 s ahead: the cover is as fresh as it is."""
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - timedelta(seconds=30))  # the monitor's host
    cover_confirm(Session(cover_account()), host="m")
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=30))  # the worker's host
    assert cover_missing_reason() is None
    CoverBeat.objects.update(confirmed_at=Now() - timedelta(seconds=10))
    assert "dead-man's cover" in cover_missing_reason()


def test_it_beats_on_while_a_health_pass_hangs(settings, monkeypatch):
    """C2: the beat is not behind the monitor's loop: a health pass held up by a venue timeout (5 s) would
    leave it stale, and every agent would stop with its session open all along."""
    from monitoring.health import Monitor

    settings.VENUE_CANCEL_ON_DISCONNECT = False  # no session here: the beat says so, on time all the same
    seen: list[int] = []

    def stuck_health_pass(self):
        first = None
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            last = CoverBeat.objects.values_list("confirmed_at", flat=True).first()
            if first is not None and last is not None and last > first:
                seen.append(1)
                return
            first = first or last
            time.sleep(0.1)

    monkeypatch.setattr(Monitor, "health_tick", stuck_health_pass)
    monkeypatch.setattr(Monitor, "flag_tick", lambda self: None)
    monkeypatch.setattr("monitoring.management.commands.monitor.housekeeping", lambda: None)
    call_command("monitor", once=True, stdout=StringIO())
    assert seen, "no cover beat landed while the health pass ran"
    assert CoverBeat.objects.get().host == socket.gethostname()


# --- the smoke refuses up front -------------------------------------------------------------------


def test_it_refuses_a_smoke_without_a_cover_naming_the_reason(agent):
    with pytest.raises(CommandError, match="smoke failed before it started.*dead-man's cover"):
        call_command("smoke", seconds=1, stdout=StringIO())


def test_it_refuses_a_smoke_without_the_monitors_heartbeat(settings):
    settings.REQUIRE_MONITOR_HEARTBEAT = True
    AgentConfigFactory()
    with pytest.raises(CommandError, match="smoke failed before it started.*the monitor has never run"):
        call_command("smoke", seconds=1, stdout=StringIO())


# --- the real monitor killed while an agent trades ------------------------------------------------


@pytest.mark.fault
def test_it_leaves_nothing_resting_when_the_monitor_is_killed_while_agents_trade(agent, market, make_trader, venue,
                                                                                 monitor_process, settings):  # noqa: F811
    settings.REQUIRE_MONITOR_HEARTBEAT = False  # this test is about the cover alone
    trader = make_trader()
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, trader.api_key  # the monitor's account
    monitor = monitor_process(trader.api_key)  # arms account-wide cancel-on-disconnect, beats every second
    deadline = time.monotonic() + 20
    while cover_missing_reason() is not None:
        assert time.monotonic() < deadline, "the monitor never confirmed its cover"
        time.sleep(0.1)
    assert CoverBeat.objects.get(account=cover_account()).host == socket.gethostname()
    prices = itertools.cycle([f"0.{n:03d}" for n in range(100, 400, 3)])  # refused runs are quick: never run out
    assert run_agent(agent_id=agent.pk, venue=trader, policy=order(market, next(prices))).status == "completed"
    assert len(live_orders(trader)) == 1  # confirmed by a beat after its send: it rests

    monitor.send_signal(signal.SIGKILL)
    monitor.wait(timeout=10)
    killed_at = time.monotonic()
    statuses = []
    while time.monotonic() - killed_at < float(settings.DEADMAN_COVER_STALE_S) + 2:  # trade on through the gap
        statuses.append(run_agent(agent_id=agent.pk, venue=trader, policy=order(market, next(prices))).status)
    assert statuses[-1] == RunStatus.KILL_SWITCH  # the lapsed cover stops every order
    assert live_orders(trader) == []  # the venue's cancel-on-disconnect + the runs' own cleanup
    assert not Order.objects.filter(agent=agent, status=OrderStatus.LIVE).exists()
