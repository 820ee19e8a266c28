"""Running an agent: the Django side of the loop (lock, state, recovery, trace rows, orders).

`agents/core` does the loop itself and takes everything as arguments; this module builds
those arguments from the database and settings, and records what happened.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Exists, F, OuterRef, Subquery, Sum
from django.utils import timezone

from academy.dbclock import db_clock
from agents import otel
from agents.core.guards import NO_OVERRIDE, Override, StopCheck, guards_for_data_dir, override_from_text
from agents.core.loop import BEHAVIOUR, RunResult, run_loop
from agents.core.orders import ApprovalDraft, OrderDesk
from agents.core.policies.base import Policy, PriceTable
from agents.core.policies.factory import build_policy
from agents.core.ports import Alert, Clock, SystemClock, VenuePort
from agents.core.redact import Redactor
from agents.core.risk import ExposureSnapshot, order_notional
from agents.core.spec import SIDE_EFFECT_TOOLS, AgentSpec, Budgets, HardLimits, SoftLimits
from agents.core.state import (
    AgentLock,
    AgentState,
    AlreadyRunning,
    StateCorrupt,
    load_state,
    mark_run_finished,
    mark_run_started,
)
from agents.core.tools import Toolbox, build_toolbox
from agents.core.tracing import TraceWriter
from agents.journal import JournaledVenue, order_sync
from agents.lease import (
    Lease,
    LeaseHeartbeat,
    lease_claim,
    lease_holder,
    lease_lost,
    lease_max_hold,
    lease_release,
)
from agents.models import (
    MAX_MARKET,
    AgentConfig,
    AgentLease,
    DailyCost,
    DeskOverride,
    MarketQuarantine,
    Order,
    OrderStatus,
    Run,
    RunStatus,
    RunTally,
    TraceEvent,
    TraceKind,
)
from agents.overrides import desk_override_current
from agents.venue.schemas import OrderStatus as VenueOrderStatus
from approvals.services import approval_briefing, approval_request_create

log = logging.getLogger(__name__)

RECOVERY_REPLAY_S = 60


def state_dir() -> Path:
    return settings.DATA_DIR / "state"


def traces_dir() -> Path:
    return state_dir() / "traces"


def redactor() -> Redactor:
    return Redactor(settings.TRACE_SECRET_ENV_VARS)


def price_table() -> PriceTable:
    return {m: (Decimal(i), Decimal(o)) for m, (i, o) in settings.MODEL_PRICES.items()}


def agent_spec(agent: AgentConfig) -> AgentSpec:
    """Freeze the agent's row into the spec the loop runs with (refuses an aliased model)."""
    return AgentSpec(
        name=agent.name, policy=agent.policy_kind, model=agent.model_version, temperature=float(agent.temperature),
        seed=agent.seed or 0, allowed_tools=tuple(agent.allowed_tools),
        hard=HardLimits(
            max_order_notional=agent.max_order_notional, max_daily_notional=agent.max_daily_notional,
            max_open_positions=agent.max_open_positions, max_market_exposure=agent.max_market_exposure,
        ),
        soft=SoftLimits(approval_notional=agent.approval_notional, known_market_types=tuple(agent.known_market_types)),
        budgets=Budgets(max_tokens=agent.max_tokens, max_tool_calls=agent.max_tool_calls,
                        max_seconds=float(agent.max_seconds)),
        max_steps=agent.max_steps, tool_timeout_s=float(agent.tool_timeout_s),
        dry_run=agent.dry_run or settings.DRY_RUN,
    )


def venue_client() -> VenuePort:
    """The venue account this deployment trades: Limitless with VENUE=limitless, else the paper venue."""
    if settings.VENUE == "limitless":
        return limitless_venue()
    from agents.venue.client import HttpVenue

    return HttpVenue(settings.VENUE_URL, settings.VENUE_API_KEY, timeout=settings.VENUE_TIMEOUT_S)


_LIVE_VENUE: dict[tuple[str, ...], VenuePort] = {}
_LIVE_LOCK = threading.Lock()


def limitless_venue() -> VenuePort:
    """This process's one LimitlessVenue (its rate limiter and caches are the process's), built from the
    environment without touching the network, so that building it never fails a halt."""
    key = (settings.LIMITLESS_API_URL, settings.LIMITLESS_PRIVATE_KEY, settings.CHAIN_RPC_URL)
    with _LIVE_LOCK:
        venue = _LIVE_VENUE.get(key)
        if venue is None:
            venue = _LIVE_VENUE[key] = _build_limitless()
    return venue


def _build_limitless() -> VenuePort:
    from eth_account import Account

    from agents.venue.chain_reader import ChainReader
    from agents.venue.limitless_client import LimitlessVenue

    wallet = Account.from_key(settings.LIMITLESS_PRIVATE_KEY).address
    chain = ChainReader(settings.CHAIN_RPC_URL, wallet, timeout=float(settings.VENUE_TIMEOUT_S))
    hmac = {"hmac_token_id": settings.LIMITLESS_HMAC_TOKEN_ID, "hmac_secret": settings.LIMITLESS_HMAC_SECRET}
    credentials = hmac if settings.LIMITLESS_HMAC_TOKEN_ID else {"api_key": settings.LIMITLESS_API_KEY}
    venue = LimitlessVenue(settings.LIMITLESS_API_URL, private_key=settings.LIMITLESS_PRIVATE_KEY,
                           chain_id=settings.LIMITLESS_CHAIN_ID, timeout=float(settings.VENUE_TIMEOUT_S),
                           chain=chain, **credentials)
    return venue  # no I/O here: a halt must always get a client (the clock is checked by the monitor and the gate)


def policy_for(spec: AgentSpec) -> Policy:
    if spec.policy == "openai":
        return build_policy(spec, api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL)
    if spec.policy == "anthropic":
        return build_policy(spec, api_key=settings.ANTHROPIC_API_KEY, base_url=settings.ANTHROPIC_BASE_URL)
    return build_policy(spec)


def db_kill_switch_reason() -> str | None:
    """The DB half of the kill switch; raising (DB down) makes the guard trip, by design."""
    from monitoring.models import HaltPending, KillSwitch

    # One query on the hot path (every step, every order): the row and "any halt parked by any host".
    row = (KillSwitch.objects.filter(pk=1).annotate(parked=Exists(HaltPending.objects.all()))
           .values("active", "reason", "parked").first())
    if row is None:
        return "kill-switch row missing"
    if row["active"]:
        return f"kill switch active: {row['reason']}"
    if row["parked"]:  # a halt on any host whose record has not landed yet
        return "a halt was asked for on another host and waits to be recorded: stopped until it lands"
    return None


def monitor_missing_reason() -> str | None:
    """The monitor records a heartbeat (a system kill_switch_active sample) every pass; without a
    recent one nothing watches the flag file, the loss and drift shapes or the venue: stop."""
    if not settings.REQUIRE_MONITOR_HEARTBEAT:
        return None
    from monitoring.models import MetricSample

    last = (MetricSample.objects.filter(name="kill_switch_active", agent=None).order_by("-ts")
            .values_list("ts", flat=True).first())
    if last is None:
        return "the monitor has never run (manage.py monitor): no trading without the watcher"
    age = (timezone.now() - last).total_seconds()
    if age > settings.MONITOR_STALE_S:
        return f"the monitor's last heartbeat is {age:.0f} s old (limit {settings.MONITOR_STALE_S} s): is it running?"
    return None


COVER_POLL_S = 0.05  # how often a run's end (or an approved placement) looks for the beat that covers its orders


def cover_account() -> str:
    """The venue account this process's orders go to, as the monitor's beats name it (a fingerprint)."""
    return account_fingerprint(*venue_identity())


def venue_identity() -> tuple[str, str]:
    """(venue URL, account key) that name this deployment's venue account in cover fingerprints: the paper
    venue's URL and API key, or on Limitless its API URL and the trading wallet's address."""
    if settings.VENUE == "limitless":
        from eth_account import Account

        return settings.LIMITLESS_API_URL, Account.from_key(settings.LIMITLESS_PRIVATE_KEY).address.lower()
    return settings.VENUE_URL, settings.VENUE_API_KEY


def account_fingerprint(venue_url: str | None = None, api_key: str | None = None) -> str:
    """Which venue account a cover is for: a short sha256 of (venue URL, API key), never the key.

    The monitor writes it on its beats and the loops ask for their own: a session for another key or
    another venue cancels nothing of theirs."""
    default_url, default_key = venue_identity() if venue_url is None or api_key is None else ("", "")
    url = (venue_url if venue_url is not None else default_url).rstrip("/")
    key = api_key if api_key is not None else default_key
    return hashlib.sha256(f"{url}\n{key}".encode()).hexdigest()[:16]


def cover_missing_reason() -> str | None:
    """No order without a dead-man's cover: a monitor of this venue account must have confirmed, within
    DEADMAN_COVER_STALE_S by the database's clock, that its cancel-on-disconnect session is open; an
    order sent without one would rest through a dead control plane (issue 12)."""
    if not settings.REQUIRE_DEADMAN_COVER:
        return None
    from monitoring.models import CoverBeat

    fresh = db_clock(-timedelta(seconds=float(settings.DEADMAN_COVER_STALE_S)))  # beats are written with it too
    if CoverBeat.objects.filter(account=cover_account(), armed=True, confirmed_at__gte=fresh).exists():
        return None
    if settings.VENUE == "limitless":
        monitor_lost_watchdog()
        return (f"no dead-man's cover: no monitor of this Limitless account confirmed its venue stream in the last "
                f"{settings.DEADMAN_COVER_STALE_S} s (is manage.py monitor running, with the same LIMITLESS_* "
                f"settings, and connected to the stream?)")
    return (f"no dead-man's cover: no monitor of this venue account (VENUE_URL, VENUE_API_KEY) confirmed its "
            f"cancel-on-disconnect session in the last {settings.DEADMAN_COVER_STALE_S} s (is manage.py monitor "
            f"running, with the same venue settings, and connected to the venue?)")


def monitor_lost_watchdog() -> bool:
    """The other half of the dead-man's switch on Limitless, which cancels nothing by itself: the monitor
    halts when its stream is lost (monitoring/deadman.py), but a monitor that died halts nothing. So a loop
    that finds this account's cover beats stopped for DEADMAN_WATCHDOG_S (the last one armed: orders may
    have gone under it) while our orders may rest halts through the one halt path, which cancels them.
    True when it halted. A question it cannot answer (the database) halts too: fail closed."""
    from monitoring.halt import halt
    from monitoring.models import CoverBeat, HaltSource

    try:
        beats = CoverBeat.objects.filter(account=cover_account())
        last = beats.order_by("-confirmed_at").first()
        if last is None or last.armed_at is None:
            return False  # never covered: nothing was sent under a cover
        if beats.filter(confirmed_at__gte=db_clock(-timedelta(seconds=int(settings.DEADMAN_WATCHDOG_S)))).exists():
            return False  # a monitor still beats: it watches its stream and halts by itself
        if not Order.objects.filter(status__in=[OrderStatus.SENT, OrderStatus.LIVE]).exists():
            return False  # nothing of ours may rest
        why = f"the monitor's cover beats stopped at {last.confirmed_at:%H:%M:%S} UTC"
    except DatabaseError as exc:
        why = f"the monitor's cover beats cannot be read ({type(exc).__name__})"
    log.critical("dead-man's watchdog: %s with our orders possibly resting; halting", why)
    halt(reason=f"dead-man's watchdog: {why} (Limitless has no cancel-on-disconnect: everything resting "
                f"is cancelled)", source=HaltSource.DEADMAN)
    return True


def cover_confirmed_after(sent_at: float) -> bool:
    """True once a monitor of this account confirmed its session armed after `sent_at` (this process's
    time.monotonic(), taken once the orders had reached the venue): the session was alive after the
    orders were, so the venue's cancel-on-disconnect takes them if it dies.

    The database's clock now, less the time elapsed here since `sent_at`, is no earlier than
    `sent_at` on that clock (the query reaches the database after the elapsed time is measured)."""
    from monitoring.models import CoverBeat

    since = db_clock(-timedelta(seconds=time.monotonic() - sent_at))
    return CoverBeat.objects.filter(account=cover_account(), armed_at__gt=since).exists()


def _cover_wait(sent_at: float) -> bool:
    """Wait (poll) for the beat that covers orders sent by `sent_at`: the monitor beats every
    DEADMAN_COVER_BEAT_S, and
    a cover older than DEADMAN_COVER_STALE_S has lapsed anyway. A check that fails counts as no cover."""
    deadline = sent_at + float(settings.DEADMAN_COVER_STALE_S) + 1.0
    while True:
        try:
            if cover_confirmed_after(sent_at):
                return True
        except DatabaseError:
            log.warning("the dead-man's cover could not be read; counting it as absent", exc_info=True)
        if time.monotonic() >= deadline:
            return False
        time.sleep(COVER_POLL_S)


def _cancel_uncovered(agent: AgentConfig, venue: VenuePort | None, run: Run) -> None:
    """At a run's end: what the run sent (and what the crashed runs it recovered left, which no run's end
    ever checked) counts as covered only once a beat armed after now; else cancel it.

    A crashed run's orders are judged here once, by the run that recovered it: once confirmed they are
    covered like any other, and a later run's end (maybe behind a late beat) must not cancel them. With
    nothing resting among them, nothing waits for a beat."""
    runs = [run.pk, *_recovered_by(run), *_crashed_runs(agent, recent_only=cover_missing_reason() is None)]
    sent_orders_cover(agent=agent, venue=venue, orders=Order.objects.filter(run_id__in=runs))


CRASHED_RECENT = timedelta(minutes=10)


def _crashed_runs(agent: AgentConfig, *, recent_only: bool) -> list[int]:
    """Crashed runs whose resting orders this run's end judges too, when no recovery judged them (the next
    run was on another host, whose state file never heard of them): those of the last CRASHED_RECENT, or
    all when no live session covers anything now. A recovered one was judged by its recovering run."""
    crashed = Run.objects.filter(agent=agent, status=RunStatus.ERROR, end_reason__startswith="crashed")
    if recent_only:
        crashed = crashed.filter(ended_at__gte=db_clock(-CRASHED_RECENT))
    judged = {pk for data in TraceEvent.objects.filter(agent=agent, kind=TraceKind.RECOVERY).values_list(
        "data", flat=True) for pk in data.get("recovered_runs", []) if isinstance(pk, int)}
    return [pk for pk in crashed.values_list("pk", flat=True) if pk not in judged]  # a recovery judged those


def _recovered_by(run: Run) -> list[int]:
    """The crashed runs `run` recovered, as its RECOVERY trace event recorded them."""
    events = TraceEvent.objects.filter(run=run, kind=TraceKind.RECOVERY).values_list("data", flat=True)
    return [pk for data in events for pk in data.get("recovered_runs", []) if isinstance(pk, int)]


def sent_orders_cover(*, agent: AgentConfig, venue: VenuePort | None, orders: Any) -> list[str]:
    """Once orders were sent (a run's end, an approved placement): cancel those of them still resting that
    no monitor's session confirmed after their send (uncovered_orders_cancel). Never raises: a failure
    to cancel pages; return the venue ids cancelled."""
    if not settings.REQUIRE_DEADMAN_COVER:
        return []
    try:
        cancelled = uncovered_orders_cancel(agent=agent, venue=venue or venue_client(), orders=orders,
                                            sent_at=time.monotonic())
    except Exception as exc:
        log.exception("agent %s: uncovered orders not cancelled", agent.name)
        _page_uncovered(agent, exc)
        return []
    if cancelled:
        log.warning("agent %s: no dead-man's cover after its orders were sent; cancelled %d resting order(s)",
                    agent.name, len(cancelled))
    return cancelled


def _page_uncovered(agent: AgentConfig, exc: Exception) -> None:
    from monitoring.alerts import alert_fire

    try:
        alert_fire(key=f"uncovered_orders:{agent.pk}", title=f"agent {agent.name}: orders rest without a dead-man's "
                   f"cover and could not be cancelled: check the venue", details={"error": str(exc)[:500]})
    except Exception:  # the caller (a run's end, an approval's outcome) must go on: the log has it
        log.exception("agent %s: the uncovered-orders page failed too", agent.name)


def uncovered_orders_cancel(*, agent: AgentConfig, venue: VenuePort, orders: Any, sent_at: float) -> list[str]:
    """Cancel the agent's `orders` (a queryset of Order) still resting unless a monitor's session armed after
    `sent_at` (time.monotonic(), all of them sent by then); wait for that beat up to
    DEADMAN_COVER_STALE_S + 1 s. Orders outside `orders` (older ones, covered when they were checked)
    are never touched. Return the venue ids cancelled."""
    resting = orders.filter(agent=agent, status__in=[OrderStatus.SENT, OrderStatus.LIVE])
    if not resting.exists() or _cover_wait(sent_at):
        return []
    ids = _resting_venue_ids(list(resting), venue)
    if not ids:
        return []
    result = venue.cancel_batch(ids)
    Order.objects.filter(venue_order_id__in=result.canceled).update(status=OrderStatus.CANCELED)
    return list(result.canceled)


def _resting_venue_ids(orders: list[Order], venue: VenuePort) -> list[str]:
    """Venue ids to cancel; an order whose placement never answered has none yet: ask the venue by its
    client order id (it may rest there all the same)."""
    ids = [o.venue_order_id for o in orders if o.venue_order_id]
    for o in orders:
        if not o.venue_order_id and (found := venue.order_by_client_id(o.client_order_id)) is not None:
            order_sync(found)
            if found.status == VenueOrderStatus.LIVE:
                ids.append(found.id)
    return ids


def stop_check(lease: Lease | None = None, agent: str = "") -> StopCheck:
    """The loop's guard: flag file, halt slot, override file, kill-switch row, the monitor's heartbeat,
    its dead-man's cover, (when given) the agent lease, and the desk override.

    Every database part is read in one query (`GuardQuery`), a round trip instead of five at every step
    and before every order; when any part is not in order, the function that owns it says why (and on
    Limitless a stopped cover runs the watchdog), as it did alone."""
    fresh: dict[str, Any] = {}
    query: list[GuardQuery] = []

    def db_state() -> str | None:
        if not query:
            query.append(GuardQuery(lease))
        row = query[0].read()
        fresh["override"] = row["override"]
        if row["active"] is None or row["active"] or row["parked"]:
            return db_kill_switch_reason() or "kill-switch row changed while read: stopped"
        if settings.REQUIRE_MONITOR_HEARTBEAT and not row["heartbeat"]:
            return monitor_missing_reason() or "the monitor's heartbeat was stale: stopped"
        if settings.REQUIRE_DEADMAN_COVER and not row["covered"]:
            return cover_missing_reason() or "the dead-man's cover was stale: stopped"
        if lease is not None and not row["leased"]:
            return lease_lost(lease) or f"agent lease #{lease.token} was not held: stopped"
        return None

    def desk_override() -> Override:
        text = fresh.pop("override", _UNREAD)  # read by db_state in the same check
        if text is _UNREAD:
            return desk_override_current()
        return NO_OVERRIDE if text is None else override_from_text(text, "desk override")

    return guards_for_data_dir(settings.DATA_DIR, db_state=db_state, desk_override=desk_override, agent=agent)


_UNREAD = object()
GUARD_COLUMNS = ("active", "parked", "heartbeat", "covered", "leased", "override")


class GuardQuery:
    """The database half of the stop check in one query: the kill-switch row and any parked halt, whether
    the monitor's heartbeat and this account's dead-man's cover are fresh and whether we hold the lease
    (all by the database's clock), and the desk override's text.

    Its parameters never change within a run (every time is the database's own now), so the ORM compiles
    it once, here; each check only executes it (issue 15: compiling five subqueries at every check was a
    fifth of a run's CPU)."""

    def __init__(self, lease: Lease | None) -> None:
        from monitoring.models import CoverBeat, HaltPending, KillSwitch, MetricSample

        heartbeat = MetricSample.objects.filter(
            name="kill_switch_active", agent=None, ts__gte=db_clock(-timedelta(seconds=settings.MONITOR_STALE_S)))
        cover = CoverBeat.objects.filter(account=cover_account(), armed=True, confirmed_at__gte=db_clock(
            -timedelta(seconds=float(settings.DEADMAN_COVER_STALE_S))))
        held = (AgentLease.objects.filter(agent_id=lease.agent_id, holder=lease.holder, token=lease.token,
                                          expires_at__gt=db_clock()) if lease is not None
                else AgentLease.objects.filter(pk__in=[]))
        newest = DeskOverride.objects.order_by("-id").values("text")[:1]
        query = (KillSwitch.objects.filter(pk=1).order_by()
                 .annotate(parked=Exists(HaltPending.objects.all()), heartbeat=Exists(heartbeat),
                           covered=Exists(cover), leased=Exists(held), override=Subquery(newest))
                 .values(*GUARD_COLUMNS))
        self.sql, self.params = query.query.sql_with_params()

    def read(self) -> dict[str, Any]:
        """One row; no kill-switch row reads as active None (the check then stops and says why)."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            row = cursor.fetchone()
        if row is None:
            return dict.fromkeys(GUARD_COLUMNS, None) | {"active": None}
        flags = {name: bool(value) for name, value in zip(GUARD_COLUMNS[:5], row[:5], strict=True)}
        return flags | {"override": row[5]}


def loop_alert(message: str, details: Any) -> None:
    """The loop's alerts (runaway loop, hung tool, suspicious output) page through monitoring.

    Suspicious *model behaviour* (a secret in its output or tool arguments, repeated calls to refused
    tools, ordering on a market it was told is set aside) halts the desk, the halt first (recovery card:
    suspicious output -> halt, rotate keys). Suspicious *tool output* only pages: it is what a market
    says, and anyone can write a market description, so it must never be able to stop the desk (the
    loop sets that market aside instead)."""
    from monitoring.alerts import alert_fire, alert_key

    figures = {k: str(v) for k, v in dict(details).items()}
    try:
        if message == BEHAVIOUR:
            from monitoring.halt import halt

            halt(reason=f"suspicious model behaviour in run {figures.get('run_id')}: {figures.get('reason', '')}",
                 source="suspicious_output", figures=figures)
    finally:  # the halt first: a failing alert must never keep it from happening
        # One page per agent and market for what a market says (a flagged market read every run pages
        # once while it is firing); per run for the rest. A slug may be as long as the key itself.
        scope = figures.get("agent", "") if message == "suspicious tool output" else figures.get("run_id", "")
        alert_fire(key=alert_key(message, scope, figures.get("market", "")), title=message, details=figures)


class DbQuarantine:
    """Flagged markets kept in the database for QUARANTINE_S, per agent (the loop's Quarantine port)."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def markets(self) -> set[str]:
        return set(MarketQuarantine.objects.filter(agent=self.agent, until__gt=timezone.now())
                   .values_list("market", flat=True))

    def set_aside(self, market: str, *, run_id: str, fields: list[str], findings: list[str]) -> None:
        now = timezone.now()
        MarketQuarantine.objects.create(agent=self.agent, market=market[:MAX_MARKET], run_id=_run_pk(run_id),
                                        since=now, until=now + timedelta(seconds=settings.QUARANTINE_S),
                                        fields=fields[:20], findings=findings[:20])


# --- traces ---------------------------------------------------------------------------------


TRACE_BATCH_ROWS = 200  # rows in one transaction, at most
TRACE_BATCH_S = 0.5  # how long a row may wait for its batch (looked at on each append)
# A new step writes the rows before it once the oldest has waited this long: in a run, a step takes a
# model call, far longer; a burst of quick steps (a replay, a test) shares a transaction instead of
# paying one commit per step.
TRACE_STEP_S = 0.05
# Written at once with every row before them: what a person or another process acts on right after.
TRACE_AT_ONCE = frozenset(k.value for k in (TraceKind.RECOVERY, TraceKind.APPROVAL_REQUESTED,
                                            TraceKind.APPROVAL_DECIDED, TraceKind.ORDER_PLACED, TraceKind.RUN_END))


class TraceRow(NamedTuple):
    """A TraceEvent row still to be written; `data_json` is `data` as its file line holds it."""

    run_id: int
    agent_id: int
    seq: int
    ts: datetime
    kind: str
    step: int
    tool: str
    data: dict[str, Any]
    data_json: str

    def event(self) -> TraceEvent:
        """The row as a model instance, unsaved."""
        return TraceEvent(**dict(zip(_TRACE_COLUMNS, self, strict=False)))


_TRACE_COLUMNS = TraceRow._fields[:-1]


def trace_append(*, run: Run, writer: TraceWriter, kind: str, step: int, data: dict[str, Any]) -> TraceRow:
    """Append one trace event's redacted NDJSON line (the replay source) and return its row, unwritten:
    RunRecorder writes the rows in batches, and trace_backfill the ones a dead process never wrote.

    The row is built from the *same redacted dict* the file got (and its same JSON), so the two never differ.
    """
    return _trace_row(run, *writer.write_encoded(kind, step, data))


def _trace_row(run: Run, event: dict[str, Any], data_json: str | None = None) -> TraceRow:
    if isinstance(event["data"], dict):
        payload = event["data"]
    else:
        payload, data_json = {"value": event["data"]}, None
    return TraceRow(run.pk, run.agent_id, event["seq"], datetime.fromisoformat(event["ts"]), event["kind"],
                    event["step"], _tool_name(payload), payload, data_json or json.dumps(payload))


def trace_rows_write(rows: list[TraceRow]) -> None:
    """Write the rows in one transaction: PostgreSQL's COPY, or one INSERT the driver repeats.

    TraceEvent.objects.bulk_create writes the same rows at about five times the cost a row (a model
    instance, and each value of each row through the query compiler, `data` encoded once more); this
    adapts the two values that need it with the backend's own adapters, `data` as its line has it.
    COPY takes PostgreSQL half the work of as many INSERTs (bench/trace_ingest.py).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(_trace_copy_sql()) as copy:
                for row in rows:
                    copy.write_row((*row[:7], row.data_json))
            return
        ops = connection.ops
        cursor.executemany(_trace_insert_sql(connection.vendor), [
            (*row[:3], ops.adapt_datetimefield_value(row.ts), *row[4:7],
             ops.adapt_json_value(_Encoded(row.data_json), _AsEncoded)) for row in rows])


@dataclass(frozen=True)
class _Encoded:
    json: str


class _AsEncoded(json.JSONEncoder):
    """The encoder a backend's adapt_json_value is given: an _Encoded value is its own JSON already."""

    def encode(self, o: Any) -> str:
        return o.json if isinstance(o, _Encoded) else super().encode(o)


@cache
def _trace_insert_sql(vendor: str) -> str:
    return f"INSERT INTO {_trace_table()} VALUES ({', '.join(['%s'] * len(_TRACE_COLUMNS))})"


@cache
def _trace_copy_sql() -> str:
    return f"COPY {_trace_table()} FROM STDIN"


def _trace_table() -> str:
    """The table and its columns, in _TRACE_COLUMNS order."""
    meta, quote = TraceEvent._meta, connection.ops.quote_name
    return f"{quote(meta.db_table)} ({', '.join(quote(meta.get_field(name).column) for name in _TRACE_COLUMNS)})"


def _tool_name(data: dict[str, Any]) -> str:
    name = data.get("tool") or data.get("name") or ""
    return name[:64] if isinstance(name, str) else ""


class RunRecorder:
    """The loop's Recorder: each event's line is written at once (trace_append), its row in a batch.

    A batch is written in one transaction when the step changes (once its oldest row has waited
    TRACE_STEP_S), when TRACE_BATCH_ROWS wait, when the oldest has waited TRACE_BATCH_S, after a kind
    of TRACE_AT_ONCE or the call of a tool with side effects, and at close(). A write that fails
    raises from append (the loop stops: fail closed, before an order) and keeps its rows for the next
    try. `batch_rows=1` writes each row as it comes.
    """

    def __init__(self, run: Run, writer: TraceWriter, *, batch_rows: int = TRACE_BATCH_ROWS,
                 batch_s: float = TRACE_BATCH_S, step_s: float = TRACE_STEP_S) -> None:
        self.run, self.writer = run, writer
        self.batch_rows, self.batch_s, self.step_s = batch_rows, batch_s, step_s
        self._rows: list[TraceRow] = []
        self.kept: otel.RunEvents | None = None  # each event slimmed, when the run is exported (agents.otel)
        self._oldest = 0.0  # when the first waiting row came, on the writer's monotonic clock
        self._lock = threading.Lock()  # a timed-out tool thread may append late, from its own thread

    def append(self, kind: str, step: int, data: dict[str, Any]) -> None:
        with self._lock:
            now = self.writer.clock.monotonic()
            if self._rows and self._rows[-1].step != step and now - self._oldest >= self.step_s:
                self._write()  # one transaction per step
            row = trace_append(run=self.run, writer=self.writer, kind=str(kind), step=step, data=data)
            if self.kept is not None:
                self.kept.keep(row)
            if not self._rows:
                self._oldest = now
            self._rows.append(row)
            if (len(self._rows) >= self.batch_rows or row.kind in TRACE_AT_ONCE or now - self._oldest >= self.batch_s
                    or (row.kind == TraceKind.TOOL_CALL and row.tool in SIDE_EFFECT_TOOLS)):
                self._write()  # before an order or a cancel: a database that takes no rows stops the run first

    def flush(self) -> None:
        """Write the waiting rows now; a DatabaseError keeps them for the next try."""
        with self._lock:
            self._write()

    def close(self) -> None:
        """Write the waiting rows, then make the file durable and close it (the file even when the rows fail)."""
        try:
            self.flush()
        finally:
            self.writer.close()

    def _write(self) -> None:
        if self._rows:
            trace_rows_write(self._rows)
            self._rows = []


def trace_backfill(run: Run) -> int:
    """Write the rows that `run`'s trace file holds and the database lacks; return how many.

    Rows are written in order, so the missing ones are those after the last row: the rows a killed
    process still held, or whose last write failed. A line that does not parse (a torn last line) is
    skipped and logged; a row someone wrote meanwhile is kept as it is.
    """
    last = TraceEvent.objects.filter(run=run).order_by("-seq").values_list("seq", flat=True).first()
    events = [e for e in _trace_file_events(run) if last is None or e["seq"] > last]
    rows = [_trace_row(run, e).event() for e in events]
    if rows:
        with transaction.atomic():
            TraceEvent.objects.bulk_create(rows, batch_size=TRACE_BATCH_ROWS, ignore_conflicts=True)
        log.warning("run %s: %d trace rows written from its trace file %s", run.pk, len(rows), run.trace_path)
    return len(rows)


def trace_backfill_unended(agent: AgentConfig, state: AgentState) -> int:
    """Backfill the agent's last run when it has no run_end row (its last rows could not be written)."""
    last = Run.objects.filter(pk=int(state.last_run_id), agent=agent).first() if state.last_run_id.isdigit() else None
    if last is None or TraceEvent.objects.filter(run=last, kind=TraceKind.RUN_END).exists():
        return 0
    return trace_backfill(last)


def _trace_file_events(run: Run) -> list[dict[str, Any]]:
    """The events of the run's trace file, in file order; a line that does not parse is logged and skipped."""
    path = Path(run.trace_path) if run.trace_path else None
    try:
        lines = path.read_bytes().split(b"\n") if path is not None else []
    except FileNotFoundError:  # written on another host: that host's next run of the agent reads it
        log.info("run %s: no trace file %s on this host", run.pk, path)
        return []
    except OSError as exc:
        log.warning("run %s: trace file %s unreadable: %s", run.pk, path, exc)
        return []
    events = []
    for number, line in enumerate(lines, 1):
        event = _trace_line(line)
        if event is not None and event["run_id"] == str(run.pk):
            events.append(event)
        elif line.strip():
            log.warning("run %s: line %d of %s is no event of this run (torn by a crash?); skipped", run.pk, number,
                        path)
    return events


def _trace_line(line: bytes) -> dict[str, Any] | None:
    """One NDJSON line as an event, or None when it is not one (cut short, or not ours)."""
    try:
        event = json.loads(line)
        datetime.fromisoformat(event["ts"])
    except (ValueError, TypeError, KeyError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    fields = (event.get("seq"), event.get("step"), event.get("kind"), event.get("run_id"))
    types = (int, int, str, str)
    if not all(isinstance(v, t) for v, t in zip(fields, types, strict=True)) or "data" not in event:
        return None
    return event if event["seq"] >= 0 and event["kind"] in TraceKind.values else None


def _trace_close(recorder: RunRecorder | None) -> str:
    """Write a run's last rows and close its file; return why the rows could not be written, or ""."""
    if recorder is None:
        return ""
    try:
        recorder.close()
    except DatabaseError as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _trace_unwritten(run: Run, result: RunResult, why: str) -> None:
    """A run's last rows could not be written: its file has them (the agent's next run writes them, or
    trace_backfill). Count it among the run's errors, log it and page."""
    from monitoring.alerts import alert_fire

    why = redactor().text(why)
    log.error("run %s: its last trace rows could not be written (%s); its file %s has them", run.pk, why,
              run.trace_path)
    result.errors.append(f"trace rows not written: {why}")
    try:
        alert_fire(key=f"trace_rows:{run.pk}", title=f"run {run.pk}: trace rows not written: {why}",
                   details={"run": run.pk, "trace_path": run.trace_path, "error": why})
    except Exception:
        log.exception("could not page: run %s's trace rows not written", run.pk)


# --- one run --------------------------------------------------------------------------------


def run_agent(*, agent_id: int, venue: VenuePort | None = None, policy: Policy | None = None,
              clock: Clock | None = None, alert: Alert | None = None, started_by: Any = None,
              scheduled_for: datetime | None = None) -> Run | None:
    """Run one agent once, if enabled and not already running. Returns its Run row.

    1. take the agent's single-writer lock (a second run is skipped and recorded as such), then its
       lease, kept alive by a heartbeat until the run has ended;
    2. load its atomic state; recover first if a run of this agent never finished;
    3. run the bounded loop; 4. record counters on the Run row; 5. save state.
    """
    agent = AgentConfig.objects.get(pk=agent_id)
    if not agent.enabled:
        log.info("agent %s is disabled; not running", agent.name)
        return None
    lock = AgentLock(state_dir(), str(agent.pk))
    try:
        lock.acquire()
    except AlreadyRunning:
        log.warning("agent %s: another run holds the lock; this run is skipped", agent.name)
        return _skipped(agent, started_by)
    try:
        lease = lease_claim(agent, lock=lock)  # the flock covers this host; the lease covers every host
        if lease is None:
            log.warning("agent %s: %s holds the lease; this run is skipped", agent.name, lease_holder(agent))
            return _skipped(agent, started_by, f"another worker holds this agent's lease ({lease_holder(agent)})")
        try:
            with LeaseHeartbeat(lease, max_hold=lease_max_hold(agent)):  # until after _wait_for_abandoned
                return _run_locked(agent, lease, venue=venue, policy=policy, clock=clock or SystemClock(),
                                   alert=alert or loop_alert, started_by=started_by, scheduled_for=scheduled_for)
        finally:
            lease_release(lease)
    finally:
        lock.release()


def _skipped(agent: AgentConfig, started_by: Any, why: str = "another run of this agent holds the lock") -> Run:
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.create(agent=agent, started_by=started_by, status=RunStatus.SKIPPED, started_at=now,
                                 ended_at=now, end_reason=why)
        run_tally(run)
    return run


def _run_locked(agent: AgentConfig, lease: Lease, *, venue: VenuePort | None, policy: Policy | None, clock: Clock,
                alert: Alert, started_by: Any, scheduled_for: datetime | None = None) -> Run:
    state, corrupt = _load_state(agent)
    now = clock.now()
    run = Run.objects.create(agent=agent, started_by=started_by, started_at=now, model_version=agent.model_version,
                             scheduled_for=scheduled_for, worker=lease.holder, lease_token=lease.token)
    recorder: RunRecorder | None = None
    events = otel.events_for_run()  # before anything can fail: a run that fails at once is exported too
    try:
        recorder = RunRecorder(run, TraceWriter(traces_dir=traces_dir(), run_id=str(run.pk), clock=clock,
                                                redactor=redactor()))
        recorder.kept = events
        run.trace_path = str(recorder.writer.path)
        run.save(update_fields=["trace_path"])
        venue = JournaledVenue(venue or venue_client(), agent=agent, run=run)
        if state.needs_recovery or corrupt or lease.taken_from or _other_running(agent, run):
            recover(agent=agent, state=state, venue=venue, recorder=recorder, now=now, corrupt=corrupt,
                    lease=lease)
        else:
            reconcile_orders(agent=agent, venue=venue)  # fills since the last run: keep rows truthful
            trace_backfill_unended(agent, state)  # the last run's rows, when its last write failed
        state = mark_run_started(state_dir(), state, run_id=str(run.pk), at=now.isoformat())
        result = _loop(agent, run, lease, venue=venue, policy=policy, clock=clock, alert=alert, recorder=recorder)
        _wait_for_abandoned(run, result)
    except Exception as exc:
        error = redactor().text(f"{type(exc).__name__}: {exc}")
        log.error("agent %s run %s failed: %s", agent.name, run.pk, error)
        if recorder is not None:
            _safe_trace(recorder, TraceKind.ERROR, {"error": error})
        result = RunResult(run_id=str(run.pk), outcome="error", halt_reason=error)
    finally:
        unwritten = _trace_close(recorder)  # every row written before anything below reads one
    if unwritten:
        _trace_unwritten(run, result, unwritten)
    _cancel_uncovered(agent, venue, run)
    _finish(run, result, clock)
    try:
        mark_run_finished(state_dir(), state, outcome=result.outcome, at=clock.now().isoformat())
        _health_after(run, result)
    finally:
        otel.run_export(run, events)  # last, and even then: never raises, never waits
    return run


ABANDONED_WAIT_S = 60.0


def _wait_for_abandoned(run: Run, result: RunResult) -> None:
    """Hold the agent (lock and lease) until timed-out tool threads end, so a late order cannot land
    outside the run; past the bound, page: the thread's venue I/O timeouts should have ended it."""
    deadline = time.monotonic() + ABANDONED_WAIT_S
    for thread in result.abandoned:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in result.abandoned if t.is_alive()]
    if alive:
        from monitoring.alerts import alert_fire

        alert_fire(key=f"abandoned_tool:{run.pk}", title=f"run {run.pk}: tool threads still running {alive}",
                   details={"run": run.pk, "threads": alive})


def _health_after(run: Run, result: RunResult) -> None:
    """Record the run's metrics and page on its thresholds; a failure here is itself an alert."""
    from monitoring.alerts import alert_fire
    from monitoring.health import after_run

    latencies = list(result.model_latencies_ms) + [ms for v in result.tool_latencies_ms.values() for ms in v]
    try:
        after_run(run, latencies)
    except Exception as exc:
        log.exception("health evaluation after run %s failed", run.pk)
        alert_fire(key="health_after_run", title=f"health evaluation failed after run {run.pk}: {exc}")


def _load_state(agent: AgentConfig) -> tuple[AgentState, bool]:
    try:
        return load_state(state_dir(), str(agent.pk)), False
    except StateCorrupt:
        log.error("agent %s: state file unreadable; recovering as after a crash", agent.name)
        return AgentState(agent_id=str(agent.pk)), True


def order_key(run: Run) -> str:
    """What client order ids are derived from: the run id alone would repeat when a database is
    recreated (ids restart) while the venue remembers the old ids; the run's start time does not."""
    return f"{run.pk}-{int(run.started_at.timestamp() * 1_000_000)}"


def order_desk(agent: AgentConfig, run: Run, *, venue: VenuePort, recorder: RunRecorder, clock: Clock,
               lease: Lease | None = None) -> OrderDesk:
    """Everything place_order_safe needs for this agent and run (the loop and approved orders share it)."""

    def approvals(draft: ApprovalDraft) -> str:
        return str(approval_request_create(agent=agent, run=run, draft=draft).pk)

    return OrderDesk(spec=agent_spec(agent), run_id=order_key(run), venue=venue,
                     stop_check=stop_check(lease, agent.name), exposure=lambda: db_exposure(agent, venue, clock),
                     approvals=approvals, recorder=recorder,
                     clock=clock)


def open_run_recorder(run: Run, clock: Clock | None = None) -> RunRecorder:
    """Reopen a finished run's trace to append to it (file and rows continue its sequence).

    The caller holds the agent's lock and lease (no run of it writes meanwhile). The rows catch up with
    the file first (a crashed run's last rows may be there only); each new row is written as it comes.
    """
    trace_backfill(run)
    last = TraceEvent.objects.filter(run=run).order_by("-seq").values_list("seq", flat=True).first()
    writer = TraceWriter(traces_dir=traces_dir(), run_id=str(run.pk), clock=clock or SystemClock(),
                         redactor=redactor(), reopen=Path(run.trace_path) if run.trace_path else None,
                         start_seq=0 if last is None else last + 1)
    return RunRecorder(run, writer, batch_rows=1)


def _loop(agent: AgentConfig, run: Run, lease: Lease, *, venue: VenuePort, policy: Policy | None, clock: Clock,
          alert: Alert, recorder: RunRecorder) -> RunResult:
    desk = order_desk(agent, run, venue=venue, recorder=recorder, clock=clock, lease=lease)
    spec, guard = desk.spec, desk.stop_check
    built = policy_for(spec) if policy is None else None
    try:
        return run_loop(run_id=str(run.pk), spec=spec, policy=policy or built,
                        toolbox=ThreadSafeToolbox(build_toolbox(spec=spec, desk=desk)), stop_check=guard,
                        recorder=recorder, clock=clock, alert=alert, prices=price_table(),
                        redactor=recorder.writer.redactor, system_prompt=agent.system_prompt or _default_system(),
                        task=_task(agent), quarantine=DbQuarantine(agent),
                        refused_before=refused_calls_recent(agent, now=clock.now()))
    finally:
        _policy_close(built)


def _policy_close(policy: Policy | None) -> None:
    """Close the provider client a run built (its keep-alive socket and the SDK client's reference cycle
    would otherwise outlive the run until the garbage collector's next pass); a failure here is logged."""
    close = getattr(policy, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:
        log.exception("closing the run's model client failed")


def refused_calls_recent(agent: AgentConfig, *, now: datetime) -> int:
    """The agent's calls to tools it was not offered over the last REFUSED_CALLS_WINDOW_S, since the
    desk last resumed (a human who resumed has seen them): each is a `refusal` trace row marked
    refused_tool. The loop adds this run's: a model that tries once per run still adds up to a halt.
    A database error raises (the run does not start: fail closed)."""
    from monitoring.models import HaltEvent

    since = now - timedelta(seconds=settings.REFUSED_CALLS_WINDOW_S)
    resumed = (HaltEvent.objects.filter(action=HaltEvent.Action.RESUME, ts__gt=since)
               .values_list("ts", flat=True).first())  # newest first
    return TraceEvent.objects.filter(agent=agent, kind=TraceKind.REFUSAL, ts__gte=resumed or since,
                                     data__refused_tool=True).count()


class ThreadSafeToolbox:
    """The core runs each tool in a worker thread; Django opens a DB connection per thread.

    Close that thread's connections when the tool returns, so a long-running worker does not
    leak one connection per tool call (PostgreSQL would run out).
    """

    def __init__(self, inner: Toolbox) -> None:
        self.inner = inner
        self.owner = threading.current_thread()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.inner.run(*args, **kwargs)
        finally:
            if threading.current_thread() is not self.owner:
                connections.close_all()


def _default_system() -> str:
    from agents.core.loop import DEFAULT_SYSTEM

    return DEFAULT_SYSTEM


def _task(agent: AgentConfig) -> str:
    """The run's opening instruction, plus news of its approval requests (the agent sees outcomes)."""
    from agents.core.loop import DEFAULT_TASK

    briefing = approval_briefing(agent)
    return f"{DEFAULT_TASK}\n\n{briefing}" if briefing else DEFAULT_TASK


_OUTCOME_STATUS = {
    "completed": RunStatus.COMPLETED, "max_steps": RunStatus.MAX_STEPS, "budget_tokens": RunStatus.BUDGET_TOKENS,
    "budget_tool_calls": RunStatus.BUDGET_TOOL_CALLS, "budget_time": RunStatus.BUDGET_TIME,
    "budget_cost": RunStatus.BUDGET_COST, "kill_switch": RunStatus.KILL_SWITCH, "paused": RunStatus.PAUSED,
    "error": RunStatus.ERROR,
}


def _finish(run: Run, result: RunResult, clock: Clock) -> None:
    """Write the run's counters once, at its end."""
    run.status = _OUTCOME_STATUS[result.outcome]
    run.ended_at = clock.now()
    run.steps, run.tool_calls = result.steps, result.tool_calls
    run.tool_errors = result.timeouts + len([e for e in result.errors if "timed out" not in e])  # no failed page
    run.tokens_in, run.tokens_out = result.tokens_in, result.tokens_out
    run.cost = result.cost_usd.quantize(Decimal("0.000001"))
    run.model_latencies_ms = list(result.model_latencies_ms)
    run.errors = len(result.errors) + len(result.alert_failures)
    # Redacted like the trace: a model's final words or an error text can carry a key.
    run.end_reason = redactor().text((result.halt_reason or result.final_message)[:2000])
    with transaction.atomic():
        run.save()
        run_tally(run)


def run_tally(run: Run) -> None:
    """Count a run that has just ended in its agent's tally (RunTally: /metrics reads these, not every run
    ever). In its own savepoint: a tally that fails is logged and never undoes the run's own record."""
    seconds = (run.ended_at - run.started_at).total_seconds() if run.ended_at else 0.0
    try:
        with transaction.atomic():
            _add(RunTally.objects.filter(agent_id=run.agent_id, status=run.status),
                 {"runs": F("runs") + 1, "seconds": F("seconds") + seconds},
                 lambda: RunTally(agent_id=run.agent_id, status=run.status, runs=1, seconds=seconds))
    except DatabaseError:
        log.exception("run %s: its tally for /metrics was not counted", run.pk)
    if run.cost:
        try:
            cost_tally(run.started_at, run.cost)
        except DatabaseError:  # the database is failing: the shapes that read it trip after their grace
            log.critical("run %s: its cost %s USD was not added to the day's spend: the cost cap under-counts it",
                         run.pk, run.cost, exc_info=True)


def cost_tally(started_at: datetime, usd: Decimal) -> None:
    """Add a run's inference cost to its start day's spend (DailyCost, what the cost-cap shape reads)."""
    day = started_at.astimezone(UTC).date()
    with transaction.atomic():
        _add(DailyCost.objects.filter(day=day), {"usd": F("usd") + usd}, lambda: DailyCost(day=day, usd=usd))


def _add(rows: Any, increments: dict[str, Any], first: Callable[[], Any]) -> None:
    """Increment the one row `rows` selects, or create it (`first()`); another process creating it at the
    same moment loses to the unique key and increments instead."""
    if rows.update(**increments):
        return
    try:
        with transaction.atomic():
            first().save(force_insert=True)
    except IntegrityError:
        rows.update(**increments)


def _safe_trace(recorder: RunRecorder, kind: str, data: dict[str, Any]) -> None:
    try:
        recorder.append(kind, 0, data)
    except (OSError, DatabaseError, ValueError):
        log.exception("could not trace %s", kind)


def db_exposure(agent: AgentConfig, venue: VenuePort, clock: Clock) -> ExposureSnapshot:
    """What the agent has on, for the hard limits, computed right before each order.

    Daily notional counts this agent's journaled orders since UTC midnight (write-ahead rows,
    so an order in flight counts; rejected ones don't). Exposure adds the account's positions
    at cost to the agent's orders still resting or unconfirmed. Any failure raises, and
    place_order_safe then refuses the order.
    """
    now = clock.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Order.objects.filter(agent=agent)
    counted = mine.filter(created_at__gte=midnight).exclude(status__in=[OrderStatus.REJECTED, OrderStatus.SIMULATED])
    daily = counted.aggregate(total=Sum("notional"))["total"] or Decimal(0)
    exposure: dict[str, Decimal] = {}
    for p in venue.positions():
        if p.shares > 0:
            exposure[p.market] = exposure.get(p.market, Decimal(0)) + p.shares * p.avg_price
    for o in mine.filter(status__in=[OrderStatus.SENT, OrderStatus.LIVE]):
        exposure[o.market] = exposure.get(o.market, Decimal(0)) + order_notional(o.side, o.price, o.size - o.filled)
    return ExposureSnapshot(daily_notional=daily, open_markets=frozenset(exposure), market_exposure=exposure,
                            as_of=now)


# --- recovery -------------------------------------------------------------------------------


def recover(*, agent: AgentConfig, state: AgentState, venue: VenuePort, recorder: RunRecorder, now: datetime,
            corrupt: bool, lease: Lease | None = None) -> dict[str, Any]:
    """After a crash: mark the crashed runs, reconcile unfinished orders with the venue, replay the
    last 60 s of trace. The caller holds the agent's lock and lease: no other run of it is alive.

    1. mark every run of this agent still `running` but this one as crashed (the state file names
       only the last run that got as far as mark_run_started; a kill before it leaves a row the
       file never heard of);
    2. ask the venue about every order of this agent we never saw finish (by client order id);
    3. read the last crashed run's trace for its last 60 s, so the new run (and a human) sees them.
    """
    marked = runs_mark_crashed(agent=agent, now=now, why="recovered by the next run",
                               keep=recorder.run.pk)
    last = Run.objects.filter(pk=int(state.last_run_id)).first() if state.last_run_id.isdigit() else None
    last = last or Run.objects.filter(pk__in=marked).order_by("-pk").first()
    recovered = _recovered_runs(agent, marked, last)
    backfilled = _backfill_runs({*recovered, *marked, *_own(agent, last)})  # rows they held when they died
    summary = {"crashed_run": state.last_run_id, "crashed_runs": marked,
               "recovered_runs": recovered, "trace_rows_backfilled": backfilled, "state_file_corrupt": corrupt,
               "lease_taken_from": lease.taken_from if lease else "",
               "orders": reconcile_orders(agent=agent, venue=venue),
               "replayed": replay_tail(last) if last else []}
    recorder.append(TraceKind.RECOVERY, 0, summary)
    return summary


def _backfill_runs(ids: set[int]) -> dict[str, int]:
    """trace_backfill each of these runs (the rows their dead process still held); return the rows
    written per run id, where there were some."""
    written = {str(run.pk): trace_backfill(run) for run in Run.objects.filter(pk__in=ids).order_by("pk")}
    return {pk: n for pk, n in written.items() if n}


def _own(agent: AgentConfig, run: Run | None) -> list[int]:
    """[run.pk] when it is a run of this agent (a state file can outlive the database that named its run)."""
    return [run.pk] if run is not None and run.agent_id == agent.pk else []


def _recovered_runs(agent: AgentConfig, marked: list[int], last: Run | None) -> list[int]:
    """The crashed runs this recovery takes over: those it marked, and the state file's last run when the
    monitor's sweep marked it first. Their orders were never judged by a run's end: this run's end does."""
    ids = set(marked)
    if last is not None and last.agent_id == agent.pk and last.status == RunStatus.ERROR:
        if last.end_reason.startswith("crashed"):
            ids.add(last.pk)
    return sorted(ids)


def _other_running(agent: AgentConfig, run: Run) -> bool:
    return Run.objects.filter(agent=agent, status=RunStatus.RUNNING).exclude(pk=run.pk).exists()


def runs_mark_crashed(*, agent: AgentConfig, now: datetime, why: str, keep: int | None = None) -> list[int]:
    """Record the agent's `running` rows (all but `keep`) as crashed; return their ids.

    Only for a caller that knows no run of the agent is alive: one holding its lock and lease.
    """
    rows = Run.objects.filter(agent=agent, status=RunStatus.RUNNING).exclude(pk=keep)
    return _mark_crashed(list(rows.values_list("pk", flat=True)), now, f"crashed: {why}")


def runs_sweep_crashed() -> int:
    """Housekeeping (the monitor): a run still `running` whose agent lease is free or expired has no
    live process behind it (a live run renews its lease every few seconds, and a lapsed lease is
    never renewed again): record it as crashed, so the panel never shows a dead run as running,
    even when no next run of the agent comes. Its orders wait for that next run's reconcile.

    Only runs that started before this sweep looked: a run that claims the lease meanwhile is
    never touched. Both comparisons use the database's clock (the lease's own): a monitor whose clock
    runs ahead must not see a renewed lease as lapsed.
    """
    held = AgentLease.objects.filter(agent=OuterRef("agent"), expires_at__gt=db_clock())
    stale = Run.objects.filter(status=RunStatus.RUNNING, started_at__lt=db_clock()).exclude(Exists(held))
    ids = list(stale.values_list("pk", flat=True)[:500])
    marked = _mark_crashed(ids, timezone.now(), "crashed: its process is gone (agent lease expired); found by "
                                                "the monitor")
    _backfill_runs(set(marked))  # from this host's files; a run of another host's: its next run there does it
    return len(marked)


def _mark_crashed(ids: list[int], now: datetime, reason: str) -> list[int]:
    """Compare-and-set each row running -> error (a run that ended meanwhile keeps its outcome), and
    tell the panels, as a run's own end does."""
    from monitoring.outbox import outbox_publish

    marked = []
    for pk in ids:
        with transaction.atomic():
            if Run.objects.filter(pk=pk, status=RunStatus.RUNNING).update(status=RunStatus.ERROR, ended_at=now,
                                                                          end_reason=reason):
                run = Run.objects.select_related("agent").get(pk=pk)
                run_tally(run)
                outbox_publish("run_end", {"run": pk, "agent": run.agent.name, "status": run.status,
                                           "cost": str(run.cost), "steps": run.steps, "at": now.isoformat()})
                marked.append(pk)
    return marked


def reconcile_orders(*, agent: AgentConfig, venue: VenuePort) -> dict[str, str]:
    """Bring every `sent`/`live` order of the agent in line with the venue; return cid -> status."""
    outcome: dict[str, str] = {}
    for order in Order.objects.filter(agent=agent, status__in=[OrderStatus.SENT, OrderStatus.LIVE]):
        found = venue.order_by_client_id(order.client_order_id)
        if found is None:
            Order.objects.filter(pk=order.pk).update(status=OrderStatus.REJECTED, reason="never reached the venue")
            outcome[order.client_order_id] = "never reached the venue"
        else:
            order_sync(found)
            outcome[order.client_order_id] = found.status.value
    return outcome


def replay_tail(run: Run, seconds: int = RECOVERY_REPLAY_S) -> list[dict[str, Any]]:
    """Return the events of the run's trace file from its last `seconds` (kind, step, tool)."""
    events = _trace_file_events(run)  # a torn last line is skipped, not a failed recovery
    if not events:
        return []
    end = datetime.fromisoformat(events[-1]["ts"])
    cutoff = end - timedelta(seconds=seconds)
    return [{"seq": e["seq"], "kind": e["kind"], "step": e["step"], "ts": e["ts"]}
            for e in events if datetime.fromisoformat(e["ts"]) >= cutoff]


def _run_pk(run_id: str) -> int | None:
    return int(run_id) if run_id.isdigit() else None
