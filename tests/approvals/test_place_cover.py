"""An approved placement under the dead-man's cover (issue 12): no run's end follows it, so the
placement itself waits for a beat armed after the order reached the venue, and cancels the order
when none comes (the monitor died just after its last beat)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.models import Order, OrderStatus
from agents.venue.schemas import OrderStatus as VenueStatus
from approvals import services
from approvals.models import ApprovalStatus
from approvals.services import approval_place
from monitoring.deadman import CoverBeater
from tests.agents.test_deadman_cover import Session, beat
from tests.approvals.test_place import approve

pytestmark = pytest.mark.django_db(transaction=True)  # the beat thread has its own connection


@pytest.fixture
def approved(make_request, approver, market, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.REQUIRE_DEADMAN_COVER = True
    settings.DEADMAN_COVER_STALE_S = Decimal("3")
    monkeypatch.setattr(services, "async_task", lambda *a, **k: None)  # placed by the test, not a worker
    return approve(make_request(market=market), approver, django_capture_on_commit_callbacks)


def test_it_cancels_an_approved_order_no_beat_confirmed_after_its_send(approved, make_trader):
    trader = make_trader()
    beat()  # the monitor's last beat: fresh when the order goes out, and none after
    placed = approval_place(request_id=approved.pk, venue=trader)
    assert placed.status == ApprovalStatus.PLACED, placed.outcome_note
    assert trader.orders(status=VenueStatus.LIVE) == []  # cancelled: nobody's session would take it
    assert Order.objects.get(client_order_id=approved.client_order_id).status == OrderStatus.CANCELED


def test_it_keeps_an_approved_order_a_live_session_confirmed(approved, make_trader):
    from agents.services import cover_account

    trader = make_trader()
    beater = CoverBeater(Session(cover_account()), interval_s=0.2).start()
    try:
        beat(host="last-beat")  # so the stop check sees a cover before the thread's first beat lands
        placed = approval_place(request_id=approved.pk, venue=trader)
    finally:
        beater.stop()
    assert placed.status == ApprovalStatus.PLACED, placed.outcome_note
    assert [o.client_order_id for o in trader.orders(status=VenueStatus.LIVE)] == [approved.client_order_id]
