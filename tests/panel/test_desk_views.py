"""The desk, the pause/resume buttons and the override editor's warnings, through the Django test client,
against a real paper venue account (the `panel_venue` fixture points the deployment at it)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from agents import desk
from agents.models import DeskOverride
from agents.overrides import OverrideChanged, desk_override_text, override_pause_set, override_write
from agents.services import stop_check
from agents.venue.schemas import OrderRequest, Outcome, Side
from monitoring.metrics import metric_record
from tests.factories import AgentConfigFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_desk_cache(monkeypatch):
    """Each test reads the venue itself: no figures cached by the one before."""
    desk.desk_cache_clear()
    yield
    desk.desk_cache_clear()


def _grant(user, *codenames: str):
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)


def _place(trader, agent, market: str, side: str, price: str, size: str, cid: str, outcome: str = "YES"):
    """Place at the paper venue as the agent's run would, and journal the row that attributes it."""
    req = OrderRequest(market=market, side=Side(side), outcome=Outcome(outcome), price=Decimal(price),
                       size=Decimal(size), client_order_id=cid)
    placed = trader.place(req)
    OrderFactory(agent=agent, client_order_id=cid, venue_order_id=placed.id, market=market, side=side,
                 outcome=outcome, price=Decimal(price), size=Decimal(size), notional=Decimal(price) * Decimal(size),
                 filled=placed.filled)
    return placed


def test_it_shows_each_agents_positions_orders_fills_and_the_unattributed_rest(client, operator, panel_venue,
                                                                               make_trader, market):
    alpha, beta = AgentConfigFactory(name="alpha"), AgentConfigFactory(name="beta")
    seller = make_trader()
    seller.place(OrderRequest(market=market, side=Side.BUY, outcome=Outcome.NO, price=Decimal("0.60"),
                              size=Decimal("10"), client_order_id="maker-1"))  # a YES ask at 0.40
    _place(panel_venue, alpha, market, "BUY", "0.40", "10", "alpha-1")  # fills against it
    _place(panel_venue, beta, market, "BUY", "0.20", "5", "beta-1")  # rests
    panel_venue.place(OrderRequest(market=market, side=Side.BUY, price=Decimal("0.10"), size=Decimal("3"),
                                   client_order_id="by-hand-1"))  # no journaled row: nobody's
    client.force_login(operator)
    books = {b["agent"]: b for b in client.get(reverse("desk:desk")).context["snap"]["books"]}
    assert [(p["market"], p["outcome"], p["shares"]) for p in books["alpha"]["positions"]] == [(market, "YES", 10)]
    assert [f.client_order_id for f in books["alpha"]["fills"]] == ["alpha-1"]
    assert [o.client_order_id for o in books["beta"]["orders"]] == ["beta-1"] and not books["beta"]["positions"]
    assert [o.client_order_id for o in books["unattributed"]["orders"]] == ["by-hand-1"]
    html = client.get(reverse("desk:desk")).content.decode()
    assert 'id="book-unattributed"' in html and "no journaled order explains these" in html
    assert f"{books['alpha']['value']:,.2f} USDC" in html  # money as decimals with units
    state = client.get(reverse("desk:state")).json()
    assert state["venue_ok"] is True and market in state["html"]["desk-books"]


def test_it_sets_todays_pnl_against_the_daily_loss_limit(client, operator, panel_venue, settings):
    settings.HALT_DAILY_LOSS = Decimal("0.03")
    nav = desk.venue_read().good.balance.usdc  # a fresh account: all cash
    metric_record("nav", nav + Decimal("40"), ts=timezone.now().replace(hour=0, minute=0, second=1))
    desk.desk_cache_clear()
    client.force_login(operator)
    total = client.get(reverse("desk:desk")).context["snap"]["total"]
    assert total["pnl"] == Decimal("-40")
    assert total["limit"] == -(nav + 40) * Decimal("0.03")
    html = client.get(reverse("desk:state")).json()["html"]["desk-total"]
    assert 'class="value loss" id="total-pnl">−40.00 USDC' in html


def test_it_says_when_there_is_no_opening_nav_instead_of_a_zero_pnl(client, operator, panel_venue):
    client.force_login(operator)
    html = client.get(reverse("desk:desk")).content.decode()
    assert "no opening NAV yet today" in html and 'id="total-pnl">—' in html


def test_it_keeps_the_last_figures_marked_stale_when_the_venue_goes_away(client, operator, panel_venue, settings,
                                                                         monkeypatch):
    client.force_login(operator)
    first = client.get(reverse("desk:state")).json()
    assert first["venue_ok"] is True
    good_nav = desk.venue_read().good.balance.usdc
    settings.VENUE_URL = "http://127.0.0.1:9"  # nothing listens there
    monkeypatch.setattr(desk, "DESK_CACHE_S", 0)
    state = client.get(reverse("desk:state")).json()
    assert state["venue_ok"] is False
    assert "Venue unreachable since" in state["html"]["desk-venue"] and "stale" in state["html"]["desk-venue"]
    assert f"{good_nav:,.2f} USDC" in state["html"]["desk-total"]  # the last good NAV, not 0
    total = state["html"]["desk-total"]
    assert 'class="figures stale"' in total and "stale: figures from" in total


def test_it_shows_unreachable_and_no_figures_when_the_venue_never_answered(client, operator, settings):
    settings.VENUE_URL = "http://127.0.0.1:9"
    client.force_login(operator)
    response = client.get(reverse("desk:desk"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Venue unreachable since" in html and "no figures yet" in html and "0.00 USDC" not in html


def test_it_bounds_a_hanging_venue_read_with_the_timeout(monkeypatch):
    class Hanging:
        def balance(self):
            import time
            time.sleep(2)

        positions = orders = fills = balance

    monkeypatch.setattr(desk, "DESK_VENUE_TIMEOUT_S", 0.2)
    cache = desk.venue_read(Hanging)
    assert cache.good is None and cache.down_since is not None and "no answer within 0.2 s" in cache.error


def test_it_reads_the_venue_once_for_many_desks_within_the_cache_time(monkeypatch, panel_venue):
    calls = []

    def counting():
        calls.append(1)
        return panel_venue

    for _ in range(3):
        desk.venue_read(counting)
    assert len(calls) == 1


def test_it_says_the_database_is_unavailable_instead_of_a_crash_page(client, operator, panel_venue, monkeypatch):
    from django.db import DatabaseError

    def locked(reading):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(desk, "journal_for", locked)
    client.force_login(operator)
    response = client.get(reverse("desk:desk"))
    assert response.status_code == 503 and "Desk unavailable" in response.content.decode()
    assert 'id="total-nav"' not in response.content.decode()  # no figure it could not attribute
    state = client.get(reverse("desk:state"))
    assert state.status_code == 503 and "database unavailable" in state.json()["error"]


def test_it_links_the_desk_from_the_top_bar_and_the_home_page_for_those_who_may_see_it(client, operator, nobody,
                                                                                     settings):
    settings.VENUE_URL = "http://127.0.0.1:9"  # the home page probes the venue: no answer is quick
    client.force_login(operator)
    html = client.get("/").content.decode()
    assert 'id="nav-desk"' in html and 'id="home-desk"' in html
    client.force_login(nobody)
    html = client.get("/").content.decode()
    assert 'id="nav-desk"' not in html and 'id="home-desk"' not in html


def test_it_refuses_the_desk_to_a_user_without_the_view_permission(client, nobody):
    client.force_login(nobody)
    assert client.get(reverse("desk:desk")).status_code == 403
    assert client.get(reverse("desk:state")).status_code == 403


# --- pause and resume --------------------------------------------------------------------------


def test_it_pauses_and_resumes_one_agent_through_the_desk_override(client, operator):
    AgentConfigFactory(name="alpha"), AgentConfigFactory(name="beta")
    override_write(text='{"limits": {"max_order_notional": "5"}, "note": "fomc"}', actor=operator)
    client.force_login(operator)
    response = client.post(reverse("agents:override_pause"),
                           {"agent": "alpha", "pause": "1", "reason": "odd fills", "next": "/agents/alpha/"})
    assert response.status_code == 302 and response["Location"] == "/agents/alpha/"
    saved = json.loads(desk_override_text())
    assert saved == {"pause_agents": ["alpha"], "limits": {"max_order_notional": "5"}, "note": "fomc"}
    assert stop_check(agent="alpha")().stop.reason == "alpha paused by the desk override: fomc"
    assert stop_check(agent="beta")().stop is None
    html = client.get("/agents/alpha/").content.decode()
    assert "Paused alpha" in html and 'id="agent-paused"' in html and "Resume alpha" in html
    client.post(reverse("agents:override_pause"), {"agent": "alpha", "pause": "0", "reason": "checked"})
    assert stop_check(agent="alpha")().stop is None
    assert json.loads(desk_override_text())["limits"] == {"max_order_notional": "5"}
    assert DeskOverride.objects.count() == 3  # the audit trail: one row per change


def test_it_pauses_an_agent_named_in_this_hosts_override_file_too(data_dir):
    (data_dir / "override.json").write_text('{"pause_agents": ["alpha"]}')
    assert stop_check(agent="alpha")().stop.reason == "alpha paused by override file"
    assert stop_check(agent="beta")().stop is None


def test_it_pauses_and_resumes_the_whole_desk(client, operator):
    client.force_login(operator)
    client.post(reverse("agents:override_pause"), {"pause": "1", "reason": "cpi print"})
    assert stop_check(agent="any")().stop.kind == "paused"
    response = client.post(reverse("agents:override_pause"), {"pause": "1", "reason": "again"}, follow=True)
    assert "already paused: nothing changed" in response.content.decode() and DeskOverride.objects.count() == 1
    client.post(reverse("agents:override_pause"), {"pause": "0", "reason": "print done"})
    assert stop_check(agent="any")().stop is None


def test_it_refuses_a_pause_without_the_kill_switch_permission(client, django_user_model):
    AgentConfigFactory(name="alpha")
    viewer = _grant(django_user_model.objects.create_user("viewer", password="x"), "view_agentconfig")
    client.force_login(viewer)
    assert "Pause alpha" not in client.get("/agents/alpha/").content.decode()
    response = client.post(reverse("agents:override_pause"), {"agent": "alpha", "pause": "1", "reason": "x"})
    assert response.status_code == 403 and not DeskOverride.objects.exists()


@pytest.mark.parametrize("form,error", [({"agent": "alpha", "pause": "1", "reason": "  "}, "Give a reason"),
                                        ({"agent": "ghost", "pause": "1", "reason": "x"}, "no agent named"),
                                        ({"agent": "alpha", "pause": "1", "reason": "x" * 501}, "at most 500")])
def test_it_refuses_a_bad_pause_in_place_and_writes_nothing(client, operator, form, error):
    AgentConfigFactory(name="alpha")
    client.force_login(operator)
    response = client.post(reverse("agents:override_pause"), {**form, "next": "/agents/alpha/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/agents/alpha/"
    assert error in response.content.decode() and not DeskOverride.objects.exists()


def test_it_says_so_in_place_when_the_database_refuses_a_pause(client, operator, monkeypatch):
    from django.db import DatabaseError

    from agents import views

    def busy(**kwargs):
        raise DatabaseError("database is locked")

    AgentConfigFactory(name="alpha")
    monkeypatch.setattr(views, "override_pause_set", busy)
    client.force_login(operator)
    response = client.post(reverse("agents:override_pause"),
                           {"agent": "alpha", "pause": "1", "reason": "x", "next": "/desk/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/desk/" and "Not paused: the database did not answer" in (
        response.content.decode())


def test_it_refuses_a_pause_when_the_override_changed_since_it_was_read(operator, monkeypatch):
    from agents import overrides

    real = overrides.desk_override_row
    monkeypatch.setattr(overrides, "desk_override_row", lambda: (real(), override_write(text="{}", actor=operator))[0])
    with pytest.raises(OverrideChanged):
        override_pause_set(actor=operator, pause=True, reason="x", agent="alpha")
    assert DeskOverride.objects.count() == 1 and json.loads(desk_override_text()) == {}


# --- the editor: what it will ignore, errors where the user was ----------------------------------


def test_it_warns_which_limit_it_will_ignore_before_and_after_saving(client, operator):
    AgentConfigFactory(name="alpha", max_order_notional=Decimal("25"), max_daily_notional=Decimal("250"))
    client.force_login(operator)
    doc = '{"limits": {"max_order_notional": "100", "max_daily_notional": "50"}}'
    response = client.post(reverse("agents:override"), {"document": doc, "action": "check"})
    html = response.content.decode()
    assert response.status_code == 200 and not DeskOverride.objects.exists()
    assert "If saved, the agents will ignore" in html
    assert "limits.max_order_notional = 100 USDC is ignored for every agent (alpha 25.000000 USDC)" in html
    assert "max_daily_notional" not in html.split('id="override-ignored"')[1].split("</div>")[0]
    response = client.post(reverse("agents:override"), {"document": doc, "based_on": ""}, follow=True)
    html = response.content.decode()
    assert "1 part(s) of it will be ignored" in html and "In force, but the agents ignore" in html


def test_it_shows_an_override_error_on_the_agent_page_it_came_from(client, operator):
    AgentConfigFactory(name="alpha")
    client.force_login(operator)
    response = client.post(reverse("agents:override"), {"document": '{"pause": "yes"}', "next": "/agents/alpha/"},
                           follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/agents/alpha/#override-form"
    assert "Not saved: pause: Input should be a valid boolean" in html
    assert "{&quot;pause&quot;: &quot;yes&quot;}" in html  # the draft kept, to mend
    assert not DeskOverride.objects.exists()
    assert "Not saved" not in client.get("/agents/alpha/").content.decode()  # shown once, then gone


@pytest.mark.django_db(transaction=True)  # tools run in worker threads with their own connections
def test_a_paused_agents_next_run_stops_before_trading_while_the_other_trades(client, operator, make_trader,
                                                                              market):
    from agents.core.policies import ScriptedPolicy
    from agents.models import RunStatus
    from agents.services import run_agent

    limits = {"known_market_types": ["test"], "max_order_notional": Decimal("25"),
              "approval_notional": Decimal("10"), "second_approval_notional": Decimal("20")}
    alpha, beta = AgentConfigFactory(name="alpha", **limits), AgentConfigFactory(name="beta", **limits)
    client.force_login(operator)
    client.post(reverse("agents:override_pause"), {"agent": "alpha", "pause": "1", "reason": "odd fills"})
    order = [("place_limit_order", {"market": market, "side": "BUY", "price": "0.300", "size": "2"})]
    trader = make_trader()
    paused = run_agent(agent_id=alpha.pk, venue=trader, policy=ScriptedPolicy([order]))
    assert paused.status == RunStatus.PAUSED and "alpha paused by the desk override" in paused.end_reason
    assert trader.orders() == []
    trading = run_agent(agent_id=beta.pk, venue=trader, policy=ScriptedPolicy([order]))
    assert trading.status == RunStatus.COMPLETED, trading.end_reason
    assert len(trader.orders()) == 1
