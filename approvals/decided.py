"""The queue page's "Recently decided": decisions first, superseded requests folded away.

An agent that runs every minute asks again for the same trade while the last request waits; each new
request expires the older one as "superseded by request #N" (approvals.services). Those are not
decisions anyone made, and listed with the rest they bury the approvals and rejections. Here they are
split out: the latest RECENT_LIMIT other decided requests, and the superseded ones of the same period,
counted, the newest SUPERSEDED_SHOWN of them listed for whoever unfolds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from approvals.models import ApprovalRequest, ApprovalStatus
from approvals.queue import RECENT_LIMIT

SUPERSEDED_SHOWN = 50
# The note approvals.services._supersede_older writes; a request that expired on its own has none.
SUPERSEDED_NOTE = "superseded by request #"
SUPERSEDED = Q(status=ApprovalStatus.EXPIRED, outcome_note__startswith=SUPERSEDED_NOTE)


@dataclass(frozen=True)
class Decided:
    decided: list[ApprovalRequest]
    superseded: list[ApprovalRequest]
    superseded_count: int

    @property
    def superseded_hidden(self) -> int:
        """How many superseded requests of the period are counted but not listed."""
        return self.superseded_count - len(self.superseded)


def decided_recent(limit: int = RECENT_LIMIT) -> Decided:
    """The latest decided requests other than superseded ones, and the superseded ones since the oldest of them."""
    done = ApprovalRequest.objects.exclude(status=ApprovalStatus.PENDING).select_related("agent")
    decided = list(done.exclude(SUPERSEDED).order_by("-decided_at", "-id")[:limit])
    superseded = _superseded(done, decided, full=len(decided) == limit)
    return Decided(decided=decided, superseded=list(superseded.order_by("-decided_at", "-id")[:SUPERSEDED_SHOWN]),
                   superseded_count=superseded.count())


def _superseded(done: QuerySet[ApprovalRequest], decided: list[ApprovalRequest], *, full: bool) -> QuerySet:
    """Superseded in the period the decided list covers: since its oldest row when the list is full."""
    superseded = done.filter(SUPERSEDED)
    oldest = decided[-1].decided_at if decided and full else None
    return superseded.filter(decided_at__gte=oldest) if oldest is not None else superseded
