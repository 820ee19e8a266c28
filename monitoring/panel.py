"""The live panel's data: one state snapshot, and the outbox tailer that fans events out.

Design (docs/panel.md has the long version):

* Every state change a panel must see is an `OutboxEvent` row, written by whichever process made
  the change, in the same transaction (monitoring/outbox.py). Workers cannot reach a web
  process's in-memory channel layer; the database is the one thing every process shares.
* Each web process runs ONE tailer (an asyncio task, started by the first panel that connects,
  stopped when the last one leaves). It polls `id > cursor` every POLL_S and sends each batch,
  with a fresh snapshot, to a group whose name is unique to the process. Only that process's
  consumers join it, so with Redis and N web processes every panel still gets each event once
  (a shared group would deliver N copies: each process tails independently).
* A connecting panel sends ?last_id=N and gets every event after N from the table (catch-up),
  then the live ones. The consumer joins the group before it reads the catch-up, and the
  tailer's cursor is fixed before that read, so no event falls between the two.
* Channel layers forget group members after `group_expiry` (default 24 h), so the tailer re-adds
  its subscribers to the group every GROUP_REFRESH_S (at most a third of the layer's expiry).
* Pending approvals (market, side, size) are only for users who may see the approvals queue:
  `for_user()` strips them from every snapshot and event batch before it reaches anyone else.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from monitoring.models import Alert, AlertState, HaltSource, OutboxEvent

log = logging.getLogger("academy.panel")

POLL_S = 0.1  # a change reaches the panel in ~POLL_S/2 on average; 10 indexed reads a second per process
SNAPSHOT_EVERY_S = 5.0  # runs starting and metrics move without an outbox event: refresh anyway
GAP_GRACE_S = 5.0  # an id skipped by a not-yet-committed transaction (PostgreSQL) is re-read this long
MAX_GAP = 100
CATCHUP_MAX = 500
FEED_KINDS = ("halt", "resume", "kill_switch", "run_end", "override", "alert")
NOTABLE_KINDS = tuple(k for k in FEED_KINDS if k != "run_end")  # "halts and alerts" in the feed's filter
FEED_SIZE = 30  # of each: the newest halts and alerts, and the newest run ends (a fleet's run ends never
# push a halt out of the feed)
FEED_SCAN = 20_000  # the halts and alerts are looked for among the newest this many events (an id range)
GROUP_REFRESH_S = 300.0  # re-add subscribers to the group this often (capped at a third of group_expiry)
APPROVAL_KINDS = frozenset({"approval"})
BUDGET_STOPPED = {"budget_tokens", "budget_tool_calls", "budget_time", "budget_cost", "max_steps"}


# --- the snapshot (sync: call through database_sync_to_async from async code) -------------------


def snapshot() -> dict[str, Any]:
    """Describe everything the panel shows, as plain JSON (it travels over the channel layer).

    `last_id` is read FIRST and the feed is capped at it: the feed is then complete up to last_id,
    and an event committed meanwhile (id > last_id) comes with the next catch-up or live batch.
    Includes pending approvals: pass it through for_user() before showing it to anyone.
    """
    last_id = last_event_id()
    ks = kill_switch_snapshot()
    return {
        "kill_switch": ks,
        "override": override_snapshot(),
        "chatbot": chatbot_snapshot(),
        "agents": agents_snapshot(halted=ks["halted"]),
        "metrics": metrics_snapshot(),
        "alerts": alerts_snapshot(),
        "approvals": approvals_snapshot(),
        "feed": feed_snapshot(last_id),
        "last_id": last_id,
        "generated_at": timezone.now().isoformat(),
    }


def feed_snapshot(last_id: int) -> list[dict[str, Any]]:
    """The newest FEED_SIZE halts and alerts and the newest FEED_SIZE run ends up to last_id, oldest first.

    Two queries, so a thousand agents' run ends cannot bury a halt; each scans at most FEED_SCAN events by
    id (a halt older than that is history: the kill-switch box still shows the state)."""
    recent = OutboxEvent.objects.filter(id__lte=last_id).order_by("-id")
    notable = list(recent.filter(kind__in=NOTABLE_KINDS, id__gt=last_id - FEED_SCAN)[:FEED_SIZE])
    runs = list(recent.filter(kind="run_end", id__gt=last_id - FEED_SCAN)[:FEED_SIZE])
    return [event_json(e) for e in sorted(notable + runs, key=lambda e: e.pk)]


def activity_snapshot() -> dict[str, Any]:
    """The panel chart's history (monitoring/charts.py panel_activity) and the last event id it covers:
    panel.js adds the run ends and halts delivered after that id."""
    from monitoring.charts import panel_activity

    last_id = last_event_id()
    return {**panel_activity(timezone.now()), "last_id": last_id}


def kill_switch_snapshot() -> dict[str, Any]:
    from monitoring.halt import kill_switch_state

    state = kill_switch_state()
    return {
        "state": state["state"], "halted": state["halted"], "flag_file": state["flag_file"],
        "reason": state.get("reason") or "", "source": state.get("source") or "",
        "source_label": _source_label(state.get("source") or ""),
        "since": _iso(state.get("since")), "hold_until": _iso(state.get("hold_until")),
        "hold_in_force": bool(state.get("hold_until") and state["hold_until"] > timezone.now()),
        "needs_reconciliation": bool(state.get("needs_reconciliation")), "detail": state.get("detail") or "",
    }


def override_snapshot() -> dict[str, Any]:
    """The override as this host's agents will read it: the desk's (database) combined with this host's
    override.json (malformed stops them: say so)."""
    from agents.core.guards import OverrideError, combine, load_override
    from agents.overrides import desk_override_current

    try:
        override = combine(desk_override_current(), load_override(settings.DATA_DIR / "override.json"))
    except OverrideError as exc:
        return {"pause": True, "note": "", "error": str(exc)}
    return {"pause": override.pause, "note": override.note, "error": ""}


CHATBOT_STALE_S = 90  # no heartbeat for this long: the bot's process is down


def chatbot_snapshot() -> dict[str, Any]:
    """The chat bot's health (chatops/telegram.py keeps it): off (no token), ok, degraded (its API calls
    fail: since when, the last error, token-free), or down (no heartbeat: the process is not running)."""
    from chatops.models import ChatState

    if not settings.TELEGRAM_BOT_TOKEN:
        return {"state": "off"}
    row = ChatState.objects.filter(platform="telegram").first()
    now = timezone.now()
    if row is None or row.heartbeat_at is None or (now - row.heartbeat_at).total_seconds() > CHATBOT_STALE_S:
        return {"state": "down", "since": _iso(row.heartbeat_at if row else None),
                "error": "no heartbeat from manage.py chatbot: halts and pages wait for it"}
    if row.push_failing_since is not None:  # halts and pages wait: first
        return {"state": "degraded", "since": _iso(row.push_failing_since),
                "error": f"pushing halts and pages: {row.push_error}"}
    if row.failing_since is not None:
        return {"state": "degraded", "since": _iso(row.failing_since), "error": row.last_error}
    return {"state": "ok", "since": _iso(row.last_ok_at)}


def agents_snapshot(*, halted: bool) -> list[dict[str, Any]]:
    from agents.models import AgentConfig, Run

    agents = list(AgentConfig.objects.order_by("name").only("name", "enabled", "dry_run"))
    # Each agent's latest run in one query, whatever the number of agents: an index seek per agent
    # (run_agent_recent) inside the IN subquery, never a scan of the runs. Only the columns shown
    # are read: at a thousand agents, building full rows is most of the snapshot's time.
    newest = Run.objects.filter(agent=OuterRef("pk")).order_by("-started_at", "-id").values("id")[:1]
    latest_ids = AgentConfig.objects.order_by().values(run_id=Subquery(newest))
    runs = (Run.objects.filter(pk__in=latest_ids).order_by()  # keyed by agent below: no sort
            .only("agent", "status", "started_at", "ended_at", "cost", "end_reason"))
    latest = {run.agent_id: run for run in runs}
    return [_agent_json(a, latest.get(a.pk), halted) for a in agents]


def _agent_json(agent: Any, run: Any, halted: bool) -> dict[str, Any]:
    return {"id": agent.pk, "name": agent.name, "enabled": agent.enabled, "dry_run": agent.dry_run,
            "status": agent_status(halted=halted, last_status=run.status if run else None),
            "last_run": None if run is None else {
                "id": run.pk, "status": run.status, "status_label": run.get_status_display(),
                "started_at": _iso(run.started_at), "ended_at": _iso(run.ended_at), "cost": str(run.cost),
                "end_reason": run.end_reason[:300]}}


def agent_status(*, halted: bool, last_status: str | None) -> str:
    """idle | running | halted | budget-stopped: the kill switch first, then the latest run."""
    if halted:
        return "halted"
    if last_status == "running":
        return "running"
    if last_status in BUDGET_STOPPED:
        return "budget-stopped"
    return "idle"


def metrics_snapshot() -> list[dict[str, Any]]:
    """The six card metrics (monitoring/health.py), each with its unit (monitoring/charts.py); a failure shows
    as one breached card, never a dead panel."""
    from monitoring.charts import with_units
    from monitoring.health import panel_metrics

    try:
        return with_units(panel_metrics())
    except Exception as exc:  # the panel is how an operator notices trouble: keep it up
        log.exception("panel: metrics unavailable")
        return [{"name": "metrics", "label": "metrics unavailable", "agent": None, "value": None,
                 "threshold": f"{type(exc).__name__}: {exc}"[:200], "breached": True}]


def alerts_snapshot() -> list[dict[str, Any]]:
    rows = Alert.objects.filter(state=AlertState.FIRING).order_by("-last_fired_at")[:50]
    return [{"id": a.pk, "key": a.key, "title": a.title, "severity": a.severity, "fire_count": a.fire_count,
             "first_fired_at": _iso(a.first_fired_at), "last_fired_at": _iso(a.last_fired_at)} for a in rows]


def approvals_snapshot() -> list[dict[str, Any]]:
    from approvals.models import ApprovalRequest, ApprovalStatus

    rows = (ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).select_related("agent")
            .order_by("-requested_at")[:50])
    return [{"id": r.pk, "agent": r.agent.name, "side": r.side, "outcome": r.outcome, "size": str(r.size),
             "price": str(r.price), "notional": str(r.notional), "market": r.market, "run": r.run_id,
             "required_approvals": r.required_approvals, "reasons": r.reasons,
             "requested_at": _iso(r.requested_at), "expires_at": _iso(r.expires_at)} for r in rows]


def may_see_approvals(user: Any) -> bool:
    """The approvals queue's own rule (approvals/access.py): approvers and those who may view requests."""
    from approvals.access import may_view_approvals

    return may_view_approvals(user)


def for_user(snap: dict[str, Any] | None, *, approvals: bool) -> dict[str, Any] | None:
    """The snapshot as this user may see it: without `approvals` unless they may see the queue."""
    if snap is None or approvals:
        return snap
    return {k: v for k, v in snap.items() if k != "approvals"}


def events_for_user(events: list[dict[str, Any]], *, approvals: bool) -> list[dict[str, Any]]:
    """The events this user may see: approval events (market, side, size) only for the queue's users."""
    return events if approvals else [e for e in events if e["kind"] not in APPROVAL_KINDS]


def last_event_id() -> int:
    return OutboxEvent.objects.aggregate(m=Max("id"))["m"] or 0


def events_after(last_id: int, limit: int = CATCHUP_MAX) -> tuple[list[dict[str, Any]], bool]:
    """The events after `last_id`, oldest first; truncated=True when more than `limit` were missed."""
    rows = list(OutboxEvent.objects.filter(id__gt=last_id).order_by("-id")[: limit + 1])
    truncated = len(rows) > limit
    return [event_json(e) for e in reversed(rows[:limit])], truncated


def event_json(event: OutboxEvent) -> dict[str, Any]:
    return {"id": event.pk, "ts": _iso(event.ts), "kind": event.kind, "payload": _jsonable(event.payload)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _source_label(source: str) -> str:
    return str(HaltSource(source).label) if source in HaltSource.values else source


def _jsonable(value: Any) -> Any:
    # Payloads are JSONField values already; this only guards against a Decimal or date sneaking in.
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> str:
    if isinstance(value, Decimal | datetime | timedelta):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- the tailer (one per web process) -----------------------------------------------------------


class OutboxTailer:
    """Tail OutboxEvent by id and send each batch (with a snapshot) to this process's panel group."""

    def __init__(self) -> None:
        self.group = f"panel.{uuid.uuid4().hex}"  # unique per process: see the module docstring
        self.cursor = 0
        self.subscribers = 0
        self.members: set[str] = set()  # channel names in the group, re-added every GROUP_REFRESH_S
        self.task: asyncio.Task[None] | None = None
        self.gaps: dict[int, float] = {}  # id -> when first noticed missing
        self._snapshot_task: asyncio.Task[None] | None = None
        self._snapshot_dirty = False
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def subscribe(self, channel_name: str) -> None:
        """Join the group and make sure the tailer runs, its cursor fixed before this returns."""
        await get_channel_layer().group_add(self.group, channel_name)
        async with self._get_lock():
            self.subscribers += 1
            self.members.add(channel_name)
            if self.task is None or self.task.done():
                self.cursor = await database_sync_to_async(last_event_id)()
                self.gaps.clear()
                self.task = asyncio.get_running_loop().create_task(self._run(), name="panel-outbox-tailer")

    async def unsubscribe(self, channel_name: str) -> None:
        await get_channel_layer().group_discard(self.group, channel_name)
        async with self._get_lock():
            self.subscribers = max(0, self.subscribers - 1)
            self.members.discard(channel_name)

    def _get_lock(self) -> asyncio.Lock:
        # A lock belongs to one event loop; tests run several loops one after another.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self.task, self.subscribers = asyncio.Lock(), loop, None, 0
            self.members = set()
        return self._lock

    async def refresh_group(self) -> None:
        """Re-add every subscriber: the layer drops group members after group_expiry (24 h by default),
        and a panel open longer than that would silently stop receiving anything."""
        layer = get_channel_layer()
        for channel_name in list(self.members):
            await layer.group_add(self.group, channel_name)

    def refresh_every_s(self) -> float:
        expiry = float(getattr(get_channel_layer(), "group_expiry", 86400) or 86400)
        return max(0.1, min(GROUP_REFRESH_S, expiry / 3))

    async def _run(self) -> None:
        """Poll until the last panel leaves; a failing poll is logged and retried, never fatal."""
        last_snapshot = last_refresh = time.monotonic()
        flag = await _in_thread(_flag_present)()
        while self.subscribers > 0:
            try:
                if time.monotonic() - last_refresh >= self.refresh_every_s():
                    await self.refresh_group()
                    last_refresh = time.monotonic()
                flag, last_snapshot = await self._tick(flag, last_snapshot)
            except Exception:
                log.exception("panel: outbox poll failed; retrying")
                await asyncio.sleep(1.0)
            await asyncio.sleep(POLL_S)

    async def _tick(self, flag: bool, last_snapshot: float) -> tuple[bool, float]:
        """1. send new events at once; 2. refresh the snapshot in the background when anything changed.

        The snapshot takes several queries; the events are what the 1-second promise is about, so
        the poll never waits for it. A hand-touched flag file is a change too: it halts the loops
        before any outbox row exists.
        """
        events, flag_now = await _in_thread(self.poll)()
        if events:
            await self._send(events, None)
        if events or flag_now != flag or time.monotonic() - last_snapshot >= SNAPSHOT_EVERY_S:
            self._want_snapshot()
            last_snapshot = time.monotonic()
        return flag_now, last_snapshot

    def _want_snapshot(self) -> None:
        """Start the snapshot task, or mark it dirty so it runs once more: the last one sent is never stale."""
        self._snapshot_dirty = True
        if self._snapshot_task is None or self._snapshot_task.done():
            self._snapshot_task = asyncio.get_running_loop().create_task(self._snapshots())

    async def _snapshots(self) -> None:
        while self._snapshot_dirty:
            self._snapshot_dirty = False
            try:
                await self._send([], await _in_thread(snapshot)())
            except Exception:
                log.exception("panel: snapshot failed")

    async def _send(self, events: list[dict[str, Any]], snap: dict[str, Any] | None) -> None:
        await get_channel_layer().group_send(self.group, {"type": "panel.batch", "events": events, "snapshot": snap})

    def poll(self) -> tuple[list[dict[str, Any]], bool]:
        return self._new_events(), _flag_present()

    def _new_events(self) -> list[dict[str, Any]]:
        """Events after the cursor, plus any late commit filling a gap below it (ids commit out of order)."""
        now = time.monotonic()
        self.gaps = {i: t for i, t in self.gaps.items() if now - t < GAP_GRACE_S}
        query = OutboxEvent.objects.filter(id__gt=self.cursor)
        rows = list(query.order_by("id")[:CATCHUP_MAX])
        if self.gaps:
            rows = sorted(list(OutboxEvent.objects.filter(id__in=list(self.gaps))) + rows, key=lambda e: e.pk)
        for row in rows:
            self.gaps.pop(row.pk, None)
            if row.pk > self.cursor:
                if row.pk - self.cursor <= MAX_GAP:  # a sequence jump (e.g. after a crash) is no gap
                    self.gaps.update({i: now for i in range(self.cursor + 1, row.pk)})
                self.cursor = row.pk
        return [event_json(e) for e in rows]


def _in_thread(fn: Any) -> Any:
    # Not thread_sensitive: the poll must not queue behind snapshots or other ORM work of this
    # process, which all share the one thread-sensitive executor. Each call closes stale connections.
    return database_sync_to_async(fn, thread_sensitive=False)


def _flag_present() -> bool:
    """Shown as halted when the flag cannot be checked either (never as running)."""
    from monitoring.halt import flag_present

    try:
        return flag_present()
    except OSError:
        return True


tailer = OutboxTailer()
