"""A real browser (Debian chromium via Playwright) on a phone-sized screen: log in, see a new request
arrive without reloading, approve one (placed at the paper venue) and reject another."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from approvals import views
from approvals.models import ApprovalDecision, ApprovalRequest, ApprovalStatus
from tests.browser import PHONE, login, phone_page, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
require_chromium()


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with phone_page() as page:
        yield page


@pytest.fixture
def live(live_server, settings, monkeypatch, venue, make_trader, place_inline):
    """The live server over plain http, its venue reads and placements on a fresh paper account."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # http://localhost in the test only
    trader = make_trader()
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, trader.api_key
    place_inline(trader)
    monkeypatch.setattr(views, "POLL_MS", 300)  # the page polls fast so the test does not wait
    live_server.trader = trader
    return live_server


def test_it_logs_in_approves_one_and_rejects_another_on_a_phone(page, live, approver, make_request, market):
    to_approve = make_request(market=market, size="30", model_reason="cheap YES before the close")
    login(page, f"{live.url}/approvals/", "approver")
    page.wait_for_url(re.compile(r"/approvals/$"))
    card = page.locator(f"#approval-{to_approve.pk}")
    assert "cheap YES before the close" in card.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    to_reject = make_request(market=market, size="40", step=2)  # raised while the page is open
    page.wait_for_selector(f"#approval-{to_reject.pk}")  # arrived by the poll, no reload

    card.locator("textarea").fill("fine, small")
    card.locator("button.approve").click()
    page.wait_for_selector(f"#recent-{to_approve.pk}[data-status=placed]")
    assert f"Approved #{to_approve.pk}" in page.locator("#messages").inner_text()

    rejected = page.locator(f"#approval-{to_reject.pk}")
    rejected.locator("textarea").fill("too much in one market")
    rejected.locator("button.reject").click()
    page.wait_for_selector(f"#recent-{to_reject.pk}[data-status=rejected]")
    assert f"Rejected #{to_reject.pk}" in page.locator("#messages").inner_text()
    assert page.locator("#queue-empty").is_visible()

    placed = ApprovalRequest.objects.get(pk=to_approve.pk)
    assert placed.status == ApprovalStatus.PLACED
    at_venue = live.trader.order_by_client_id(placed.client_order_id)
    assert at_venue is not None and at_venue.size == Decimal("30")
    assert ApprovalRequest.objects.get(pk=to_reject.pk).status == ApprovalStatus.REJECTED
    assert list(ApprovalDecision.objects.order_by("id").values_list("decision", "note")) == [
        ("approve", "fine, small"), ("reject", "too much in one market")]
