"""Seed a throw-away database for the browser tests and screenshots (run in `manage.py shell`).

Users: operator (superuser) and viewer (logged in, no permissions), passwords "pw-<name>".
One agent with a realistic run trace, metric samples, a pending approval and a firing alert.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone


def seed() -> None:
    from monitoring.alerts import alert_fire
    from monitoring.metrics import metric_record
    from tests.factories import AgentConfigFactory, ApprovalRequestFactory, RunFactory

    users = get_user_model()
    users.objects.create_superuser("operator", password="pw-operator")
    users.objects.create_user("viewer", password="pw-viewer")
    now = timezone.now()
    agent = AgentConfigFactory(name="btc-hourly", model_version="gpt-4o-mini-2024-07-18", policy_kind="openai")
    AgentConfigFactory(name="eth-daily", enabled=False)
    for hours in range(24, 0, -2):
        run = RunFactory(agent=agent, status="completed", started_at=now - timedelta(hours=hours),
                         ended_at=now - timedelta(hours=hours, seconds=-8), steps=3, tool_calls=4,
                         cost=Decimal("0.0021") + Decimal(hours % 5) / 1000)
        metric_record("cost_per_run", run.cost, agent_id=agent.pk, run_id=run.pk, ts=run.ended_at)
        metric_record("tool_calls_per_run", 3 + hours % 4, agent_id=agent.pk, run_id=run.pk, ts=run.ended_at)
        metric_record("latency_p95", 800 + 40 * (hours % 7), agent_id=agent.pk, run_id=run.pk, ts=run.ended_at)
    run = demo_run(agent, now)
    ApprovalRequestFactory(run=run, market="btc-above-100k-hourly", notional=Decimal("27.5"))
    alert_fire(key="latency_p95:btc-hourly", title="latency_p95 2410 > 2x baseline (btc-hourly)", severity="error")
    print(f"seeded run {run.pk}")


def demo_run(agent, now):
    """A budget-stopped run with every kind of step the viewer draws."""
    from tests.factories import RunFactory, TraceEventFactory

    start = now - timedelta(minutes=3)
    run = RunFactory(agent=agent, status="budget_tokens", started_at=start, ended_at=start + timedelta(seconds=21),
                     steps=3, tool_calls=4, tokens_in=48200, tokens_out=2900, cost=Decimal("0.009"),
                     model_version=agent.model_version, end_reason="tokens budget exhausted: 51100 of 50000")
    book = {"market": "btc-above-100k-hourly", "bids": [["0.41", "120"], ["0.40", "300"]],
            "asks": [["0.44", "80"], ["0.45", "210"]]}
    order = {"side": "BUY", "size": "5", "outcome": "YES", "market": "btc-above-100k-hourly", "price": "0.42",
             "status": "live", "order_id": "o-1812"}
    events = [
        ("run_start", -1, "", {"agent": agent.name, "policy": "openai", "model": agent.model_version,
                               "temperature": "0", "seed": 7, "offered_tools": agent.allowed_tools,
                               "spec": {"max_order_notional": "25", "max_steps": 10, "max_tokens": 50000}}),
        ("model_request", 0, "", {"model": agent.model_version, "message_count": 2, "tools": agent.allowed_tools,
                                  "new_messages": [{"role": "user", "content": "Trade the BTC hourly market."}]}),
        ("model_response", 0, "", {"text": "BTC is 0.6% above the strike with 40 minutes left. I will look at the "
                                   "book before deciding; if the ask is under 0.45 a small YES is worth it.",
                                   "tool_calls": [{"id": "c1", "name": "get_orderbook",
                                                   "arguments": {"market": "btc-above-100k-hourly"}}],
                                   "usage": {"input_tokens": 1900, "output_tokens": 140}, "cost_usd": "0.0004",
                                   "latency_ms": 812.4, "stop_reason": "tool_calls"}),
        ("decision", 0, "", {"action": "tool_calls", "calls": [{"name": "get_orderbook"}]}),
        ("tool_call", 0, "get_orderbook", {"name": "get_orderbook", "arguments": {"market": "btc-above-100k-hourly"}}),
        ("tool_result", 0, "get_orderbook", {"tool": "get_orderbook", "ok": True, "result": book, "latency_ms": 3.1,
                                             "sanitised": []}),
        ("model_response", 1, "", {"text": "Ask 0.44. I'll bid 0.42 for 60 shares.", "tool_calls": [
            {"id": "c2", "name": "place_limit_order", "arguments": {"price": "0.42", "size": "60"}}],
            "usage": {"input_tokens": 2300, "output_tokens": 90}, "cost_usd": "0.0004", "latency_ms": 901.0}),
        ("tool_call", 1, "place_limit_order", {"name": "place_limit_order",
                                               "arguments": {"price": "0.42", "size": "60"}}),
        ("refusal", 1, "", {"what": "order", "client_order_id": "ac-77-1-0", "notional": "25.2",
                            "reason": "notional 25.2 above max_order_notional 25"}),
        ("approval_requested", 1, "", {"approval_id": 1, "reasons": ["oversize"], "notional": "21.0",
                                       "request": {"side": "BUY", "size": "50", "price": "0.42"}}),
        ("order_placed", 2, "place_limit_order", {"dry_run": False, "duplicate": False, "order": order,
                                                  "notional": "2.1"}),
        ("budget_stop", 2, "", {"outcome": "budget_tokens", "budget": "tokens", "used": 51100, "limit": 50000,
                                "reason": "tokens budget exhausted: 51100 of 50000"}),
        ("run_end", 2, "", {"outcome": "budget_tokens", "halt_reason": "tokens budget exhausted", "steps": 3,
                            "tool_calls": 4, "tokens_in": 48200, "tokens_out": 2900, "cost_usd": "0.009",
                            "orders": {"live": 1}}),
    ]
    for seq, (kind, step, tool, data) in enumerate(events):
        TraceEventFactory(run=run, seq=seq, kind=kind, step=step, tool=tool, data=data,
                          ts=start + timedelta(seconds=1.5 * seq))
    return run



def seed_desk() -> None:
    """Realistic desk figures for the screenshots: trades at the paper venue the deployment points at,
    journaled for the agents (attributed), one placed by hand (unattributed), and the day's opening NAV
    a little above the current one (a small loss against the daily-loss limit)."""
    from agents.models import AgentConfig
    from agents.services import venue_client
    from agents.venue.schemas import OrderRequest, Side
    from monitoring.health import nav_of
    from monitoring.metrics import metric_record

    venue = venue_client()
    books = [b for b in (venue.book(m.slug) for m in venue.markets() if m.status == "open") if b.asks and b.bids][:3]
    agents = list(AgentConfig.objects.order_by("name"))
    for n, book in enumerate(books):
        agent, cid = agents[n % len(agents)], f"seed-{agents[n % len(agents)].name}-{n}"
        _journaled(venue, agent, OrderRequest(market=book.market, side=Side.BUY, price=book.asks[0].price,
                                              size=Decimal(40 + 10 * n), client_order_id=f"{cid}-fill"))
        below = max(book.bids[0].price - Decimal("0.03"), Decimal("0.01"))
        _journaled(venue, agent, OrderRequest(market=book.market, side=Side.BUY, price=below, size=Decimal(25),
                                              client_order_id=f"{cid}-rest"))
    if books:
        venue.place(OrderRequest(market=books[0].market, side=Side.BUY, price=Decimal("0.05"), size=Decimal(10),
                                 client_order_id="by-hand-1"))  # no journaled row: unattributed
    opening = nav_of(venue) + Decimal("18.40")
    metric_record("nav", opening, ts=timezone.now().replace(hour=0, minute=0, second=5))
    print(f"seeded the desk: {len(books)} markets traded, opening NAV {opening}")


def _journaled(venue, agent, req) -> None:
    """Place as the agent's run would, leaving the Order row that attributes it."""
    from tests.factories import OrderFactory

    placed = venue.place(req)
    OrderFactory(agent=agent, client_order_id=req.client_order_id, venue_order_id=placed.id, market=req.market,
                 side=req.side.value, price=req.price, size=req.size, notional=req.price * req.size,
                 filled=placed.filled)
