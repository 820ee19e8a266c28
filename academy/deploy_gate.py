"""The deploy gate (reference card, first section): seven checks, one result each (with VENUE=limitless,
an eighth, 5b: the live venue's keys and clock, a read that never sends an order).

Each check exercises the real code, never the configured venue (it may be a live exchange):
orders go to a `LocalVenue` over an in-process `Engine` in a temp dir, and anything that writes
files runs with `settings.DATA_DIR` pointed at a temp dir, so the real flag file and traces are
never touched. Items 2 and 3 use the production order desk and stop check
(`agents.services.order_desk`, `agents.services.stop_check`), which read the database: they run
inside a transaction that is always rolled back, so the throwaway Run row and any order or
approval row they write are never committed (no other process ever sees them).
`manage.py deploy_gate` prints the results; docs/deploy-gate.md explains them.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from academy.dbclock import db_clock
from agents import services
from agents.core.guards import StopCheck, guards_for_data_dir
from agents.core.loop import RunResult, run_loop
from agents.core.orders import ApprovalDraft, OrderDesk, OrderIntent, OrderResult, place_order_safe
from agents.core.policies.scripted import ScriptedPolicy
from agents.core.ports import SystemClock
from agents.core.redact import Redactor
from agents.core.risk import order_notional, venue_exposure
from agents.core.spec import AgentSpec
from agents.core.tools import build_toolbox
from agents.core.tracing import FileRecorder, MemoryRecorder, Recorder, TraceWriter
from agents.journal import JournaledVenue
from agents.venue.schemas import SHARE_STEP, MarketStatus, Side
from paper_venue.engine import AccountSpec, Engine, MarketState
from paper_venue.local import LocalVenue

if TYPE_CHECKING:
    from agents.models import AgentConfig, Run

PASS, FAIL, NOT_CHECKED = "PASS", "FAIL", "NOT CHECKED"

ACCOUNT = "deploy-gate"
MARKET = "deploy-gate-market"
FLAG_NAME = "kill_switch.flag"  # guards_for_data_dir's layout
REDACTION_MARKER = "[REDACTED:"  # agents.core.redact.mask()
VENUE_KEY_ENV = "VENUE_API_KEY"  # item 4 plants a shapeless value here: only env-value redaction can catch it
TEST_COMMAND_ARGS = ("-q", "-x", "--ds=academy.settings_test", "tests/core", "tests/agents")
SUITE_ENV_KEEP = frozenset({"PATH", "HOME", "LANG", "TMPDIR", "TERM"})
RUNBOOK_SECTIONS = {"how to stop": "stop", "how to flatten": "flatten", "who to call": "who to call"}
RUNBOOK_MAX_LINES = 120
CANCEL_ON_DISCONNECT_KEY = "cancel_on_disconnect:system"


@dataclass(frozen=True)
class GateResult:
    item: str
    status: str  # PASS | FAIL | NOT CHECKED
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


# --- the sandbox: a private venue and data dir ----------------------------------------------------


@dataclass
class Sandbox:
    data_dir: Path
    engine: Engine
    venue: LocalVenue
    approvals: list[ApprovalDraft] = field(default_factory=list)

    def approve_sink(self, draft: ApprovalDraft) -> str:
        self.approvals.append(draft)  # kept here: no ApprovalRequest row, nobody is asked
        return f"deploy-gate-approval-{len(self.approvals)}"

    def orders_at_venue(self) -> int:
        return len(self.venue.orders())


@contextmanager
def sandbox(*, market_type: str = "deploy-gate", funds: Decimal = Decimal(10_000_000)) -> Iterator[Sandbox]:
    """A temp dir holding an in-process venue (one funded account, one open market) and a data dir
    that settings.DATA_DIR points at for the duration."""
    with tempfile.TemporaryDirectory(prefix="deploy-gate-") as tmp:
        root = Path(tmp)
        data_dir = root / "data"
        data_dir.mkdir(mode=0o700)
        engine = Engine(str(root / "venue.sqlite3"), seed=1, settle_lag=3600.0, demo_markets=False,
                        accounts=[AccountSpec(ACCOUNT, f"{ACCOUNT}-key", funds)])
        try:
            now = engine.clock()
            engine.create_market(MarketState(MARKET, "Deploy gate market", "", "deploy-gate", market_type,
                                             MarketStatus.OPEN, now + 3600, simulated=False))
            with override_settings(DATA_DIR=data_dir):
                yield Sandbox(data_dir=data_dir, engine=engine, venue=LocalVenue(engine, ACCOUNT))
        finally:
            engine.close()


def _sandbox_desk(box: Sandbox, spec: AgentSpec, recorder: Recorder, run_id: str) -> OrderDesk:
    """A desk for item 4, which runs a synthetic agent (no row): the sandbox's own guards and exposure."""
    clock = SystemClock()
    return OrderDesk(spec=spec, run_id=run_id, venue=box.venue, stop_check=guards_for_data_dir(box.data_dir),
                     exposure=lambda: venue_exposure(box.venue, clock), approvals=box.approve_sink,
                     recorder=recorder, clock=clock)


@contextmanager
def throwaway_run(agent: AgentConfig) -> Iterator[Run]:
    """A Run row for `agent` (the production desk needs one) in a transaction that is always rolled
    back: it, and every order or approval row written on this connection meanwhile, is never committed."""
    from agents.models import Run

    with transaction.atomic():
        try:
            yield Run.objects.create(agent=agent, started_at=timezone.now(), model_version=agent.model_version,
                                     end_reason="deploy gate check (rolled back)")
        finally:
            transaction.set_rollback(True)


def _production_desk(agent: AgentConfig, run: Run, venue: Any, recorder: Recorder) -> OrderDesk:
    """The desk a real run of `agent` gets (agents.services.order_desk: its spec, services.stop_check,
    services.db_exposure, approval requests as rows), over the sandbox venue. Call inside sandbox()
    (DATA_DIR is the sandbox's) and throwaway_run()."""
    return services.order_desk(agent, run, venue=venue, recorder=recorder, clock=SystemClock())


def _stop_text(reading: Any) -> str:
    stop = reading.stop
    return "none" if stop is None else f"{stop.kind}: {stop.reason}"


def _not_the_flag_hint() -> str:
    return ("not a failure of this item: the production stop check (agents.services.stop_check) trips for a "
            "reason other than the gate's own flag file (the real kill-switch row is active, or the monitor "
            "heartbeat is missing: see items 5 and 6); resolve that and re-run the gate")


def _market_type(spec: AgentSpec) -> str:
    """A market type the agent knows, so no approval request stands between its order and the venue."""
    return spec.soft.known_market_types[0] if spec.soft.known_market_types else "deploy-gate"


def _enabled_specs() -> tuple[list[tuple[AgentConfig, AgentSpec]], list[str]]:
    """Each enabled agent with its real spec, and the agents whose spec cannot be built (with why)."""
    from agents.models import AgentConfig

    specs, broken = [], []
    for agent in AgentConfig.objects.filter(enabled=True).order_by("name"):
        try:
            specs.append((agent, services.agent_spec(agent)))
        except Exception as exc:
            broken.append(f"{agent.name}: spec invalid ({_short(exc)})")
    return specs, broken


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _per_agent(item: str, check: Callable[[AgentConfig, AgentSpec], tuple[bool, str]]) -> GateResult:
    """Run `check` for every enabled agent: PASS only when each one passes."""
    specs, broken = _enabled_specs()
    if not specs and not broken:
        return GateResult(item, NOT_CHECKED, "no enabled agent: nothing to verify")
    outcomes = [check(agent, spec) for agent, spec in specs]
    failures = broken + [detail for ok, detail in outcomes if not ok]
    if failures:
        return GateResult(item, FAIL, "; ".join(failures))
    return GateResult(item, PASS, "; ".join(detail for _, detail in outcomes))


# --- 1. tests green ---------------------------------------------------------------------------


def suite_command() -> list[str]:
    pytest = Path(settings.BASE_DIR) / ".venv" / "bin" / "pytest"
    runner = [str(pytest)] if pytest.exists() else [sys.executable, "-m", "pytest"]
    return [*runner, *TEST_COMMAND_ARGS]


def suite_env() -> dict[str, str]:
    """A bare environment for the suite: on a deploy host this process carries the deployment's
    DATABASE_URL, VENUE_URL and keys (and manage.py's DJANGO_SETTINGS_MODULE); the tests must run on
    the embedded default of academy.settings_test, never against those."""
    return {k: v for k, v in os.environ.items() if k in SUITE_ENV_KEEP or k.startswith("LC_")}


def check_tests(*, run: bool = False, command: Sequence[str] | None = None) -> GateResult:
    """Not run by default (minutes); with run=True, the core and agents suites must pass."""
    item = "1. Tests green"
    if not run:
        return GateResult(item, NOT_CHECKED, "run `make test` (or pass --run-tests for tests/core and tests/agents)")
    cmd = list(command or suite_command())
    proc = subprocess.run(cmd, cwd=settings.BASE_DIR, env=suite_env(), capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    summary = lines[-1].strip() if lines else proc.stderr.strip()[-200:]
    status = PASS if proc.returncode == 0 else FAIL
    return GateResult(item, status, f"`{' '.join(cmd)}` exited {proc.returncode}: {summary}")


# --- 2. risk caps in code ---------------------------------------------------------------------


def oversize_intent(spec: AgentSpec) -> OrderIntent:
    """A BUY at 0.5 whose notional is 10x the per-order cap (at least 0.5 USDC when the cap is 0)."""
    price = Decimal("0.500")
    size = max(spec.hard.max_order_notional * 10 / price, Decimal(1))
    return OrderIntent(market=MARKET, side=Side.BUY, price=price,
                       size=size.quantize(SHARE_STEP, rounding=ROUND_CEILING))


def _cap_holds(agent: AgentConfig, spec: AgentSpec) -> tuple[bool, str]:
    intent = oversize_intent(spec)
    cap = spec.hard.max_order_notional
    with sandbox(market_type=_market_type(spec), funds=max(Decimal(10_000_000), cap * 100)) as box, \
            throwaway_run(agent) as run:
        # Journaled like a real run's venue: an order that got through would leave an Order row (rolled back).
        venue = JournaledVenue(box.venue, agent=agent, run=run)
        desk = _production_desk(agent, run, venue, MemoryRecorder(services.redactor()))
        # approved=True: even an order a human had waved through must stop at the cap.
        res: OrderResult = place_order_safe(desk, intent, step=0, call_index=0, approved=True)
        placed = box.orders_at_venue()
    notional = order_notional(intent.side, intent.price, intent.size)  # res.notional is 0 when it never got that far
    figures = f"{agent.name}: order {intent.size} @ {intent.price} = {notional} USDC vs cap {cap} USDC"
    outcome = f"{figures} -> {res.status} ({res.reason or 'no reason'}); {placed} order(s) at the venue"
    if res.status == "halted":
        return False, f"{outcome}; the cap was never reached, UNVERIFIED: {_not_the_flag_hint()}"
    ok = res.status == "rejected" and "per-order cap" in res.reason and placed == 0
    return ok, outcome


def check_risk_caps() -> GateResult:
    """Per enabled agent: the production order desk (services.order_desk) refuses, through place_order_safe,
    an order 10x the agent's per-order cap, and sends nothing."""
    return _per_agent("2. Risk caps in code", _cap_holds)


# --- 3. kill switch verified --------------------------------------------------------------------


def order_script(spec: AgentSpec) -> ScriptedPolicy:
    """A model that wants to buy one share at 0.5, then stops."""
    order = {"market": MARKET, "side": "BUY", "price": "0.500", "size": "1"}
    return ScriptedPolicy([[("place_limit_order", order)], "done"])


def _loop(desk: OrderDesk, policy: ScriptedPolicy, stop_check: StopCheck, run_id: str) -> RunResult:
    alerts: list[tuple[str, Any]] = []  # never monitoring's alert: it would halt and page for real
    toolbox = services.ThreadSafeToolbox(build_toolbox(spec=desk.spec, desk=desk))  # as a real run's
    return run_loop(run_id=run_id, spec=desk.spec, policy=policy, toolbox=toolbox, stop_check=stop_check,
                    recorder=desk.recorder, clock=desk.clock,
                    alert=lambda message, details: alerts.append((message, details)),
                    prices=services.price_table(), redactor=services.redactor())


def _kill_switch_stops(agent: AgentConfig, spec: AgentSpec) -> tuple[bool, str]:
    with sandbox(market_type=_market_type(spec)) as box, throwaway_run(agent) as run:
        before = services.stop_check()()  # the production guard, before the flag: what else trips it
        (box.data_dir / FLAG_NAME).touch()  # the gate's own temp data dir: the real flag is never touched
        recorder = MemoryRecorder(services.redactor())
        # The production desk, over the raw sandbox venue with approvals kept in the sandbox: tools run in
        # worker threads, whose own DB connections are outside the rolled-back transaction.
        desk = dataclasses.replace(_production_desk(agent, run, box.venue, recorder), approvals=box.approve_sink)
        result = _loop(desk, order_script(spec), services.stop_check(), services.order_key(run))
        placed = box.orders_at_venue()
    asked = len(recorder.of("model_request"))
    by_flag = result.outcome == "kill_switch" and FLAG_NAME in result.halt_reason
    figures = (f"{agent.name}: outcome {result.outcome} after {result.steps} iteration(s), model asked {asked} "
               f"time(s), {placed} order(s) at the venue")
    if result.outcome in {"kill_switch", "paused"} and not by_flag:
        return False, (f"{figures}; stopped, but NOT by the flag file ({result.halt_reason[:300]}): the flag is "
                       f"UNVERIFIED; {_not_the_flag_hint()}")
    ok = by_flag and result.steps <= 1 and placed == 0
    note = ("stopped by the flag file" if by_flag
            else f"not stopped by the flag ({result.halt_reason[:200] or 'no stop'})")
    if before.stop is not None:
        note += f"; without the flag the production stop check already trips ({_stop_text(before)[:200]})"
    return ok, f"{figures}; {note}"


def check_kill_switch() -> GateResult:
    """Per enabled agent: with the flag file present, the loop run with the production stop check
    (services.stop_check) and desk stops within one iteration, by the flag, placing nothing."""
    return _per_agent("3. Kill switch verified", _kill_switch_stops)


# --- 4. trace redaction -------------------------------------------------------------------------


@contextmanager
def planted_env(value: str, name: str | None = None) -> Iterator[str]:
    """Put `value` in os.environ under `name`, or else a TRACE_SECRET_ENV_VARS name (an unset one if
    any, never VENUE_KEY_ENV); restore after."""
    if name is None:
        names = [n for n in settings.TRACE_SECRET_ENV_VARS if n != VENUE_KEY_ENV] or [VENUE_KEY_ENV]
        name = next((n for n in names if n not in os.environ), names[0])
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield name
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def check_trace_redaction() -> GateResult:
    """Two fake secrets in the environment must not reach any written trace file: a key with the OpenAI
    shape in the model's output (caught by pattern or by value) and a shapeless random value under
    $VENUE_API_KEY in a tool's output (caught only by redacting the values of TRACE_SECRET_ENV_VARS)."""
    item = "4. Trace redaction"
    key = f"sk-proj-DEPLOYGATE{secrets.token_hex(16)}"
    venue_key = secrets.token_hex(12)  # no known shape: only the env-value redaction can catch it
    spec = AgentSpec(name="deploy-gate", policy="scripted", model="scripted-v1", allowed_tools=("get_market",))
    # The shapeless value comes in a market description (a tool's output); the shaped key in the model's own
    # words, since layer 1 now withholds any venue text with a key shape before it is traced or read.
    policy = ScriptedPolicy([[("get_market", {"slug": MARKET})], f"done; support key {key}"])
    with sandbox() as box, planted_env(key) as env_name, planted_env(venue_key, VENUE_KEY_ENV):
        box.engine.set_text(MARKET, "description", f"Resolves YES. Venue key: {venue_key}")
        writer = TraceWriter(traces_dir=services.traces_dir(), run_id="deploy-gate-redaction", clock=SystemClock(),
                             redactor=services.redactor())
        recorder = FileRecorder(writer)
        try:
            result = _loop(_sandbox_desk(box, spec, recorder, "deploy-gate-redaction"), policy,
                           guards_for_data_dir(box.data_dir), "deploy-gate-redaction")
        finally:
            writer.close()
        files = [p for p in box.data_dir.rglob("*") if p.is_file()]
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    leaked = sum(key in t for t in texts)
    leaked_venue = sum(venue_key in t for t in texts)
    markers = sum(t.count(REDACTION_MARKER) for t in texts)
    detail = (f"shaped key planted in ${env_name} and the model's output, shapeless value in ${VENUE_KEY_ENV} and "
              f"a market description; run {result.outcome}; {len(files)} file(s) written, "
              f"{leaked} carry the shaped key, {leaked_venue} carry the ${VENUE_KEY_ENV} value, "
              f"{markers} redaction marker(s)")
    ok = bool(files) and leaked == 0 and leaked_venue == 0 and markers > 0
    return GateResult(item, PASS if ok else FAIL, detail)


# --- 5. health monitor wired ----------------------------------------------------------------------


def monitor_alive() -> tuple[bool, str]:
    """The monitor records kill_switch_active every pass: a sample within 3 intervals means it runs."""
    from monitoring.metrics import latest

    limit = timedelta(seconds=float(settings.MONITOR_INTERVAL_S) * 3)
    sample = latest("kill_switch_active")
    if sample is None:
        return False, "monitor: no kill_switch_active sample ever recorded (is `manage.py monitor` running?)"
    age = timezone.now() - sample.ts
    figures = f"last kill_switch_active sample {age.total_seconds():.1f} s ago (limit {limit.total_seconds():g} s)"
    return age <= limit, f"monitor: {figures}"


def check_health_monitor() -> GateResult:
    """A real sink besides the log, its settings complete, and the monitor process alive."""
    from monitoring.sinks import check_alert_sinks

    item = "5. Health monitor wired"
    sinks = list(settings.ALERT_SINKS)
    paging = [s for s in sinks if s != "log"]
    errors = check_alert_sinks()
    alive, monitor = monitor_alive()
    parts = [
        (bool(paging), f"sinks: {', '.join(paging)}" if paging else f"sinks: only {sinks or 'none'} (pages nobody)"),
        (not errors, "sink config: valid" if not errors else "sink config: " + "; ".join(f"{e.id} {e.msg}"
                                                                                          for e in errors)),
        (alive, monitor),
    ]
    return _combine(item, parts)


LIVE_SECRET_SETTINGS = ("LIMITLESS_PRIVATE_KEY", "LIMITLESS_HMAC_SECRET", "LIMITLESS_API_KEY", "CHAIN_RPC_URL")


def live_keys_missing() -> list[str]:
    """The live venue's variables that are empty (settings refuse to start without them: guard anyway)."""
    missing = [name for name in ("LIMITLESS_PRIVATE_KEY", "CHAIN_RPC_URL") if not getattr(settings, name, "")]
    hmac = settings.LIMITLESS_HMAC_TOKEN_ID and settings.LIMITLESS_HMAC_SECRET
    if not hmac and not settings.LIMITLESS_API_KEY:
        missing.append("LIMITLESS_HMAC_TOKEN_ID + LIMITLESS_HMAC_SECRET (or LIMITLESS_API_KEY)")
    return missing


def check_live_venue() -> GateResult:
    """VENUE=limitless: its keys are set and the shared client builds, which checks our clock against the
    venue's (a read, never an order)."""
    from django.core.exceptions import ImproperlyConfigured

    from agents.venue.port import VenueError

    item = "5b. Live venue keys & clock"
    missing = live_keys_missing()
    if missing:
        return GateResult(item, FAIL, f"not set: {'; '.join(missing)} (docs/go-live.md, section 2)")
    try:
        venue = services.limitless_venue()
        venue.check_clock()  # HMAC requests are refused 30 s off the venue's clock
    except (VenueError, ImproperlyConfigured, ValueError) as exc:
        return GateResult(item, FAIL, f"the Limitless client did not start: {scrub(_short(exc))}")
    kind = "HMAC token" if settings.LIMITLESS_HMAC_TOKEN_ID else "API key"
    wallet = getattr(venue, "address", "?")  # public: the address, never the key
    return GateResult(item, PASS, f"keys set ({kind}, wallet key, CHAIN_RPC_URL); wallet {wallet}; "
                                  f"clock within 10 s of {settings.LIMITLESS_API_URL}")


def scrub(text: str) -> str:
    """`text` with every secret's value masked: the redacted env vars and the live keys as settings hold them."""
    held = {name: str(getattr(settings, name, "") or "") for name in LIVE_SECRET_SETTINGS}
    return Redactor([*settings.TRACE_SECRET_ENV_VARS, *held], environ={**os.environ, **held}).text(text)


def _combine(item: str, parts: list[tuple[bool, str]]) -> GateResult:
    failed = [d for ok, d in parts if not ok]
    if failed:
        return GateResult(item, FAIL, "FAILED " + "; ".join(failed) + " | ok: " + "; ".join(d for ok, d in parts if ok))
    return GateResult(item, PASS, "; ".join(d for _, d in parts))


# --- 6. cancel-on-disconnect ----------------------------------------------------------------------


def check_cancel_on_disconnect() -> GateResult:
    """On in settings (on Limitless, which has none: the dead-man's watchdog and its fresh cover beat), the
    monitor's session not paged as down, and the monitor alive."""
    from monitoring.models import Alert, AlertState

    item = "6. Cancel-on-disconnect on"
    firing = Alert.objects.filter(key=CANCEL_ON_DISCONNECT_KEY, state=AlertState.FIRING).first()
    alive, monitor = monitor_alive()
    enabled = bool(settings.VENUE_CANCEL_ON_DISCONNECT)
    parts = [
        *(watchdog_parts() if settings.VENUE == "limitless" else [(enabled, f"VENUE_CANCEL_ON_DISCONNECT={enabled}")]),
        (firing is None, f"alert {CANCEL_ON_DISCONNECT_KEY}: " + (
            "not firing" if firing is None else f"FIRING since {firing.first_fired_at:%Y-%m-%d %H:%M:%S} UTC "
                                                f"(the monitor's venue session is down)")),
        (alive, monitor),
    ]
    return _combine(item, parts)


def watchdog_parts() -> list[tuple[bool, str]]:
    """VENUE=limitless: the cover required, the watchdog's time set, and a monitor's stream confirmed."""
    cover = bool(settings.REQUIRE_DEADMAN_COVER)
    watchdog = int(settings.DEADMAN_WATCHDOG_S or 0)
    return [
        (cover, f"REQUIRE_DEADMAN_COVER={cover}"),
        (watchdog > 0, f"DEADMAN_WATCHDOG_S={watchdog or 'unset'} (Limitless has no cancel-on-disconnect: the "
                       f"watchdog halts and cancels once the stream is lost this long)"),
        cover_beat(),
    ]


def cover_beat() -> tuple[bool, str]:
    """A monitor of this account confirmed its stream armed within DEADMAN_COVER_STALE_S, by the database's
    clock (as agents.services.cover_missing_reason asks before every order)."""
    from monitoring.models import CoverBeat

    stale = float(settings.DEADMAN_COVER_STALE_S)
    try:
        account = services.cover_account()
    except Exception as exc:  # a malformed key: no account to look for (item 5b names the variable)
        return False, f"cover beat: no venue account ({type(exc).__name__}; see item 5b)"
    beats = CoverBeat.objects.filter(account=account)
    if beats.filter(armed=True, confirmed_at__gte=db_clock(-timedelta(seconds=stale))).exists():
        return True, f"cover beat: armed within {stale:g} s (account {account})"
    last = beats.order_by("-confirmed_at").first()
    seen = "never" if last is None else f"last {'armed' if last.armed else 'DOWN'} at {last.confirmed_at:%H:%M:%S} UTC"
    return False, (f"cover beat: none armed within {stale:g} s for account {account} ({seen}): is `manage.py "
                   f"monitor` running with the same LIMITLESS_* settings, and its stream connected?")


# --- 7. run-book ----------------------------------------------------------------------------------


def check_runbook(path: Path | None = None) -> GateResult:
    """runbook.md: headings for how to stop, how to flatten and who to call; one page."""
    item = "7. Run-book exists"
    path = path or Path(settings.BASE_DIR) / "runbook.md"
    if not path.is_file():
        return GateResult(item, FAIL, f"{path} not found")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    headings = [ln.lstrip("#").strip().lower() for ln in lines if ln.startswith("#")]
    missing = [section for section, word in RUNBOOK_SECTIONS.items() if not any(word in h for h in headings)]
    figures = f"{path.name}: {len(lines)} lines (max {RUNBOOK_MAX_LINES}), {len(headings)} headings"
    problems = ([f"no heading for {', '.join(missing)}"] if missing else []) + (
        [f"longer than one page ({len(lines)} > {RUNBOOK_MAX_LINES} lines)"] if len(lines) > RUNBOOK_MAX_LINES else [])
    if problems:
        return GateResult(item, FAIL, f"{figures}; " + "; ".join(problems))
    return GateResult(item, PASS, f"{figures}; has how to stop, how to flatten, who to call")


# --- the gate -----------------------------------------------------------------------------------


def run_gate(run_tests: bool = False, runbook: Path | None = None) -> list[GateResult]:
    """Run the seven checks in card order (with VENUE=limitless, 5b too); a check that raises is a FAIL
    naming the error (its text scrubbed of secrets)."""
    checks: list[tuple[str, Callable[[], GateResult]]] = [
        ("1. Tests green", lambda: check_tests(run=run_tests)),
        ("2. Risk caps in code", check_risk_caps),
        ("3. Kill switch verified", check_kill_switch),
        ("4. Trace redaction", check_trace_redaction),
        ("5. Health monitor wired", check_health_monitor),
        *([("5b. Live venue keys & clock", check_live_venue)] if settings.VENUE == "limitless" else []),
        ("6. Cancel-on-disconnect on", check_cancel_on_disconnect),
        ("7. Run-book exists", lambda: check_runbook(runbook)),
    ]
    return [_safely(item, check) for item, check in checks]


def _safely(item: str, check: Callable[[], GateResult]) -> GateResult:
    try:
        return check()
    except Exception as exc:  # a check that cannot run has not shown the item holds: fail closed
        return GateResult(item, FAIL, f"check could not run: {scrub(_short(exc))}")
