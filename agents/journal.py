"""A venue wrapper that journals every order in the database around the venue call.

Write-ahead: the Order row (status `sent`) exists before the request leaves, so a crash
between "sent" and "acknowledged" leaves a row that recovery reconciles with the venue by
client order id. After the call the row takes the venue's status.
"""

from __future__ import annotations

from typing import Any

from agents.core.risk import order_notional
from agents.models import AgentConfig, Order, OrderStatus, Run
from agents.venue import schemas as v

_STATUS = {
    v.OrderStatus.LIVE: OrderStatus.LIVE,
    v.OrderStatus.MATCHED: OrderStatus.MATCHED,
    v.OrderStatus.CANCELED: OrderStatus.CANCELED,
    v.OrderStatus.REJECTED: OrderStatus.REJECTED,
}


def order_sync(order: v.Order) -> int:
    """Copy the venue's view of one order onto our row (matched by client order id)."""
    return Order.objects.filter(client_order_id=order.client_order_id).update(
        venue_order_id=order.id, status=_STATUS[order.status], filled=order.filled, reason=order.reason[:500]
    )


class JournaledVenue:
    """Delegates to the real venue; place/cancel keep the Order rows in step."""

    def __init__(self, inner: Any, *, agent: AgentConfig, run: Run | None) -> None:
        self.inner = inner
        self.agent = agent
        self.run = run

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # read-only calls pass straight through

    def place(self, req: v.OrderRequest) -> v.Order:
        Order.objects.get_or_create(
            client_order_id=req.client_order_id,
            defaults={
                "agent": self.agent, "run": self.run, "market": req.market, "side": req.side.value,
                "outcome": req.outcome.value, "price": req.price, "size": req.size,
                "notional": order_notional(req.side, req.price, req.size), "status": OrderStatus.SENT,
            },
        )
        order = self.inner.place(req)  # an exception leaves the row `sent`: recovery asks the venue
        order_sync(order)
        return order

    def cancel(self, order_id: str) -> v.Order:
        order = self.inner.cancel(order_id)
        order_sync(order)
        return order

    def cancel_all(self, market: str | None = None) -> v.CancelResult:
        result = self.inner.cancel_all(market)
        Order.objects.filter(venue_order_id__in=result.canceled).update(status=OrderStatus.CANCELED)
        return result
