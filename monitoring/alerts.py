"""Alerts: one firing alert per key (deduplicated), each state change delivered to every sink.

`alert_fire()` and `alert_resolve()` (one key) and `alerts_apply()` (many at once: the monitor's
pass) only write rows; delivery happens in django-q tasks (`monitoring.tasks.alert_deliver`)
enqueued after commit, so a slow or failing sink never blocks the caller (a halt above all).
Sinks: `monitoring/sinks.py`, chosen by ALERT_SINKS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, JSONField, Value, When
from django.utils import timezone

from monitoring.models import Alert, AlertDelivery, AlertState
from monitoring.outbox import outbox_publish

log = logging.getLogger("academy.alerts")

KEY_MAX = Alert._meta.get_field("key").max_length  # 200
KEY_PART = 64  # a longer part (venue data: a market slug may be 200) is cut to its start and a digest


def alert_key(*parts: str) -> str:
    """The key of an alert about `parts`, joined by ':': as is while it fits Alert.key; otherwise each
    part longer than KEY_PART keeps its first characters and a digest of the whole part (distinct parts
    stay distinct, and a human still reads which market), and a key still too long is cut the same way."""
    key = ":".join(parts)
    if len(key) <= KEY_MAX:
        return key
    key = ":".join(_shortened(p, KEY_PART) for p in parts)
    return key if len(key) <= KEY_MAX else _shortened(key, KEY_MAX)


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[:limit - len(digest) - 1]}~{digest}"


def alert_fire(*, key: str, title: str, details: dict[str, Any] | None = None, severity: str = "critical",
               agent_id: int | None = None) -> Alert:
    """Fire an alert; while one with this key is firing, only bump its count (no new page, and the log
    says "still firing" instead of a second ALERT line)."""
    details = details or {}
    key = alert_key(key)  # a caller's key built from venue data must not fail the page (Alert.key is bounded)
    try:
        alert, new = _fire_one(key, title, details, severity, agent_id)
    except Exception:
        _log_page(key, title, details)  # the log sink of last resort, synchronous: the row could not be written
        raise
    if new:
        _log_page(key, title, details)
    else:
        log.info("alert %s still firing (%s times): %s", key, alert.fire_count, title)
    return alert


def _fire_one(key: str, title: str, details: dict[str, Any], severity: str,
              agent_id: int | None) -> tuple[Alert, bool]:
    now = timezone.now()
    with transaction.atomic():
        bumped = Alert.objects.filter(key=key, state=AlertState.FIRING).update(
            last_fired_at=now, fire_count=F("fire_count") + 1, details=details
        )
        if bumped:
            return Alert.objects.get(key=key, state=AlertState.FIRING), False
        try:
            with transaction.atomic():
                alert = Alert.objects.create(key=key, title=title[:300], details=details, severity=severity,
                                             agent_id=agent_id, first_fired_at=now, last_fired_at=now)
        except IntegrityError:  # another process fired the same key a moment ago: dedup
            return Alert.objects.get(key=key, state=AlertState.FIRING), False
        _deliver_on_commit(alert, "trigger")
        outbox_publish("alert", _panel(alert))
    return alert, True


def _log_page(key: str, title: str, details: Mapping[str, Any]) -> None:
    """The ALERT log line: once per page, in plain text (enum members as their values, not their reprs)."""
    log.error("ALERT %s: %s %s", key, title, json.dumps(details, default=str, ensure_ascii=False))


def alert_resolve(*, key: str, details: dict[str, Any] | None = None) -> Alert | None:
    """Resolve the firing alert with this key, if any (compare-and-set: one resolver wins)."""
    now = timezone.now()
    key = alert_key(key)
    with transaction.atomic():
        alert = Alert.objects.filter(key=key, state=AlertState.FIRING).first()
        if alert is None:
            return None
        changed = Alert.objects.filter(pk=alert.pk, state=AlertState.FIRING).update(
            state=AlertState.RESOLVED, resolved_at=now, details={**alert.details, **(details or {})}
        )
        if not changed:
            return None
        alert.refresh_from_db()
        _deliver_on_commit(alert, "resolve")
        outbox_publish("alert", _panel(alert))
    return alert


class Fire(NamedTuple):
    """What `alerts_apply` fires under one key (the arguments of `alert_fire`)."""

    title: str
    details: dict[str, Any]
    severity: str = "critical"
    agent_id: int | None = None


@dataclass
class Applied:
    """What `alerts_apply` changed: alerts fired anew, keys bumped, alerts resolved."""

    fired: list[Alert] = field(default_factory=list)
    bumped: list[str] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


def alerts_apply(*, fire: Mapping[str, Fire], resolve: Mapping[str, dict[str, Any]] | Iterable[str] = ()) -> Applied:
    """Fire and resolve many alerts at once, as `alert_fire` / `alert_resolve` would one by one, in a
    constant number of queries plus a few per state change (never a query per key):

    1. read the firing alerts among all the keys (one query; locked on PostgreSQL, and SQLite's
       IMMEDIATE transaction holds the write lock already, so nobody changes them until commit);
    2. bump the ones already firing: count and last_fired_at, details where they changed (one UPDATE);
    3. create the new ones, each delivered and published as `alert_fire` does (a key another process
       fired meanwhile is bumped instead: the firing-key constraint says so);
    4. resolve the firing ones among `resolve` (one UPDATE, still only rows in FIRING), merging each
       one's resolve details as `alert_resolve` does, then deliver and publish each.
    """
    now = timezone.now()
    fire = {alert_key(k): f for k, f in fire.items()}
    resolve = {alert_key(k): d for k, d in (resolve.items() if isinstance(resolve, Mapping)
                                            else ((k, {}) for k in resolve))}
    applied = Applied()
    if not fire and not resolve:
        return applied
    try:
        with transaction.atomic():
            firing = {a.key: a for a in Alert.objects.select_for_update().filter(
                state=AlertState.FIRING, key__in=[*fire, *resolve]).order_by("pk")}  # one lock order: no deadlock
            _bump([firing[k] for k in fire if k in firing], fire, now, applied)
            for key in [k for k in fire if k not in firing]:
                _fire_new(key, fire[key], now, applied)
            _resolve([firing[k] for k in resolve if k in firing and k not in fire], resolve, now, applied)
    except Exception:
        for key, f in fire.items():  # the log sink of last resort, synchronous: no row could be written
            _log_page(key, f.title, f.details)
        raise
    for alert in applied.fired:  # a bump is no new page: its line would repeat every pass
        _log_page(alert.key, alert.title, alert.details)
    return applied


def _bump(alerts: list[Alert], fire: Mapping[str, Fire], now: datetime, applied: Applied) -> None:
    if not alerts:
        return
    changed = {a.pk: fire[a.key].details for a in alerts if a.details != fire[a.key].details}
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(
        last_fired_at=now, fire_count=F("fire_count") + 1, details=_per_row(changed, "details"))
    applied.bumped += [a.key for a in alerts]


def _fire_new(key: str, f: Fire, now: datetime, applied: Applied) -> None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(key=key, title=f.title[:300], details=f.details, severity=f.severity,
                                         agent_id=f.agent_id, first_fired_at=now, last_fired_at=now)
    except IntegrityError:  # another process fired the same key a moment ago: dedup
        Alert.objects.filter(key=key, state=AlertState.FIRING).update(
            last_fired_at=now, fire_count=F("fire_count") + 1, details=f.details)
        applied.bumped.append(key)
        return
    _deliver_on_commit(alert, "trigger")
    outbox_publish("alert", _panel(alert))
    applied.fired.append(alert)


def _resolve(alerts: list[Alert], resolve: Mapping[str, dict[str, Any]], now: datetime, applied: Applied) -> None:
    if not alerts:
        return
    merged = {a.pk: {**a.details, **resolve[a.key]} for a in alerts}
    changed = Alert.objects.filter(pk__in=list(merged), state=AlertState.FIRING).update(
        state=AlertState.RESOLVED, resolved_at=now, details=_per_row(merged, "details"))
    if changed != len(alerts):  # cannot happen while the rows are locked; never deliver a resolve twice
        raise RuntimeError(f"resolved {changed} of {len(alerts)} locked alerts")
    for alert in alerts:
        alert.state, alert.resolved_at, alert.details = AlertState.RESOLVED, now, merged[alert.pk]
        _deliver_on_commit(alert, "resolve")
        outbox_publish("alert", _panel(alert))
    applied.resolved += alerts


def _per_row(values: Mapping[int, dict[str, Any]], column: str) -> Any:
    """A JSON column's new value per row id in one UPDATE; rows not listed keep theirs."""
    if not values:
        return F(column)
    return Case(*[When(pk=pk, then=Value(v, output_field=JSONField())) for pk, v in values.items()],
                default=F(column), output_field=JSONField())


def alert_deliver_direct(*, key: str, title: str, details: dict[str, Any]) -> list[threading.Thread]:
    """Page without the database (it could not take the alert row): every sink, each on a thread of its
    own so a slow one delays nobody; the threads are returned (a command joins them before it exits).
    Without the alert row there is no dedup: this process sends one key at most every DIRECT_REPEAT_S."""
    if time.monotonic() - _DIRECT_SENT.get(key, -DIRECT_REPEAT_S) < DIRECT_REPEAT_S:
        return []
    _DIRECT_SENT[key] = time.monotonic()
    now = timezone.now()
    alert = Alert(key=key, title=f"{title} [delivered without the database]"[:300], details=details,
                  severity="critical", first_fired_at=now, last_fired_at=now)
    threads = [threading.Thread(target=_send_direct, args=(name, alert), name=f"alert-direct-{name}", daemon=True)
               for name in settings.ALERT_SINKS]
    for thread in threads:
        thread.start()
    _DIRECT.extend(threads)
    return threads


_DIRECT: list[threading.Thread] = []
_DIRECT_SENT: dict[str, float] = {}
DIRECT_REPEAT_S = 300.0


def alert_direct_wait(timeout: float) -> bool:
    """Wait (bounded) for direct deliveries still on the way; True when all are done."""
    deadline = time.monotonic() + timeout
    for thread in list(_DIRECT):
        thread.join(max(0.0, deadline - time.monotonic()))
    _DIRECT[:] = [t for t in _DIRECT if t.is_alive()]
    return not _DIRECT


def _send_direct(name: str, alert: Alert) -> None:
    from monitoring.sinks import sink_for

    try:
        sink_for(name).send(alert, "trigger")
    except Exception:
        log.exception("direct alert delivery to %s failed (alert %s)", name, alert.key)


def _deliver_on_commit(alert: Alert, event: str) -> None:
    now = timezone.now()
    deliveries = [AlertDelivery.objects.create(alert=alert, sink=sink, event=event, created_at=now)
                  for sink in settings.ALERT_SINKS]
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))


def _enqueue(delivery_ids: list[int]) -> None:
    from django_q.tasks import async_task

    for delivery_id in delivery_ids:
        try:
            async_task("monitoring.tasks.alert_deliver", delivery_id, group="alerts")
        except Exception:  # the broker being down must not break the caller; the sweep retries
            log.exception("could not enqueue alert delivery %s", delivery_id)


def _panel(alert: Alert) -> dict[str, Any]:
    return {"id": alert.pk, "key": alert.key, "state": alert.state, "title": alert.title,
            "severity": alert.severity, "count": alert.fire_count, "at": alert.last_fired_at.isoformat()}
