"""Agents, their runs, the append-only trace, and the orders they sent."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from academy.append_only import AppendOnlyManager, AppendOnlyModel
from agents.core.tracing import EventKind

USDC = {"max_digits": 18, "decimal_places": 6}
POSITIVE = [MinValueValidator(Decimal("0"))]


class PolicyKind(models.TextChoices):
    RULES = "rules", "Rules (offline, deterministic)"
    OPENAI = "openai", "OpenAI-compatible chat completions"
    ANTHROPIC = "anthropic", "Anthropic Messages API"
    SCRIPTED = "scripted", "Scripted (tests, replay)"


def validate_frozen_model(value: str) -> None:
    """Refuse model aliases (`-latest`, bare family names): replay needs the same weights."""
    from agents.core.spec import check_model_frozen

    try:
        check_model_frozen(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def validate_tools(value: object) -> None:
    from agents.core.spec import TOOL_NAMES

    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ValidationError("allowed tools must be a list of tool names")
    unknown = sorted(set(value) - set(TOOL_NAMES))
    if unknown:
        raise ValidationError(f"unknown tools {unknown}; known tools are {list(TOOL_NAMES)}")


def default_tools() -> list[str]:
    from agents.core.spec import TOOL_NAMES

    return list(TOOL_NAMES)


class AgentConfig(models.Model):
    """One trading agent: who decides, what it may touch, and the limits written in code."""

    name = models.SlugField(max_length=64, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="agents"
    )
    policy_kind = models.CharField(max_length=16, choices=PolicyKind.choices, default=PolicyKind.RULES)
    model_version = models.CharField(
        max_length=128, default="rules-v1", validators=[validate_frozen_model],
        help_text="Frozen model version; aliases such as -latest are refused.",
    )
    temperature = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0"))
    seed = models.IntegerField(null=True, blank=True)
    system_prompt = models.TextField(blank=True)
    allowed_tools = models.JSONField(
        default=default_tools, validators=[validate_tools], help_text="Defense layer 3: the tool allowlist."
    )
    # Hard limits: enforced in code by place_order_safe whatever the model says.
    max_order_notional = models.DecimalField(**USDC, default=Decimal("25"), validators=POSITIVE)
    max_daily_notional = models.DecimalField(**USDC, default=Decimal("250"), validators=POSITIVE)
    max_open_positions = models.PositiveIntegerField(default=5)
    max_market_exposure = models.DecimalField(**USDC, default=Decimal("100"), validators=POSITIVE)
    # Soft limits: above these a human approves first (defense layer 4).
    approval_notional = models.DecimalField(**USDC, default=Decimal("10"), validators=POSITIVE)
    second_approval_notional = models.DecimalField(
        **USDC, default=Decimal("20"), validators=POSITIVE, help_text="Above this, two distinct approvers."
    )
    known_market_types = models.JSONField(default=list, blank=True)
    # Budgets per run.
    max_tokens = models.PositiveIntegerField(default=50_000)
    max_tool_calls = models.PositiveIntegerField(default=30)
    max_seconds = models.PositiveIntegerField(default=120)
    max_steps = models.PositiveSmallIntegerField(default=10)
    tool_timeout_s = models.PositiveSmallIntegerField(default=30)
    interval_s = models.PositiveIntegerField(default=60, help_text="Seconds between scheduled runs.")
    dry_run = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # The loop is bounded: a cap of 0 or hundreds of steps is a configuration error.
            models.CheckConstraint(condition=Q(max_steps__gte=1, max_steps__lte=100), name="agent_max_steps_1_100"),
            models.CheckConstraint(condition=Q(interval_s__gte=5), name="agent_interval_at_least_5s"),
            models.CheckConstraint(condition=Q(tool_timeout_s__gte=1), name="agent_tool_timeout_positive"),
            models.CheckConstraint(
                condition=Q(max_order_notional__gt=0, max_daily_notional__gt=0, max_market_exposure__gt=0),
                name="agent_hard_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(approval_notional__lte=models.F("second_approval_notional")),
                name="agent_approval_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    MAX_STEPS = "max_steps", "Stopped: max steps (runaway loop)"
    BUDGET_TOKENS = "budget_tokens", "Stopped: token budget"
    BUDGET_TOOL_CALLS = "budget_tool_calls", "Stopped: tool-call budget"
    BUDGET_TIME = "budget_time", "Stopped: wall-clock budget"
    BUDGET_COST = "budget_cost", "Stopped: cost budget"
    KILL_SWITCH = "kill_switch", "Stopped: kill switch"
    PAUSED = "paused", "Stopped: paused by override"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped (another run holds the lock)"


class Run(models.Model):
    """One bounded loop of one agent. Counters are written once, when the run ends."""

    agent = models.ForeignKey(AgentConfig, on_delete=models.PROTECT, related_name="runs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=128, blank=True)
    steps = models.PositiveIntegerField(default=0)
    tool_calls = models.PositiveIntegerField(default=0)
    tool_errors = models.PositiveIntegerField(default=0)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(**USDC, default=Decimal("0"))
    model_latencies_ms = models.JSONField(default=list, blank=True)
    errors = models.PositiveIntegerField(default=0)
    end_reason = models.TextField(blank=True)
    trace_path = models.CharField(max_length=500, blank=True)
    # The slot the dispatcher enqueued this run for (agents/dispatch.py); started_at - scheduled_for is
    # how late it started. Null for a run started by hand or by an approval.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # Which process ran it (host:pid:nonce, the lease holder) under which fencing token: after a loss,
    # which worker did what; per agent the tokens only grow, one run at a time.
    worker = models.CharField(max_length=200, blank=True)
    lease_token = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # Home page and agent page: an agent's latest runs.
            models.Index(fields=["agent", "-started_at"], name="run_agent_recent"),
            # Admin list filtered by status, newest first.
            models.Index(fields=["status", "-started_at"], name="run_status_recent"),
            # Admin default ordering and date filter.
            models.Index(fields=["-started_at", "-id"], name="run_recent"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.agent.name}"

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


# The event kinds are the core's (agents/core/tracing.py): one list, so a new kind needs no edit here.
TraceKind = models.TextChoices("TraceKind", [(k.name, k.value) for k in EventKind])


class TraceEvent(AppendOnlyModel):
    """One step of a run, already redacted. Append-only: never edited, never deleted by the app."""

    # No index of their own: trace_run_seq_unique and trace_agent_recent begin with them, and each
    # index is one more B-tree every trace row is written into (issue 15: trace ingest).
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="events", db_index=False)
    # Denormalised from run so the admin filters a million rows by agent without a join.
    agent = models.ForeignKey(AgentConfig, on_delete=models.PROTECT, related_name="trace_events", db_index=False)
    seq = models.PositiveIntegerField()
    ts = models.DateTimeField()
    kind = models.CharField(max_length=32, choices=TraceKind.choices)
    step = models.IntegerField(default=0, help_text="-1 for events before the first step (run start).")
    tool = models.CharField(max_length=64, blank=True, help_text="Tool name, when the event concerns one.")
    data = models.JSONField(default=dict)

    objects = AppendOnlyManager()

    class Meta:
        base_manager_name = "objects"  # instance.save()/delete() refused too (append-only)
        # Newest first by time; id breaks ties. Every index below ends in ts (and SQLite and
        # PostgreSQL both carry the row id), so each filter is served in this order with no sort.
        ordering = ["-ts", "-id"]
        constraints = [
            # One writer per run: a sequence number is used once. Also the run viewer's order.
            models.UniqueConstraint(fields=["run", "seq"], name="trace_run_seq_unique"),
        ]
        indexes = [
            # Admin changelist filtered by agent, newest first.
            models.Index(fields=["agent", "-ts"], name="trace_agent_recent"),
            # Admin changelist filtered by kind, newest first.
            models.Index(fields=["kind", "-ts"], name="trace_kind_recent"),
            # Admin default order and date filter; the replay audit reads a day at a time.
            models.Index(fields=["-ts"], name="trace_recent"),
            # Admin search by tool-name prefix.
            models.Index(fields=["tool"], name="trace_tool"),
            # The monitor's decision rates (orders and cancels per agent over the last hour) for the whole
            # fleet in one GROUP BY, from the index alone (issue 15: 354 ms -> 28 ms at 1,000 agents).
            models.Index(fields=["kind", "tool", "ts", "agent"], name="trace_decisions"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.kind}"


class OrderStatus(models.TextChoices):
    SIMULATED = "simulated", "Simulated (dry run)"
    SENT = "sent", "Sent, not yet acknowledged"
    LIVE = "live", "Resting at the venue"
    MATCHED = "matched", "Filled"
    CANCELED = "canceled", "Cancelled"
    REJECTED = "rejected", "Rejected"


class Order(models.Model):
    """An order this system sent (or simulated). The client order id makes a retry safe."""

    agent = models.ForeignKey(AgentConfig, on_delete=models.PROTECT, related_name="orders")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    client_order_id = models.CharField(max_length=128, unique=True)
    venue_order_id = models.CharField(max_length=64, blank=True)
    market = models.CharField(max_length=200)
    market_type = models.CharField(max_length=64, blank=True)
    side = models.CharField(max_length=4, choices=[("BUY", "Buy"), ("SELL", "Sell")])
    outcome = models.CharField(max_length=3, choices=[("YES", "Yes"), ("NO", "No")], default="YES")
    price = models.DecimalField(max_digits=7, decimal_places=3)
    size = models.DecimalField(max_digits=18, decimal_places=3)
    notional = models.DecimalField(**USDC)
    filled = models.DecimalField(max_digits=18, decimal_places=3, default=Decimal("0"))
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.SENT)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0, price__lt=1), name="order_price_in_0_1"),
            models.CheckConstraint(condition=Q(size__gt=0), name="order_size_positive"),
        ]
        indexes = [
            # Hard limits: an agent's notional today and its open orders.
            models.Index(fields=["agent", "created_at"], name="order_agent_day"),
            models.Index(fields=["agent", "status"], name="order_agent_status"),
            # Per-market exposure.
            models.Index(fields=["agent", "market"], name="order_agent_market"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.size} {self.outcome} {self.market} @ {self.price}"


MAX_MARKET = 200


class MarketQuarantine(models.Model):
    """A market set aside for one agent because its text was flagged as a possible prompt injection.

    Defense layer 1 drops the flagged field; this row keeps the agent from reading or trading the
    market until `until` (QUARANTINE_S). It never halts the desk: anyone can write a market
    description. Staff lift one early from the admin (the lift is recorded)."""

    agent = models.ForeignKey(AgentConfig, on_delete=models.CASCADE, related_name="quarantines")
    market = models.CharField(max_length=MAX_MARKET)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="quarantines")
    since = models.DateTimeField()
    until = models.DateTimeField()
    fields = models.JSONField(default=list, blank=True, help_text="Paths of the withheld fields.")
    findings = models.JSONField(default=list, blank=True, help_text="What the sanitiser found.")
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-since", "-id"]
        indexes = [models.Index(fields=["agent", "until"], name="quarantine_agent_until")]

    def __str__(self) -> str:
        return f"{self.market} set aside for {self.agent.name}"


class AgentLease(models.Model):
    """Cross-host single writer: a run holds its agent's lease (claimed by compare-and-set).

    The flock on state/agents/<id>.lock stops two runs on one host; this row stops two hosts.
    `token` increases with every claim (a fencing token): a run whose token is no longer the
    row's has been superseded, and its stop check trips before any further side effect.
    """

    agent = models.OneToOneField(AgentConfig, on_delete=models.CASCADE, primary_key=True, related_name="lease")
    holder = models.CharField(max_length=200, blank=True)
    token = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lease of agent {self.agent_id}: {self.holder or 'free'} #{self.token} until {self.expires_at}"


class AgentSchedule(models.Model):
    """When the dispatcher next enqueues a run of this agent (agents/dispatch.py).

    `next_due` sits on the agent's own slot in its interval (a stable offset), so a fleet's runs are
    spread over the interval instead of starting in one burst. A dispatcher advances it by
    compare-and-set, so any number of dispatchers on any hosts enqueue each slot once. `queued_at` is
    set when a run is enqueued and cleared when a worker starts it: while it is set, later slots are
    not enqueued (one waiting run per agent at most: a slow fleet falls behind, its queue does not grow).
    """

    agent = models.OneToOneField(AgentConfig, on_delete=models.CASCADE, primary_key=True, related_name="schedule")
    interval_s = models.PositiveIntegerField()
    offset_s = models.FloatField(help_text="The agent's slot within its interval, in seconds.")
    next_due = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    queued_for = models.DateTimeField(null=True, blank=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    coalesced = models.PositiveBigIntegerField(default=0, help_text="Slots passed over while a run still waited.")

    class Meta:
        indexes = [models.Index(fields=["next_due"], name="agent_schedule_due")]

    def __str__(self) -> str:
        return f"schedule of agent {self.agent_id}: every {self.interval_s} s, next {self.next_due}"


class DeskOverride(AppendOnlyModel):
    """The desk-wide override (pause, tighter limits, a note to the model) every host reads.

    Append-only: each save is a new row and the newest row is in force, so the rows are the audit
    trail of who paused or tightened what, and when. The document is validated by the same schema as
    override.json before it is written (agents/overrides.py). A host's own override.json still
    applies on that host, and can only tighten (agents/core/guards.py `combine`).
    """

    text = models.TextField(help_text="The override document, as validated and saved.")
    pause = models.BooleanField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, help_text="Who saved it (kept if the user is deleted).")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyManager()

    class Meta:
        base_manager_name = "objects"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"override #{self.pk} by {self.actor_name} ({'pause' if self.pause else 'no pause'})"


class RunTally(models.Model):
    """How many runs of an agent ended with a status, and their summed duration: /metrics' run counters,
    kept as runs end (agents.services.run_tally) so a scrape reads one row per agent and status instead of
    counting every run ever recorded (issue 15: at 360,000 runs that count was most of a scrape)."""

    agent = models.ForeignKey(AgentConfig, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=RunStatus.choices)
    runs = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0.0, help_text="Summed duration (ended_at - started_at) of these runs.")

    class Meta:
        verbose_name_plural = "run tallies"
        constraints = [models.UniqueConstraint(fields=["agent", "status"], name="run_tally_agent_status")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.status}: {self.runs} runs"


class DailyCost(models.Model):
    """Inference spend of the runs started on a day (UTC), kept as runs end (agents.services.run_tally):
    the cost-cap shape reads one row, after every run and at every monitor pass, instead of summing every
    run of the day (issue 15: at 1,000 agents a day holds 1.4 million runs)."""

    day = models.DateField(primary_key=True)
    usd = models.DecimalField(max_digits=24, decimal_places=6, default=Decimal("0"))

    def __str__(self) -> str:
        return f"{self.day}: {self.usd} USD"
