"""django-q tasks of the monitoring app. Thin: take ids, load rows, call one service.

Alert delivery (`alert_deliver`, `alert_deliveries_sweep`) is at-least-once: a retry after a
lost acknowledgement may page twice, never zero times (PagerDuty deduplicates by dedup_key).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from monitoring.models import AlertDelivery, DeliveryStatus

log = logging.getLogger("academy.alerts")

DELIVER_TASK = "monitoring.tasks.alert_deliver"
SCHEDULE_PREFIX = "alert_deliver:"  # retry schedules are named alert_deliver:<delivery id>:<attempt>:<ms>
SINK_FAILED_PREFIX = "sink_failed:"
SWEEP_BATCH = 500


# --- alert delivery ------------------------------------------------------------------------


def alert_deliver(delivery_id: int, attempt: int = 0) -> str:
    """Make one delivery attempt of one alert state change to one sink; return what happened.

    `attempt` is the number of attempts already made when this task was enqueued; a copy of
    the task whose number is stale (the sweep and a retry both fired) does nothing.

    1. load the delivery; already done, gone or stale -> nothing to do;
    2. a sink never carries the alert about its own failure; a resolve waits for its trigger;
    3. claim the attempt (compare-and-set attempts -> attempts + 1);
    4. call the sink;
    5. mark it sent, or keep the error and retry with backoff, or give up and page the other sinks.
    """
    delivery = AlertDelivery.objects.select_related("alert").filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    if delivery.status != DeliveryStatus.PENDING:
        return f"already {delivery.status}"
    if delivery.attempts != attempt:
        return f"stale: attempt {attempt} but {delivery.attempts} made"
    if delivery.alert.key == SINK_FAILED_PREFIX + delivery.sink:
        delivery.delete()  # it could only fail again, and retrying it would page about itself forever
        return "skipped: a sink does not carry its own failure alert"
    if _trigger_pending(delivery):
        _retry_later(delivery.pk, attempt, settings.ALERT_RETRY_BASE_S)
        return "waiting: the trigger to this sink is not delivered yet"
    if not _claim(delivery.pk, attempt):
        return "stale: another worker took this attempt"
    return _attempt(delivery, attempt + 1)


def _trigger_pending(delivery: AlertDelivery) -> bool:
    """A resolve sent before its trigger would reopen the incident at PagerDuty for good."""
    if delivery.event != "resolve":
        return False
    return AlertDelivery.objects.filter(alert_id=delivery.alert_id, sink=delivery.sink, event="trigger",
                                        status=DeliveryStatus.PENDING).exists()


def _claim(delivery_id: int, attempt: int) -> bool:
    return AlertDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt).update(
        attempts=attempt + 1) == 1


def _attempt(delivery: AlertDelivery, attempts: int) -> str:
    from monitoring.sinks import sink_for

    try:
        sink_for(delivery.sink).send(delivery.alert, delivery.event)
    except Exception as exc:  # any failure of any sink is a failed attempt, recorded, never raised
        return _failed(delivery, attempts, _describe(exc))
    AlertDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now())
    _sink_recovered(delivery.sink)
    return "sent"


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:2000]


def _failed(delivery: AlertDelivery, attempts: int, error: str) -> str:
    """Keep the error; retry with backoff, or after the last attempt give up and say so elsewhere."""
    log.warning("alert delivery %s to %s failed (attempt %s): %s", delivery.pk, delivery.sink, attempts, error)
    mine = AlertDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=attempts)
    if attempts < settings.ALERT_MAX_ATTEMPTS:
        mine.update(last_error=error)
        _retry_later(delivery.pk, attempts, retry_delay_s(attempts))
        return f"retry after attempt {attempts}: {error}"
    if mine.update(status=DeliveryStatus.FAILED, last_error=error):
        _page_sink_failure(delivery, attempts, error)
    return f"failed after {attempts} attempts: {error}"


def retry_delay_s(attempts: int) -> int:
    """Exponential backoff: base, 2x base, 4x base... (30 s base: about 15 min over 6 attempts)."""
    return settings.ALERT_RETRY_BASE_S * 2 ** (attempts - 1)


def _retry_later(delivery_id: int, attempt: int, delay_s: int) -> None:
    """A one-off django-q Schedule (deleted once run); if it cannot be written, the sweep finds the row."""
    from django_q.models import Schedule
    from django_q.tasks import schedule

    name = f"{SCHEDULE_PREFIX}{delivery_id}:{attempt}:{time.time_ns() // 1_000_000}"
    try:
        schedule(DELIVER_TASK, delivery_id, attempt, name=name, schedule_type=Schedule.ONCE,
                 next_run=timezone.now() + timedelta(seconds=delay_s))
    except Exception:  # the row stays pending: alert_deliveries_sweep re-enqueues it
        log.exception("could not schedule the retry of alert delivery %s", delivery_id)


def _page_sink_failure(delivery: AlertDelivery, attempts: int, error: str) -> None:
    """Make a dead sink visible: fire `sink_failed:<sink>`; alert_deliver keeps it off that sink."""
    from monitoring.alerts import alert_fire

    try:
        alert_fire(key=SINK_FAILED_PREFIX + delivery.sink, severity="critical",
                   title=f"Alert sink {delivery.sink!r} is failing: gave up after {attempts} attempts",
                   details={"sink": delivery.sink, "delivery_id": delivery.pk, "alert_key": delivery.alert.key,
                            "alert_title": delivery.alert.title, "event": delivery.event, "last_error": error})
    except DatabaseError:
        log.critical("alert sink %s failed and the sink_failed alert was not recorded: %s", delivery.sink, error)


def _sink_recovered(sink: str) -> None:
    """A delivery went through: resolve the sink's failure alert, if one is firing (one cheap query if not)."""
    from monitoring.alerts import alert_resolve

    try:
        alert_resolve(key=SINK_FAILED_PREFIX + sink, details={"recovered_at": timezone.now().isoformat()})
    except DatabaseError:
        log.exception("could not resolve the sink_failed alert of %s", sink)


def alert_deliveries_sweep(older_than_s: int | None = None) -> int:
    """Re-enqueue pending deliveries that nothing will run: the broker was down, a worker died.

    The re-run is a one-off Schedule due now, not a direct enqueue: it lives in the database
    while the broker is down, and while it waits the next sweep skips the delivery, so a
    frequent sweep does not pile up copies. A copy that slips through is harmless
    (alert_deliver's attempt number makes the second one a no-op). Returns the count.
    """
    age = settings.ALERT_SWEEP_AFTER_S if older_than_s is None else older_than_s
    cutoff = timezone.now() - timedelta(seconds=age)
    stuck = (AlertDelivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=cutoff)
             .exclude(pk__in=_scheduled_delivery_ids()).order_by("created_at", "id")
             .values_list("pk", "attempts")[:SWEEP_BATCH])
    count = 0
    for delivery_id, attempts in stuck:
        _retry_later(delivery_id, attempts, 0)
        count += 1
    return count


def _scheduled_delivery_ids() -> set[int]:
    from django_q.models import Schedule

    names = Schedule.objects.filter(name__startswith=SCHEDULE_PREFIX).values_list("name", flat=True)
    return {int(name.split(":")[1]) for name in names if name.split(":")[1].isdigit()}
