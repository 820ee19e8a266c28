"""Newcomer defects 7: model plurals read as English in the admin ("alert deliveries", not "alert
deliverys"), and a failed login keeps the username that was typed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.apps import apps

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SINGLE_ROW = {"killswitch"}  # one row by design: "kill switch" in the admin, no plural


def english_plural(noun: str) -> str:
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", noun):
        return noun + "es"
    return noun + "s"


@pytest.mark.parametrize("model", [m for app in ("agents", "approvals", "monitoring")
                                   for m in apps.get_app_config(app).get_models()], ids=lambda m: m.__name__)
def test_it_gives_every_model_an_english_plural(model):
    meta = model._meta
    if meta.model_name in SINGLE_ROW:
        return
    assert not meta.verbose_name.endswith("ing"), f"{meta.verbose_name!r}: a participle is no noun to count"
    assert meta.verbose_name_plural == english_plural(meta.verbose_name)


def test_it_lists_alert_deliveries_in_the_admin(client, operator):
    client.force_login(operator)
    page = client.get("/admin/").content.decode()
    assert "Alert deliveries" in page and "deliverys" not in page


def test_it_keeps_the_username_after_a_failed_login(client, operator):
    page = client.post("/accounts/login/", {"username": "operator", "password": "wrong"}).content.decode()
    assert "didn't match" in page
    assert re.search(r'<input type="text" name="username"[^>]* value="operator"', page)
    assert "wrong" not in page  # the password is never echoed
    assert re.search(r'<input type="password"[^>]* autofocus', page)  # straight to the password again


def test_it_escapes_the_username_it_keeps(client):
    page = client.post("/accounts/login/", {"username": '"><b>x', "password": "wrong"}).content.decode()
    assert 'value="&quot;&gt;&lt;b&gt;x"' in page


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright keeps an event loop in this thread
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_username_in_a_browser_and_lands_on_alert_deliveries(page, live_server, settings, operator):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # http://localhost in the test only
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("p.errors")
    assert page.input_value("#id_username") == "operator"  # typed once, kept
    page.fill("#id_password", "pw-operator")  # the focus is already there
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert "Alert deliveries" in page.inner_text("body")
