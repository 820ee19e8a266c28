"""Trades that a human must approve before they are sent (defense layer 4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from academy.append_only import AppendOnlyManager

USDC = {"max_digits": 18, "decimal_places": 6}


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved, placing"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    PLACED = "placed", "Placed"
    REFUSED = "refused", "Approved but refused at placement"


class ApprovalRequest(models.Model):
    """One order a run wanted to send but that crossed a soft limit."""

    agent = models.ForeignKey("agents.AgentConfig", on_delete=models.PROTECT, related_name="approval_requests")
    run = models.ForeignKey("agents.Run", on_delete=models.PROTECT, related_name="approval_requests")
    step = models.PositiveIntegerField()
    # (run, step, call_index) derive client_order_id; kept so the approved order is placed with the same
    # id through place_order_safe. Null only on requests recorded before this field existed (never placed).
    call_index = models.PositiveIntegerField(null=True, blank=True)
    # Same id the order will carry, so an approved order is idempotent at the venue.
    client_order_id = models.CharField(max_length=128, unique=True)
    market = models.CharField(max_length=200)
    market_title = models.CharField(max_length=300, blank=True)
    market_type = models.CharField(max_length=64, blank=True)
    side = models.CharField(max_length=4)
    outcome = models.CharField(max_length=3, default="YES")
    price = models.DecimalField(max_digits=7, decimal_places=3)
    size = models.DecimalField(max_digits=18, decimal_places=3)
    notional = models.DecimalField(**USDC)
    reasons = models.JSONField(default=list, help_text="Why it needs approval: oversize, new_market_type.")
    model_reason = models.TextField(blank=True, help_text="What the model said, redacted.")
    required_approvals = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.TextField(blank=True, help_text="Placed, or refused and why.")
    reported_at = models.DateTimeField(null=True, blank=True, help_text="When the agent's next run was told.")
    placement_enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When placement was last handed to a worker (the retry sweep waits it out)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_trade", "Can approve or reject trades")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("requested_at")), name="approval_expiry_after"),
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1, required_approvals__lte=2), name="approval_one_or_two"
            ),
        ]
        indexes = [
            # The queue page: pending requests, newest first.
            models.Index(fields=["status", "-requested_at"], name="approval_queue"),
            # The agent's next run reads the outcomes of its own requests.
            models.Index(fields=["agent", "status"], name="approval_agent_status"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.size} {self.market} @ {self.price} ({self.status})"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class ApprovalDecision(models.Model):
    """One person's vote on one request. Append-only: the audit record of who decided what, when, and why."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="decisions")
    # PROTECT: a user who decided a trade cannot be deleted out of the audit trail (deactivate instead).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=7, choices=Decision.choices)
    note = models.TextField(blank=True)
    ts = models.DateTimeField()

    objects = AppendOnlyManager()

    class Meta:
        ordering = ["ts", "id"]
        constraints = [
            # One vote per person per request: the two-approver rule counts distinct people, and the
            # count of approvals for a request (approval_decide) is served by this index's prefix.
            models.UniqueConstraint(fields=["request", "actor"], name="approval_decision_one_per_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} of request {self.request_id} by {self.actor_id}"
