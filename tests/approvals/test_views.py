"""The queue page, its poll fragment and the decide POST: login, permission, POST only, CSRF, clear messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals import queue as queue_module
from approvals import services
from approvals.models import ApprovalDecision, ApprovalRequest, ApprovalStatus

pytestmark = pytest.mark.django_db

QUEUE = reverse("approvals:queue")
FRAGMENT = reverse("approvals:fragment")


def decide_url(request: ApprovalRequest) -> str:
    return reverse("approvals:decide", args=[request.pk])


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)


@pytest.fixture
def approver_client(client, approver) -> Client:
    client.force_login(approver)
    return client


@pytest.fixture
def venue_down(settings) -> None:
    settings.VENUE_URL = "http://127.0.0.1:9"  # discard port: connection refused at once


def test_it_sends_anonymous_users_to_the_login_page(client, make_request):
    for url in (QUEUE, FRAGMENT):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(decide_url(make_request()), {"decision": "approve"})
    assert response.status_code == 302 and ApprovalRequest.objects.get().status == ApprovalStatus.PENDING


def test_it_forbids_the_queue_and_decisions_to_users_without_access(client, nobody, make_request):
    client.force_login(nobody)
    request = make_request()
    assert client.get(QUEUE).status_code == 403
    assert client.get(FRAGMENT).status_code == 403
    assert client.post(decide_url(request), {"decision": "approve"}).status_code == 403
    assert ApprovalRequest.objects.get().status == ApprovalStatus.PENDING


def test_it_lists_pending_requests_newest_first_with_what_a_person_needs(approver_client, make_request, venue_down):
    older = make_request(requested_at=timezone.now() - timedelta(minutes=5), model_reason="momentum after news")
    newer = make_request(market="eth-above-5k-daily", reasons=["market type 'test' is new"])
    make_request(status=ApprovalStatus.REJECTED)
    html = approver_client.get(QUEUE).content.decode()
    assert html.index(f'id="approval-{newer.pk}"') < html.index(f'id="approval-{older.pk}"')
    assert "momentum after news" in html and "market type &#x27;test&#x27; is new" in html
    assert older.agent.name in html and "16.500000 USDC" in html and "min" in html and "left" in html
    assert f"run #{older.run_id}" in html
    assert "venue unreachable" in html  # the book is optional; the page still renders
    assert 'name="viewport"' in html and "setInterval" in html


def test_it_links_the_run_to_the_run_viewer_only_for_users_who_may_view_runs(client, approver, make_request,
                                                                               venue_down):
    from django.contrib.auth.models import Permission

    request = make_request()
    viewer_url = reverse("agents:run", args=[request.run_id])
    client.force_login(approver)  # approve_trade only: the run number, no link (the viewer would say 403)
    html = client.get(QUEUE).content.decode()
    assert f"run #{request.run_id}" in html and viewer_url not in html
    assert "/admin/" not in html
    approver.user_permissions.add(Permission.objects.get(codename="view_run"))
    client.force_login(type(approver).objects.get(pk=approver.pk))
    for url in (QUEUE, FRAGMENT):
        html = client.get(url).content.decode()
        assert f'href="{viewer_url}"' in html and "/admin/" not in html


def test_it_shows_the_current_book_from_the_venue(approver_client, make_request, make_trader, market, venue,
                                                  settings):
    bidder = make_trader()
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, bidder.api_key
    from agents.venue.schemas import OrderRequest

    bidder.place(OrderRequest(market=market, side="BUY", outcome="YES", price="0.410", size="7",
                              order_type="GTC", client_order_id="bidder-1"))
    make_request(market=market)
    html = approver_client.get(FRAGMENT).content.decode()
    assert "0.410" in html and f"Test {market}" in html and "venue unreachable" not in html


def test_it_does_not_offer_buttons_that_four_eyes_would_refuse(client, approver, make_request, agent, venue_down):
    agent.owner = approver
    agent.save()
    make_request()
    client.force_login(approver)
    html = client.get(FRAGMENT).content.decode()
    assert "Four-eyes: you own this agent." in html and 'value="approve"' not in html


def test_it_approves_from_the_page_and_says_so(approver_client, make_request):
    request = make_request()
    response = approver_client.post(decide_url(request), {"decision": "approve", "note": "ok by me"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert any(t.startswith(f"Approved #{request.pk}") for t in texts(response))
    request.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED
    assert ApprovalDecision.objects.get().note == "ok by me"


def test_it_tells_a_stale_click_what_happened(approver_client, approver2, make_request):
    request = make_request()
    services.approval_decide(request_id=request.pk, actor=approver2, decision="reject")
    response = approver_client.post(decide_url(request), {"decision": "approve"}, follow=True)
    assert f"Request #{request.pk} was already decided by approver2: it is rejected." in response.content.decode()
    assert ApprovalRequest.objects.get().status == ApprovalStatus.REJECTED


def test_it_explains_a_bad_post_and_decides_nothing(approver_client, make_request):
    request = make_request()
    response = approver_client.post(decide_url(request), {"decision": "yolo"})
    assert "nothing was decided" in texts(response)[0] and "decision" in texts(response)[0]
    response = approver_client.post(reverse("approvals:decide", args=[999999]), {"decision": "reject"})
    assert texts(response)[-1] == "There is no approval request #999999."
    assert ApprovalRequest.objects.get().status == ApprovalStatus.PENDING


def test_it_accepts_only_post_for_decisions(approver_client, make_request):
    request = make_request()
    assert approver_client.get(decide_url(request), {"decision": "approve"}).status_code == 405
    assert approver_client.put(decide_url(request)).status_code == 405
    assert ApprovalRequest.objects.get().status == ApprovalStatus.PENDING


def test_it_refuses_a_decision_without_the_csrf_token(approver, make_request):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(approver)
    request = make_request()
    assert browser.post(decide_url(request), {"decision": "approve"}).status_code == 403
    assert ApprovalRequest.objects.get().status == ApprovalStatus.PENDING


def test_it_gives_up_on_the_book_quickly_when_the_venue_is_down(approver_client, make_request, venue_down,
                                                                monkeypatch):
    calls: list[str] = []
    real = queue_module._market_view
    monkeypatch.setattr(queue_module, "_market_view", lambda v, slug: calls.append(slug) or real(v, slug))
    for i in range(5):
        make_request(market=f"market-{i}")
    assert approver_client.get(FRAGMENT).status_code == 200
    assert len(calls) == 1  # the first failure marks the venue down; the other markets are not asked
