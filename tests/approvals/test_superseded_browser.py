"""The superseded fold in a real browser (Debian chromium via Playwright), on a phone: folded at first, opened
from the keyboard, and still open (with the focus) after the list refreshes itself."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from approvals import services, views
from approvals.models import ApprovalStatus
from tests.approvals.test_superseded import ask, decided
from tests.browser import PHONE, login, phone_page, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
require_chromium()


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the test's own ORM calls beside Playwright's loop
    with phone_page() as page:
        yield page


@pytest.fixture
def live(live_server, settings, monkeypatch):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # http://localhost in the test only
    settings.VENUE_URL = "http://127.0.0.1:9"  # no venue: the book says unavailable at once
    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)
    monkeypatch.setattr(views, "POLL_MS", 300)  # the page polls fast so the test does not wait
    return live_server


def test_it_keeps_the_superseded_fold_open_and_focused_across_a_refresh(page, live, approver, agent):
    rejected = decided(ApprovalStatus.REJECTED, 10)
    asks = [ask(agent, f"0.{300 + i}") for i in range(3)]
    login(page, f"{live.url}/approvals/", "approver")
    page.wait_for_url(re.compile(r"/approvals/$"))
    assert page.locator(f"#recent-{rejected.pk}").is_visible()
    summary = page.locator("#superseded > summary")
    assert summary.inner_text() == "2 superseded, show"
    assert not page.locator(f"#superseded-{asks[0].pk}").is_visible()  # folded away

    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator(f"#superseded-{asks[0].pk}").is_visible()
    assert summary.inner_text() == "2 superseded, hide"

    newest = ask(agent, "0.400")  # supersedes asks[-1]; the poll brings it without a reload
    page.wait_for_selector(f"#superseded-{asks[-1].pk}")
    assert page.locator("#superseded > summary").inner_text() == "3 superseded, hide"  # still open
    assert page.locator(f"#superseded-{asks[-1].pk}").is_visible()
    assert page.evaluate("document.activeElement.matches('#superseded > summary')")  # focus kept
    assert page.locator(f"#approval-{newest.pk}").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
