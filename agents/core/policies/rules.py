"""The offline, deterministic default policy: a tiny passive market maker.

Phases (by how many tool-call turns it has already made in this run):
0. browse open markets and read positions;
1. read up to `max_markets` of them (a seeded, deterministic choice);
2. per market: cancel its own stale orders; if it has no live order left and the book has a
   spread of at least `min_spread_ticks`, join one tick inside the spread: SELL a tick under the
   best ask when it holds YES shares there, else BUY a tick over the best bid, sized to
   `order_notional` USDC; 3. summarise and stop.
It speaks only through the tools it is offered, so every limit, guard and trace applies to it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from agents.core.policies.base import Message, PolicyContext, PolicyStep, ToolCall, tool_names
from agents.core.sanitise import SET_ASIDE, WITHHELD
from agents.venue.schemas import SHARE_STEP, TICK


@dataclass(frozen=True)
class RulesParams:
    order_notional: Decimal = Decimal("1")
    max_markets: int = 3
    min_spread_ticks: int = 2
    stale_order_s: float = 300.0


class RulesPolicy:
    kind = "rules"
    billable = False

    def __init__(self, params: RulesParams | None = None, *, seed: int = 0, model: str = "rules-v1",
                 temperature: float = 0.0) -> None:
        self.params = params or RulesParams()
        self.seed = seed
        self.model = model
        self.temperature = temperature

    def next_step(self, ctx: PolicyContext) -> PolicyStep:
        phase = sum(1 for m in ctx.messages if m.role == "assistant" and m.tool_calls)
        offered = tool_names(ctx.tools)
        if phase == 0:
            calls = [_call(ctx, 0, "browse_markets", {"status": "open", "limit": 100}),
                     _call(ctx, 1, "get_positions", {})]
            return _calls_or_final([c for c in calls if c.name in offered], "no market tools offered")
        if phase == 1:
            return self._inspect(ctx, offered)
        if phase == 2:
            return _calls_or_final(self._act(ctx, offered), "nothing to do: no spread worth quoting")
        return PolicyStep(final=_summary(ctx.messages))

    def _inspect(self, ctx: PolicyContext, offered: set[str]) -> PolicyStep:
        markets = _results(ctx.messages, "browse_markets") or [[]]
        slugs = sorted(m["slug"] for m in markets[-1] if m.get("status") == "open" and m.get("title") != SET_ASIDE)
        chosen = sorted(random.Random(self.seed).sample(slugs, min(self.params.max_markets, len(slugs))))
        calls = [_call(ctx, i, "get_market", {"slug": s}) for i, s in enumerate(chosen)]
        return _calls_or_final([c for c in calls if c.name in offered], "no open markets")

    def _act(self, ctx: PolicyContext, offered: set[str]) -> list[ToolCall]:
        held = _held_yes(ctx.messages)
        actions: list[tuple[str, dict[str, Any]]] = []
        for market in _results(ctx.messages, "get_market"):
            if WITHHELD in json.dumps(market, ensure_ascii=False):
                continue  # its text was flagged: the market is set aside, trading it would halt the desk
            actions.extend(self._plan_market(market, held.get(market["slug"], Decimal(0)), ctx.now))
        calls = [_call(ctx, i, name, args) for i, (name, args) in enumerate(actions)]
        return [c for c in calls if c.name in offered]

    def _plan_market(self, m: dict[str, Any], held: Decimal, now: datetime) -> list[tuple[str, dict[str, Any]]]:
        bids, asks = m["book"]["bids"], m["book"]["asks"]
        if not bids or not asks:
            return []
        best_bid, best_ask = Decimal(bids[0]["price"]), Decimal(asks[0]["price"])
        stale = [o for o in m["my_open_orders"] if self._stale(o, best_bid, best_ask, now)]
        actions = [("cancel_order", {"order_id": o["id"]}) for o in stale]
        if len(stale) < len(m["my_open_orders"]) or best_ask - best_bid < TICK * self.params.min_spread_ticks:
            return actions  # still quoting here, or no room inside the spread
        order = self._quote(m["slug"], best_bid, best_ask, held)
        return actions + ([("place_limit_order", order)] if order else [])

    def _stale(self, o: dict[str, Any], best_bid: Decimal, best_ask: Decimal, now: datetime) -> bool:
        age = (now - datetime.fromisoformat(o["created_at"])).total_seconds()
        price = Decimal(o["price"])
        behind = price < best_bid if o["side"] == "BUY" else price > best_ask
        return age > self.params.stale_order_s or behind

    def _quote(self, slug: str, best_bid: Decimal, best_ask: Decimal, held: Decimal) -> dict[str, Any] | None:
        if held > 0:
            price = best_ask - TICK
            size = min(held, _floor_shares(self.params.order_notional / (1 - price)))
            side = "SELL"
        else:
            price = best_bid + TICK
            size = _floor_shares(self.params.order_notional / price)
            side = "BUY"
        if size <= 0:
            return None
        return {"market": slug, "side": side, "price": format(price, "f"), "size": format(size, "f")}


def _floor_shares(x: Decimal) -> Decimal:
    return x.quantize(SHARE_STEP, rounding=ROUND_DOWN)


def _call(ctx: PolicyContext, i: int, name: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(f"rules_{ctx.step}_{i}", name, args)


def _calls_or_final(calls: list[ToolCall], why: str) -> PolicyStep:
    return PolicyStep(tool_calls=tuple(calls)) if calls else PolicyStep(final=why)


def _results(messages: Any, tool: str) -> list[Any]:
    """Successful results of `tool` in the latest tool-call turn that called it."""
    out: list[Any] = []
    for m in messages:
        if m.role == "assistant" and m.tool_calls and any(c.name == tool for c in m.tool_calls):
            out = []  # a newer turn replaces older results
        if m.role == "tool" and m.name == tool:
            payload = _payload(m)
            if payload is not None:
                out.append(payload)
    return out


def _payload(m: Message) -> Any:
    try:
        data = json.loads(m.content)
    except json.JSONDecodeError:
        return None
    return data.get("result") if isinstance(data, dict) and data.get("ok") else None


def _held_yes(messages: Any) -> dict[str, Decimal]:
    positions = _results(messages, "get_positions")
    return {p["market"]: Decimal(p["shares"]) for p in (positions[-1] if positions else []) if p["outcome"] == "YES"}


def _summary(messages: Any) -> str:
    placed = [r for r in _results(messages, "place_limit_order")]
    statuses = sorted({r.get("status", "?") for r in placed})
    cancels = len(_results(messages, "cancel_order"))
    return f"done: {len(placed)} order request(s) {statuses}, {cancels} cancel(s)"
