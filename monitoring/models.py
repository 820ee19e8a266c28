"""Metrics, the kill switch (one row), and the append-only record of halts and resumes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from academy.append_only import AppendOnlyManager, AppendOnlyModel


class MetricSample(models.Model):
    """One observation of one metric, per agent (or system-wide when agent is null)."""

    agent = models.ForeignKey(
        "agents.AgentConfig", null=True, blank=True, on_delete=models.CASCADE, related_name="metric_samples"
    )
    run = models.ForeignKey("agents.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=64)
    value = models.DecimalField(max_digits=24, decimal_places=8)
    ts = models.DateTimeField()

    class Meta:
        ordering = ["-ts", "-id"]
        indexes = [
            # Baselines and charts: one metric of one agent over a time window. The trailing id serves
            # latest_by_agent() and /metrics (ORDER BY ts DESC, id DESC LIMIT 1 per agent): a seek, no sort.
            models.Index(fields=["name", "agent", "-ts", "-id"], name="metric_name_agent_latest"),
            # Retention sweep and admin date filter.
            models.Index(fields=["ts"], name="metric_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class MetricBaseline(models.Model):
    """An agent's baseline of one metric as `monitoring.metrics.baseline()` last computed it (the rolling
    median): a run reads its agent's own, and the monitor and the panel read every agent's at once
    (`baselines_for()`) instead of a median over thousands of samples each."""

    name = models.CharField(max_length=64)
    agent = models.ForeignKey("agents.AgentConfig", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    value = models.DecimalField(max_digits=24, decimal_places=8, null=True, blank=True)  # None: no samples
    samples = models.PositiveIntegerField()  # below BASELINE_MIN_SAMPLES the cold-start value stands in
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One stored baseline per metric and agent: baseline() reads and upserts it, baselines_for() reads
            # a metric's rows by name. Two partial constraints: NULL agents are distinct in a plain one.
            models.UniqueConstraint(fields=["name", "agent"], condition=Q(agent__isnull=False),
                                    name="baseline_name_agent"),
            models.UniqueConstraint(fields=["name"], condition=Q(agent__isnull=True), name="baseline_name_system"),
        ]

    def __str__(self) -> str:
        return f"{self.name} baseline={self.value} ({self.samples} samples)"


class HaltSource(models.TextChoices):
    FILE_FLAG = "file_flag", "Flag file touched"
    PANEL = "panel", "Panel"
    ADMIN = "admin", "Admin action"
    COMMAND = "command", "Command line"
    CHAT = "chat", "Chat bot"
    DAILY_LOSS = "daily_loss", "Daily loss"
    COST_CAP = "cost_cap", "Inference cost cap"
    TOOL_ERROR_RATE = "tool_error_rate", "Tool error rate"
    CHAIN_DRIFT = "chain_drift", "Chain drift"
    SUSPICIOUS_OUTPUT = "suspicious_output", "Suspicious tool output"
    DEADMAN = "deadman", "Dead-man's watchdog"


_KILL_SWITCH_WRITER: ContextVar[bool] = ContextVar("kill_switch_writer", default=False)


@contextmanager
def kill_switch_writer() -> Iterator[None]:
    """The gate monitoring/halt.py opens around its writes; nothing else may open it."""
    token = _KILL_SWITCH_WRITER.set(True)
    try:
        yield
    finally:
        _KILL_SWITCH_WRITER.reset(token)


class KillSwitchWriteRefused(RuntimeError):
    """Code outside monitoring/halt.py tried to change the kill switch."""


class KillSwitchQuerySet(models.QuerySet):
    """Refuses every write unless halt.py opened the gate: the one halt path, enforced at run time."""

    def _gate(self) -> None:
        if not _KILL_SWITCH_WRITER.get():
            raise KillSwitchWriteRefused("only monitoring/halt.py changes the kill switch (halt() / resume())")

    def update(self, **kwargs: Any) -> int:
        self._gate()
        return super().update(**kwargs)

    def _update(self, values: Any) -> Any:  # instance.save() of an existing row
        self._gate()
        return super()._update(values)

    def _insert(self, *args: Any, **kwargs: Any) -> Any:  # instance.save() of a new row, create()
        self._gate()
        return super()._insert(*args, **kwargs)

    def delete(self) -> Any:
        self._gate()
        return super().delete()

    def create(self, **kwargs: Any) -> Any:
        self._gate()
        return super().create(**kwargs)

    def bulk_create(self, *args: Any, **kwargs: Any) -> Any:
        self._gate()
        return super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:
        self._gate()
        return super().bulk_update(*args, **kwargs)


class KillSwitch(models.Model):
    """The one kill-switch row. Only monitoring/halt.py writes it (its manager refuses anyone else)."""

    active = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=32, choices=HaltSource.choices, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True, help_text="No resume before this time.")
    needs_reconciliation = models.BooleanField(
        default=False, help_text="Chain-drift halt: resume only after reconciliation by hand."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = KillSwitchQuerySet.as_manager()

    class Meta:
        verbose_name = "kill switch"
        base_manager_name = "objects"  # instance.save() goes through the gated queryset too
        verbose_name_plural = "kill switch"
        permissions = [("toggle_kill_switch", "Can halt and resume trading")]
        constraints = [
            # Exactly one row: id 1. A second row would make "the" state ambiguous.
            models.CheckConstraint(condition=Q(id=1), name="killswitch_single_row"),
        ]

    def __str__(self) -> str:
        return "HALTED" if self.active else "running"


class HaltEvent(AppendOnlyModel):
    """Append-only: each halt and resume, who or what did it, why, and the figures."""

    class Action(models.TextChoices):
        HALT = "halt", "Halt"
        RESUME = "resume", "Resume"
        NOOP = "noop", "Repeated halt (already halted)"
        RECONCILE = "reconcile", "Chain reconciled by hand"
        REFUSED = "refused", "Resume refused"

    ts = models.DateTimeField()
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=32, choices=HaltSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="halt_events"
    )
    reason = models.TextField()
    figures = models.JSONField(default=dict, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    orders_cancelled = models.PositiveIntegerField(default=0)
    flattened = models.BooleanField(default=False)
    errors = models.JSONField(default=list, blank=True)

    objects = AppendOnlyManager()

    class Meta:
        base_manager_name = "objects"  # instance.save()/delete() refused too (append-only)
        ordering = ["-ts", "-id"]
        indexes = [
            # Panel feed and admin list: newest first.
            models.Index(fields=["-ts", "-id"], name="halt_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.source} at {self.ts:%Y-%m-%d %H:%M:%S}"


class HaltPending(models.Model):
    """A halt done at the venue whose record could not land at the time (the kill-switch row locked, say),
    parked where every host sees it: each host's stop check reads this table, and any monitor lands the
    request (monitoring/halt.py). Deleted in the very transaction that lands it. The halt slot is the
    halting host's own copy; this is the shared one."""

    request_id = models.CharField(max_length=64, unique=True)  # HaltRequest.id: lands once
    ts = models.DateTimeField()
    request = models.JSONField()  # the HaltRequest, as in the slot

    class Meta:
        verbose_name = "pending halt"
        verbose_name_plural = "pending halts"

    def __str__(self) -> str:
        return f"halt {self.request_id} waiting since {self.ts:%H:%M:%S}"


class AlertState(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """One condition that pages a human. Deduplicated by key while firing."""

    key = models.CharField(max_length=200, help_text="e.g. cost_per_run:agent-3 or halt")
    state = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.FIRING)
    severity = models.CharField(max_length=16, default="critical")
    title = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    agent = models.ForeignKey("agents.AgentConfig", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_fired_at = models.DateTimeField()
    last_fired_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    fire_count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-last_fired_at", "-id"]
        constraints = [
            # Deduplication: at most one firing alert per key (a second fire bumps the count).
            models.UniqueConstraint(fields=["key"], condition=Q(state="firing"), name="alert_one_firing_per_key"),
        ]
        indexes = [
            # Panel and /metrics: firing alerts, newest first.
            models.Index(fields=["state", "-last_fired_at"], name="alert_state_recent"),
        ]

    def __str__(self) -> str:
        return f"[{self.state}] {self.title}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class AlertDelivery(models.Model):
    """One notification of one alert state change to one sink; retried until sent or out of attempts."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    sink = models.CharField(max_length=32)  # log, email, webhook, slack, pagerduty
    event = models.CharField(max_length=10)  # trigger | resolve
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "alert deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            # Retry sweep and the "failing sinks" view: deliveries by status.
            models.Index(fields=["status", "created_at"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.sink} {self.event} {self.status}"


class OutboxEvent(AppendOnlyModel):
    """Append-only outbox: state changes for the live panels, written in the same transaction.

    Any process writes here; the web process tails it (by id) and fans out over the channel
    layer, and a reconnecting panel catches up from the last id it saw.
    """

    ts = models.DateTimeField()
    kind = models.CharField(max_length=32)  # kill_switch, halt, resume, alert, approval, run_end
    payload = models.JSONField(default=dict)

    objects = AppendOnlyManager()

    class Meta:
        base_manager_name = "objects"  # instance.save()/delete() refused too (append-only)
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.kind}"


class CoverBeat(models.Model):
    """The dead-man's cover as each monitor last confirmed it: its cancel-on-disconnect session for one
    venue account (`account`, a fingerprint of the venue URL and API key) is open (armed) as of
    `confirmed_at`. Both times come from the database's clock (Now()), so hosts' clocks never matter.

    No order is sent unless a beat of the agent's account is armed and recent (agents/services.py
    `cover_missing_reason`); an order sent counts as covered once `armed_at` is later than its send
    (the session was alive after the order reached the venue, so the venue cancels it if the session
    dies), and what no beat confirms in time is cancelled (`uncovered_orders_cancel`)."""

    host = models.CharField(max_length=200)  # one row per monitor host and account: updated in place
    account = models.CharField(max_length=16)  # agents.services.account_fingerprint(); never the key
    armed = models.BooleanField(default=False)  # the state of the last beat
    confirmed_at = models.DateTimeField()  # the last beat, armed or down
    armed_at = models.DateTimeField(null=True, blank=True)  # the last armed beat (kept through down beats)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "account"], name="coverbeat_host_account")]
        indexes = [
            # cover_missing_reason(): "WHERE account = fp AND armed AND confirmed_at >= now - stale" before
            # every order; cover_confirmed_since(): "WHERE account = fp AND armed_at >= sent"
            models.Index(fields=["account", "armed", "confirmed_at"], name="coverbeat_armed_ts"),
            models.Index(fields=["account", "armed_at"], name="coverbeat_account_armed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.host} ({self.account}): {'armed' if self.armed else 'DOWN'} at {self.confirmed_at:%H:%M:%S}"
