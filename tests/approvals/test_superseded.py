"""The queue page's "Recently decided": approvals and rejections in view, superseded requests folded away."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.core.orders import ApprovalDraft
from agents.models import AgentConfig
from agents.venue.schemas import OrderRequest
from approvals import decided as decided_module
from approvals import services
from approvals.models import ApprovalRequest, ApprovalStatus
from approvals.services import approval_request_create
from tests.factories import ApprovalRequestFactory, RunFactory

pytestmark = pytest.mark.django_db
QUEUE = reverse("approvals:queue")
FRAGMENT = reverse("approvals:fragment")


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)


@pytest.fixture
def approver_client(client, approver):
    client.force_login(approver)
    return client


def ask(agent: AgentConfig, price: str) -> ApprovalRequest:
    """What a run does when the same trade needs approval again: a new request that supersedes the last one."""
    run = RunFactory(agent=agent)
    req = OrderRequest(market="m-again", side="BUY", price=Decimal(price), size=Decimal("5"),
                       client_order_id=f"ac-{run.pk}-{price}")
    draft = ApprovalDraft(agent=agent.name, run_id=str(run.pk), step=1, call_index=0,
                          client_order_id=req.client_order_id, request=req, notional=Decimal("20"),
                          market_type="test", reasons=["oversize"])
    return approval_request_create(agent=agent, run=run, draft=draft)


def decided(status: str, minutes_ago: float, note: str = "") -> ApprovalRequest:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return ApprovalRequestFactory(status=status, requested_at=at - timedelta(minutes=1), decided_at=at,
                                  outcome_note=note)


def superseded(minutes_ago: float) -> ApprovalRequest:
    return decided(ApprovalStatus.EXPIRED, minutes_ago, note="superseded by request #999")


def ids(html: str, prefix: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'id="{prefix}-(\d+)"', html)]


def fold(html: str) -> str:
    found = re.search(r'<details class="superseded" id="superseded">(.*?)</details>', html, re.S)
    assert found, "no superseded fold on the page"
    return found.group(1)


def test_it_folds_superseded_requests_away_so_the_decisions_show(approver_client, agent):
    rejected = decided(ApprovalStatus.REJECTED, 30, note="rejected by approver")
    placed = decided(ApprovalStatus.PLACED, 20, note="placed")
    asks = [ask(agent, f"0.{300 + i}") for i in range(15)]  # each new one supersedes the one before
    html = approver_client.get(QUEUE).content.decode()
    assert ids(html, "recent") == [placed.pk, rejected.pk]  # the decisions, not a wall of "superseded"
    assert re.search(r"<summary>14 superseded, <span", html)
    assert '<details class="superseded" id="superseded">' in html  # no `open`: folded by default
    assert sorted(ids(fold(html), "superseded")) == sorted(r.pk for r in asks[:-1])
    assert ids(html, "approval") == [asks[-1].pk]  # the newest still waits


def test_it_folds_them_in_the_polled_fragment_too(approver_client, agent):
    decided(ApprovalStatus.REJECTED, 5)
    ask(agent, "0.300"), ask(agent, "0.301")
    html = approver_client.get(FRAGMENT).content.decode()
    assert re.search(r"<summary>1 superseded, <span", html) and len(ids(fold(html), "superseded")) == 1


def test_it_keeps_a_request_that_expired_on_its_own_among_the_decisions(approver_client):
    timed_out = decided(ApprovalStatus.EXPIRED, 3)  # nobody decided in time: that is news to an approver
    html = approver_client.get(QUEUE).content.decode()
    assert ids(html, "recent") == [timed_out.pk]
    assert 'id="superseded"' not in html


def test_it_counts_the_superseded_of_the_period_the_decisions_cover(approver_client):
    decisions = [decided(ApprovalStatus.REJECTED, 10 + i) for i in range(decided_module.RECENT_LIMIT)]
    recent = [superseded(5), superseded(12)]
    superseded(60)  # older than the oldest decision listed: not this page's business
    html = approver_client.get(QUEUE).content.decode()
    assert ids(html, "recent") == [d.pk for d in decisions]
    assert re.search(r"<summary>2 superseded, <span", html)
    assert ids(fold(html), "superseded") == [r.pk for r in recent]


def test_it_lists_the_newest_superseded_and_says_how_many_more_it_counted(approver_client, monkeypatch):
    monkeypatch.setattr(decided_module, "SUPERSEDED_SHOWN", 3)
    rows = [superseded(i) for i in range(5)]  # newest first
    html = approver_client.get(QUEUE).content.decode()
    assert re.search(r"<summary>5 superseded, <span", html)
    assert ids(fold(html), "superseded") == [r.pk for r in rows[:3]]
    assert "and 2 older not listed." in fold(html)
    assert 'id="recent-none"' in html  # only superseded ones: the page says there is no decision, no empty table


def test_it_shows_no_fold_when_nothing_was_superseded(approver_client):
    decided(ApprovalStatus.PLACED, 1)
    assert 'id="superseded"' not in approver_client.get(QUEUE).content.decode()
