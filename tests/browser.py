"""Real browsers for the tests: Debian's chromium through Playwright, and a panel server to point it at.

    require_chromium()                                   # at module level: skip without playwright or chromium
    with chromium() as browser: ...                      # headless, closed on the way out
    with paper_panel(venue, tmp_dir, account="x") as server: ...  # daphne on a fresh paper account
    login(page, f"{server.url}/approvals/", "approver")  # the login form, password pw-<username>

Playwright is imported only when a browser is asked for, so a test that needs just the panel server
(tests/monitoring/test_prometheus_live.py) runs where Playwright is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue
from tests.panel.server import PanelServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
ON_A_PHONE: dict[str, Any] = {"viewport": PHONE, "is_mobile": True, "has_touch": True}


def require_chromium() -> ModuleType:
    """Return playwright.sync_api; skip the caller (a whole module when called at import) without it or chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed", allow_module_level=True)
    return sync_api


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launch Debian's chromium headless; close it, and Playwright with it, whatever the test did."""
    sync_api = require_chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, *, timeout_ms: float | None = None, **context_args: Any) -> Page:
    """A page in a context of its own (its cookies, its viewport); `page.context.close()` when done."""
    context = browser.new_context(**context_args)
    if timeout_ms is not None:
        context.set_default_timeout(timeout_ms)
    return context.new_page()


@contextmanager
def phone_page() -> Iterator[Page]:
    """A phone-sized page, 10 s for each wait, in a chromium of its own."""
    with chromium() as browser:
        yield open_page(browser, timeout_ms=10_000, **ON_A_PHONE)


def login(page: Page, url: str, username: str) -> None:
    """Open `url` (the login page, or a page that sends there) and submit the form as `username`.

    The password is pw-<username>, as the test cast (tests/conftest.py) and tests/panel/seed.py set it. The
    caller waits for what should follow: the page it asked for, the panel going live, an error.
    """
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("button[type=submit]")


def panel_page(browser: Browser, server: PanelServer, username: str, **context_args: Any) -> Page:
    """Log in as `username` in a fresh context and open the panel; wait until it is live."""
    page = open_page(browser, **context_args)
    login(page, f"{server.url}/panel/", username)
    page.wait_for_url(f"{server.url}/panel/")
    page.wait_for_selector("#conn.live")
    return page


@contextmanager
def paper_panel(venue: RunningVenue, data_dir: Path, *, account: str, key: str = "",
                seed: str = "") -> Iterator[PanelServer]:
    """A PanelServer (migrated, seeded, started) trading on a fresh paper account with 10,000 USDC.

    1. open the account `account` with the API key `key` at the venue; 2. create the server in `data_dir`;
    3. run `seed` (Python, in the server's shell) when given; 4. stop the server on the way out.
    Each caller names its own account (the key defaults to one made from it): the venue is shared by the
    session, the accounts are not.
    """
    key = key or f"key-{account}-0123456789"
    faults = Faults(venue.url, venue.faults_token)
    try:
        faults.account(account, key, "10000")
    finally:
        faults.close()
    server = PanelServer.create(data_dir, venue_url=venue.url, venue_api_key=key)
    try:
        if seed:
            server.shell(seed)
        yield server
    finally:
        server.stop()
