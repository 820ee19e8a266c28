"""The agent's tools: plain functions, each with a strict pydantic argument model.

The Toolbox offers the model only the agent's allowed tools (defense layer 3), validates
arguments, and turns every failure into a clear error string for the model: a bad call must
never kill the run. Side-effect tools are flagged so the loop re-checks the stop guard right
before them; orders go through place_order_safe only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from agents.core.orders import OrderDesk, OrderIntent, OrderResult, place_order_safe
from agents.core.ports import Clock, VenuePort
from agents.core.spec import SIDE_EFFECT_TOOLS, AgentSpec
from agents.venue.schemas import CancelResult, Market, OrderStatus, Outcome, Side
from agents.venue.strict import MAX_SLUG_CHARS, InvalidInput, OptionalFloat, OrderId, StrictDecimal, load_json
from agents.venue.strict import AgentSlug as StrictSlug

BOOK_DEPTH = 5
MAX_ARGS_BYTES = 16 * 1024  # one tool call's arguments: a few short fields

# Numbers as the venue takes them (agents/venue/strict.py): plain ASCII decimals, so "1_0", "١٠"
# or "1e3" from the model is a tool error, not a silently different order.
_DecStr = WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "decimal as a string"})
Price = Annotated[StrictDecimal, Field(gt=0, lt=1, decimal_places=3), _DecStr]
Shares = Annotated[StrictDecimal, Field(gt=0, decimal_places=3), _DecStr]
Slug = Annotated[StrictSlug, WithJsonSchema({"type": "string", "maxLength": MAX_SLUG_CHARS,
                                             "pattern": r"^[a-z0-9][a-z0-9-]*$"})]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrowseMarketsArgs(_Args):
    """List markets (newest data from the venue)."""

    status: Literal["open", "paused", "closed", "resolved", "any"] = "open"
    category: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=20, ge=1, le=100, strict=True)


class GetMarketArgs(_Args):
    """One market: description, order book (top levels) and your resting orders in it."""

    slug: Slug


class CheckFreshnessArgs(_Args):
    """How old your data about a market is, and whether it is stale."""

    slug: Slug
    max_age_s: OptionalFloat = Field(default=None, gt=0, le=86_400)


class NoArgs(_Args):
    pass


class PlaceLimitOrderArgs(_Args):
    """A GTC limit order; subject to hard limits and, above the approval size, human approval."""

    market: Slug
    side: Side
    price: Price
    size: Shares
    outcome: Outcome = Outcome.YES


class CancelOrderArgs(_Args):
    # Egress filter: an id the venue issued (a UUID or ord_<digits>), never a free string a key could ride in.
    order_id: Annotated[OrderId, WithJsonSchema({
        "type": "string", "maxLength": 64, "pattern": r"^(ord_[0-9]+|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$"})]


class CancelAllArgs(_Args):
    market: Slug | None = None


@dataclass
class ToolEnv:
    """What a tool may touch during one run."""

    spec: AgentSpec
    venue: VenuePort
    clock: Clock
    desk: OrderDesk
    seen_at: dict[str, datetime] = field(default_factory=dict)  # slug -> when get_market last read it


@dataclass(frozen=True)
class CallRef:
    step: int
    index: int  # call index within the run (monotonic across steps, so client ids never collide)


ToolFn = Callable[[ToolEnv, Any, CallRef], Any]


def browse_markets(env: ToolEnv, args: BrowseMarketsArgs, ref: CallRef) -> list[dict[str, Any]]:
    markets = [m for m in env.venue.markets() if args.status == "any" or m.status.value == args.status]
    if args.category:
        markets = [m for m in markets if m.category == args.category]
    return [_market_summary(m) for m in sorted(markets, key=lambda m: m.slug)[: args.limit]]


def _market_summary(m: Market) -> dict[str, Any]:
    return {"slug": m.slug, "title": m.title, "category": m.category, "market_type": m.market_type,
            "status": m.status.value, "close_time": m.close_time.isoformat(), "last_price": m.last_price}


def get_market(env: ToolEnv, args: GetMarketArgs, ref: CallRef) -> dict[str, Any]:
    market = env.venue.market(args.slug)
    book = env.venue.book(args.slug)
    mine = env.venue.orders(market=args.slug, status=OrderStatus.LIVE)
    env.seen_at[args.slug] = env.clock.now()
    return {
        **_market_summary(market),
        "description": market.description, "note": market.note, "resolution_text": market.resolution_text,
        "book": {"bids": [lv.model_dump(mode="json") for lv in book.bids[:BOOK_DEPTH]],
                 "asks": [lv.model_dump(mode="json") for lv in book.asks[:BOOK_DEPTH]],
                 "note": book.note, "seq": book.seq},
        "my_open_orders": [o.model_dump(mode="json", include={"id", "side", "outcome", "price", "remaining",
                                                               "created_at"}) for o in mine],
        "fetched_at": env.seen_at[args.slug].isoformat(),
    }


def check_freshness(env: ToolEnv, args: CheckFreshnessArgs, ref: CallRef) -> dict[str, Any]:
    now = env.clock.now()
    limit = args.max_age_s or env.spec.stale_after_s
    seen = env.seen_at.get(args.slug)
    age = None if seen is None else (now - seen).total_seconds()
    market = env.venue.market(args.slug)
    to_close = (market.close_time - now).total_seconds()
    return {"slug": args.slug, "age_s": age, "max_age_s": limit, "stale": age is None or age > limit,
            "never_fetched": seen is None, "status": market.status.value, "seconds_to_close": round(to_close, 3)}


def get_positions(env: ToolEnv, args: NoArgs, ref: CallRef) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in env.venue.positions()]


def get_balance(env: ToolEnv, args: NoArgs, ref: CallRef) -> dict[str, Any]:
    return env.venue.balance().model_dump(mode="json")


def place_limit_order(env: ToolEnv, args: PlaceLimitOrderArgs, ref: CallRef) -> OrderResult:
    intent = OrderIntent(market=args.market, side=args.side, price=args.price, size=args.size, outcome=args.outcome)
    return place_order_safe(env.desk, intent, step=ref.step, call_index=ref.index)


def cancel_order(env: ToolEnv, args: CancelOrderArgs, ref: CallRef) -> dict[str, Any]:
    if env.spec.dry_run:
        return {"dry_run": True, "would_cancel": args.order_id}
    order = env.venue.cancel(args.order_id)
    return order.model_dump(mode="json", include={"id", "status", "filled", "remaining", "reason"})


def cancel_all(env: ToolEnv, args: CancelAllArgs, ref: CallRef) -> dict[str, Any]:
    if env.spec.dry_run:
        return {"dry_run": True, "would_cancel_all": args.market or "all markets"}
    result: CancelResult = env.venue.cancel_all(args.market)
    return result.model_dump(mode="json")


@dataclass(frozen=True)
class ToolDef:
    name: str
    args_model: type[_Args]
    fn: ToolFn
    description: str

    @property
    def side_effect(self) -> bool:
        return self.name in SIDE_EFFECT_TOOLS

    def schema(self) -> dict[str, Any]:
        """The tool as offered to the model: a fresh copy each time, so a caller may change its own."""
        return json.loads(_schema_json(self))


@cache
def _schema_json(tool: ToolDef) -> str:
    """Built once per tool (pydantic takes about a millisecond a tool); kept as text, which nobody can change."""
    params = tool.args_model.model_json_schema()
    params.pop("title", None)
    params.pop("description", None)
    return json.dumps({"name": tool.name, "description": tool.description, "parameters": params})


TOOLS: dict[str, ToolDef] = {
    t.name: t
    for t in (
        ToolDef("browse_markets", BrowseMarketsArgs, browse_markets, "List markets with status and last price."),
        ToolDef("get_market", GetMarketArgs, get_market,
                "One market: description, order book (best levels first) and your resting orders in it."),
        ToolDef("check_freshness", CheckFreshnessArgs, check_freshness,
                "Age of your data about a market (since get_market) and whether it is stale."),
        ToolDef("get_positions", NoArgs, get_positions, "Your positions."),
        ToolDef("get_balance", NoArgs, get_balance, "Your USDC balance (total, locked, available)."),
        ToolDef("place_limit_order", PlaceLimitOrderArgs, place_limit_order,
                "Place a GTC limit order. Prices on a 0.001 tick in (0,1); size in shares (3 decimals). "
                "Hard limits are enforced in code; large orders or new market types wait for human approval."),
        ToolDef("cancel_order", CancelOrderArgs, cancel_order, "Cancel one of your resting orders by id."),
        ToolDef("cancel_all", CancelAllArgs, cancel_all, "Cancel all your resting orders (optionally one market)."),
    )
}


class ToolRefused(Exception):
    """The model called a tool it was not offered (defense layer 3)."""


@dataclass(frozen=True)
class Prepared:
    """A validated call, ready to run: the loop re-checks the guard before side-effect ones."""

    tool: ToolDef
    args: _Args

    @property
    def side_effect(self) -> bool:
        return self.tool.side_effect


class Toolbox:
    """The allowed tools of one run, bound to the venue and order desk of that run."""

    def __init__(self, env: ToolEnv) -> None:
        self.env = env
        self.allowed = {n: TOOLS[n] for n in env.spec.allowed_tools}

    def schemas(self) -> list[dict[str, Any]]:
        """JSON schemas of the allowed tools only, in allowlist order."""
        return [t.schema() for t in self.allowed.values()]

    def prepare(self, name: str, raw_args: Any) -> Prepared | str:
        """Return a validated call, or the error text for the model. Raises ToolRefused off-list."""
        tool = self.allowed.get(name)
        if tool is None:
            raise ToolRefused(f"tool {name!r} is not available to this agent; available: {sorted(self.allowed)}")
        args, error = _parse_args(raw_args)
        if error:
            return f"invalid arguments for {name}: {error}"
        try:
            return Prepared(tool, tool.args_model.model_validate(args))
        except ValidationError as exc:
            return f"invalid arguments for {name}: {_validation_text(exc)}"

    def run(self, call: Prepared, ref: CallRef) -> Any:
        """Run a prepared call (in the loop's worker thread). Exceptions propagate to the loop."""
        return call.tool.fn(self.env, call.args, ref)


def _parse_args(raw: Any) -> tuple[Any, str]:
    if raw is None:
        return {}, ""
    if isinstance(raw, str):
        try:
            # Decimal, never float: a price or size the model wrote keeps every digit it wrote.
            raw = load_json(raw, max_bytes=MAX_ARGS_BYTES, field="arguments") if raw.strip() else {}
        except InvalidInput as exc:
            return None, str(exc)
    if not isinstance(raw, dict):
        return None, "arguments must be a JSON object"
    return raw, ""


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def build_toolbox(*, spec: AgentSpec, desk: OrderDesk) -> Toolbox:
    """The usual construction: the venue and clock come from the desk."""
    return Toolbox(ToolEnv(spec=spec, venue=desk.venue, clock=desk.clock, desk=desk))


__all__ = ["TOOLS", "CallRef", "Prepared", "ToolDef", "ToolEnv", "ToolRefused", "Toolbox",
           "build_toolbox"]
