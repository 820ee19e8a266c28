"""The queue page's books come from the venue this deployment trades: with VENUE=limitless, the process's shared
LimitlessVenue (agents.services.venue_client), which the page never closes."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from agents.venue.client import HttpVenue
from agents.venue.port import VenueError
from agents.venue.schemas import BookLevel, MarketStatus
from approvals import queue


class SharedVenue:
    """Stands in for the shared LimitlessVenue: answers reads, and says if anyone closed it."""

    def __init__(self) -> None:
        self.closed = False

    def market(self, slug: str) -> SimpleNamespace:
        return SimpleNamespace(title=f"Market {slug}", market_type="crypto-hourly", status=MarketStatus.OPEN)

    def book(self, slug: str) -> SimpleNamespace:
        return SimpleNamespace(bids=[BookLevel(price=Decimal("0.4"), size=Decimal("10"))], asks=[])

    def close(self) -> None:
        self.closed = True


def test_it_reads_books_through_the_shared_limitless_client(settings, monkeypatch):
    settings.VENUE = "limitless"
    shared = SharedVenue()
    monkeypatch.setattr("agents.services.limitless_venue", lambda: shared)

    assert queue.book_venue() is shared


def test_it_never_closes_the_shared_limitless_client(settings, monkeypatch):
    settings.VENUE = "limitless"
    shared = SharedVenue()
    monkeypatch.setattr("agents.services.limitless_venue", lambda: shared)

    views = queue.market_views(["btc-hourly"])

    assert views["btc-hourly"].title == "Market btc-hourly" and views["btc-hourly"].bids
    assert shared.closed is False  # every agent of this process shares it


def test_it_says_book_unavailable_when_the_limitless_client_cannot_start(settings, monkeypatch):
    settings.VENUE = "limitless"

    def skewed():
        raise VenueError("check_clock: our clock is +42.0 s off the venue's")

    monkeypatch.setattr("agents.services.limitless_venue", skewed)

    views = queue.market_views(["a", "b"])

    assert {v.error for v in views.values()} == {"book unavailable (the venue client did not start: VenueError)"}


def test_it_keeps_the_short_paper_client_on_the_paper_venue(settings):
    settings.VENUE = "paper"

    venue = queue.book_venue()
    try:
        assert isinstance(venue, HttpVenue)
    finally:
        venue.close()
