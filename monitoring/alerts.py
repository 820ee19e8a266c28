"""Alerts: one firing alert per key (deduplicated), each state change delivered to every sink.

`alert_fire()` and `alert_resolve()` only write rows; delivery happens in django-q tasks
(`monitoring.tasks.alert_deliver`) enqueued after commit, so a slow or failing sink never
blocks the caller (a halt above all). Sinks: `monitoring/sinks.py`, chosen by ALERT_SINKS.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
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
    """Fire an alert; while one with this key is firing, only bump its count (no new page)."""
    now = timezone.now()
    details = details or {}
    key = alert_key(key)  # a caller's key built from venue data must not fail the page (Alert.key is bounded)
    log.error("ALERT %s: %s %s", key, title, details)  # the log sink of last resort, synchronous
    with transaction.atomic():
        bumped = Alert.objects.filter(key=key, state=AlertState.FIRING).update(
            last_fired_at=now, fire_count=F("fire_count") + 1, details=details
        )
        if bumped:
            return Alert.objects.get(key=key, state=AlertState.FIRING)
        try:
            with transaction.atomic():
                alert = Alert.objects.create(key=key, title=title[:300], details=details, severity=severity,
                                             agent_id=agent_id, first_fired_at=now, last_fired_at=now)
        except IntegrityError:  # another process fired the same key a moment ago: dedup
            return Alert.objects.get(key=key, state=AlertState.FIRING)
        _deliver_on_commit(alert, "trigger")
        outbox_publish("alert", _panel(alert))
    return alert


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
