"""The desk, the pause/resume buttons and the override editor in a real browser (Playwright + Debian
chromium) against the live test server, its venue reads on a fresh paper venue account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from agents import desk
from agents.models import DeskOverride
from agents.services import stop_check
from agents.venue.schemas import OrderRequest, Outcome, Side
from tests.browser import ON_A_PHONE, PHONE, chromium, login, open_page, require_chromium
from tests.factories import AgentConfigFactory, OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
require_chromium()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the test's own ORM calls beside Playwright's loop
    with chromium() as launched:
        yield launched


@pytest.fixture
def live(live_server, settings, monkeypatch, venue, make_trader):
    """The live server over plain http; the desk reads a fresh paper account, polls fast, caches nothing."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # http://localhost in the test only
    trader = make_trader()
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, trader.api_key
    monkeypatch.setattr(desk, "DESK_POLL_MS", 300)
    monkeypatch.setattr(desk, "DESK_CACHE_S", 0)
    desk.desk_cache_clear()
    live_server.trader = trader
    yield live_server
    desk.desk_cache_clear()


def _login(browser, live, path: str, **context_args):
    page = open_page(browser, timeout_ms=10_000, **context_args)
    login(page, f"{live.url}{path}", "operator")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    return page


def _place(trader, agent, market: str, price: str, size: str, cid: str) -> None:
    req = OrderRequest(market=market, side=Side.BUY, price=Decimal(price), size=Decimal(size), client_order_id=cid)
    placed = trader.place(req)
    OrderFactory(agent=agent, client_order_id=cid, venue_order_id=placed.id, market=market, side="BUY",
                 price=Decimal(price), size=Decimal(size), notional=Decimal(price) * Decimal(size),
                 filled=placed.filled)


def test_it_shows_an_agents_nav_pnl_positions_and_orders_live_on_a_phone(browser, live, operator, make_trader,
                                                                         market):
    alpha = AgentConfigFactory(name="alpha")
    make_trader().place(OrderRequest(market=market, side=Side.BUY, outcome=Outcome.NO, price=Decimal("0.55"),
                                     size=Decimal("20"), client_order_id="maker-1"))  # a YES ask at 0.45
    _place(live.trader, alpha, market, "0.45", "20", "alpha-1")  # filled: a position of 20 YES
    page = _login(browser, live, "/desk/", **ON_A_PHONE)
    book = page.locator("#book-alpha")
    assert "20" in book.locator("table.positions").inner_text() and market in book.inner_text()
    assert re.search(r"\d[\d,]*\.\d\d USDC", page.locator("#total-nav").inner_text())
    assert re.search(r"[+−]?\d[\d,]*\.\d\d USDC", book.locator(".book-pnl").inner_text())  # today's fill, at mark
    assert "Venue answered at" in page.locator("#desk-venue").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    _place(live.trader, alpha, market, "0.30", "7", "alpha-2")  # rests, placed while the desk is open
    book.locator("table.orders").wait_for()  # the poll brings it in without a reload
    assert "0.30" in book.locator("table.orders").inner_text()


def test_it_pauses_an_agent_from_the_desk_and_resumes_it_from_its_page(browser, live, operator):
    AgentConfigFactory(name="alpha"), AgentConfigFactory(name="beta")
    page = _login(browser, live, "/desk/")
    form = page.locator("#book-alpha form.pause-form")
    form.locator("input[name=reason]").fill("fills look wrong")
    form.locator("button", has_text="Pause alpha").click()
    page.wait_for_url(re.compile(r"/desk/$"))
    assert "Paused alpha" in page.locator(".messages").inner_text()
    assert "PAUSED" in page.locator("#book-alpha .agent-state").inner_text()
    assert stop_check(agent="alpha")().stop.kind == "paused"  # the agent's next check refuses to trade
    assert stop_check(agent="beta")().stop is None

    page.goto(f"{live.url}/agents/alpha/")
    assert "PAUSED" in page.locator("#agent-paused").inner_text()
    page.fill("#agent-pause input[name=reason]", "venue checked")
    page.click("#agent-pause button:has-text('Resume alpha')")
    page.wait_for_url(re.compile(r"/agents/alpha/$"))
    assert "Resumed alpha" in page.locator(".messages").inner_text()
    assert page.locator("#agent-paused").count() == 0 and stop_check(agent="alpha")().stop is None
    assert [r.actor_name for r in DeskOverride.objects.order_by("id")] == ["operator", "operator"]


def test_it_warns_of_an_ignored_limit_and_shows_an_error_on_the_agent_page(browser, live, operator):
    AgentConfigFactory(name="alpha", max_order_notional=Decimal("25"))
    page = _login(browser, live, "/agents/alpha/")
    page.fill("#override-document", '{"limits": {"max_order_notional": "80"}}')
    page.click("#override-check")
    page.wait_for_url(re.compile(r"/agents/alpha/#override-form$"))
    warning = page.locator("#override-ignored").inner_text()
    assert "max_order_notional = 80 USDC is ignored for every agent" in warning and "only tighten" in warning
    assert not DeskOverride.objects.exists()  # checked, not saved

    page.fill("#override-document", '{"pause": "yes"}')
    page.click("#override-form button.primary")
    page.wait_for_url(re.compile(r"/agents/alpha/#override-form$"))  # still the agent page
    assert "Not saved: pause: Input should be a valid boolean" in page.locator("#override-error").inner_text()
    assert page.input_value("#override-document") == '{"pause": "yes"}'  # the draft kept, to mend
    assert not DeskOverride.objects.exists()
