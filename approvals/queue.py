"""What the queue page shows: pending requests with the current book, and what the viewer may do with each.

Read-only. The book comes from the venue with a short timeout and no retries: a slow or dead venue
makes the page say "book unavailable", never makes it hang (an approver may be on a phone). With
VENUE=limitless it comes through the process's shared LimitlessVenue (its own timeout and retries on
reads, its rate limiter shared with the agents), and the page stops asking after the first market
the venue does not answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Prefetch

from agents.venue.port import VenueError, VenueTimeout, VenueUnavailable
from agents.venue.schemas import BookLevel
from approvals.models import ApprovalDecision, ApprovalRequest, ApprovalStatus, Decision

QUEUE_LIMIT = 100
RECENT_LIMIT = 10
BOOK_MARKETS_MAX = 20  # beyond this many distinct markets the page would be slow: show the first ones
BOOK_LEVELS = 3
BOOK_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class MarketView:
    """A market as the approver sees it now (or why we cannot show it)."""

    title: str = ""
    market_type: str = ""
    status: str = ""
    bids: list[BookLevel] = field(default_factory=list)
    asks: list[BookLevel] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class QueueRow:
    request: ApprovalRequest
    market: MarketView
    seconds_left: int
    approvers: list[str]
    blocked: str  # why this viewer may not decide it ("" when they may)

    @property
    def time_left(self) -> str:
        minutes, seconds = divmod(max(self.seconds_left, 0), 60)
        return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def book_venue() -> Any:
    """A venue client for reading books: on the paper venue a fresh one, short timeout, no retries; with
    VENUE=limitless the process's shared LimitlessVenue (agents.services.venue_client: its rate limiter is
    the account's, and it checked the clock), which the caller must not close (tests swap this function)."""
    if settings.VENUE == "limitless":
        from agents.services import venue_client

        return venue_client()
    from agents.venue.client import HttpVenue

    return HttpVenue(settings.VENUE_URL, settings.VENUE_API_KEY, timeout=BOOK_TIMEOUT_S, retries=0)


def queue_rows(user: Any, *, now: datetime) -> list[QueueRow]:
    """Pending requests not yet overdue, newest first, each with its market now and the viewer's standing."""
    votes = Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("actor"))
    pending = list(ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING, expires_at__gt=now)
                   .select_related("agent", "run").prefetch_related(votes)
                   .order_by("-requested_at", "-id")[:QUEUE_LIMIT])
    markets = market_views([r.market for r in pending])
    return [_row(r, markets[r.market], user, now) for r in pending]


def _row(request: ApprovalRequest, market: MarketView, user: Any, now: datetime) -> QueueRow:
    votes = list(request.decisions.all())
    return QueueRow(request=request, market=market, seconds_left=int((request.expires_at - now).total_seconds()),
                    approvers=[d.actor.get_username() for d in votes if d.decision == Decision.APPROVE],
                    blocked=_blocked(request, votes, user))


def _blocked(request: ApprovalRequest, votes: list[ApprovalDecision], user: Any) -> str:
    """Mirror approval_decide's refusals so the page does not offer a button that will say no."""
    if not user.has_perm("approvals.approve_trade"):
        return "You can view the queue but not decide (needs the approve_trade permission)."
    if request.run.started_by_id == user.pk:
        return "Four-eyes: you started the run that raised it."
    if request.agent.owner_id == user.pk:
        return "Four-eyes: you own this agent."
    if any(d.actor_id == user.pk for d in votes):
        return "You approved it; a second, different approver is needed."
    return ""


def market_views(slugs: list[str]) -> dict[str, MarketView]:
    """Market and top of book per distinct slug; once the venue is unreachable, stop asking it."""
    unique = list(dict.fromkeys(slugs))
    views: dict[str, MarketView] = {}
    if not unique:
        return views
    down = ""
    try:
        venue = book_venue()  # the shared Limitless client is built (and checks the clock) on first use
    except VenueError as exc:
        venue, down = None, f"book unavailable (the venue client did not start: {type(exc).__name__})"
    try:
        for slug in unique[:BOOK_MARKETS_MAX]:
            views[slug] = MarketView(error=down) if down else _market_view(venue, slug)
            if views[slug].error.startswith("venue unreachable"):
                down = views[slug].error
    finally:
        if venue is not None and settings.VENUE != "limitless":  # the shared client serves the whole process
            venue.close()
    for slug in unique[BOOK_MARKETS_MAX:]:
        views[slug] = MarketView(error="book not loaded (too many markets in the queue)")
    return views


def _market_view(venue: Any, slug: str) -> MarketView:
    try:
        market = venue.market(slug)
        book = venue.book(slug)
    except (VenueTimeout, VenueUnavailable) as exc:
        return MarketView(error=f"venue unreachable ({type(exc).__name__})")
    except VenueError as exc:
        return MarketView(error=f"book unavailable ({type(exc).__name__}: {str(exc)[:120]})")
    except Exception as exc:  # a malformed answer must not take the queue page down with it
        return MarketView(error=f"book unavailable ({type(exc).__name__})")
    return MarketView(title=market.title, market_type=market.market_type, status=market.status.value,
                      bids=book.bids[:BOOK_LEVELS], asks=book.asks[:BOOK_LEVELS])
