"""Academy settings, read from the environment through the strict helpers in envconf.

Embedded default: SQLite (WAL) in $ACADEMY_DATA_DIR, django-q2's ORM broker, the in-memory
channel layer, the offline policy and the paper venue on loopback. Set DATABASE_URL and
REDIS_URL for the scaled setup. See docs/configuration.md for every variable.
"""

from __future__ import annotations

from pathlib import Path

from academy.envconf import (
    env_base64,
    env_bool,
    env_choice,
    env_database,
    env_decimal,
    env_hex_key,
    env_int,
    env_list,
    env_one_credential,
    env_optional_url,
    env_path,
    env_port,
    env_redis_url,
    env_secret,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
DATA_DIR = env_path("ACADEMY_DATA_DIR", BASE_DIR / "var")
SECRET_KEY = env_secret(
    "SECRET_KEY", required=not DEBUG, dev_default="dev-only-insecure-key-do-not-use-in-production-000"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
REDIS_URL = env_redis_url("REDIS_URL")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_q",
    "academy.apps.AcademyConfig",
    "agents",
    "approvals",
    "monitoring",
    "chatops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "academy.urls"
ASGI_APPLICATION = "academy.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", DATA_DIR / "academy.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Production hardening; `check --deploy` with DEBUG off must report nothing.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# The agent lease (agents/lease.py) lapses this long after its holder's last heartbeat (renewed
# every third of it): how soon another host may take over the agent of a crashed run.
AGENT_LEASE_TTL_S = env_int("AGENT_LEASE_TTL_S", 15, minimum=2, maximum=600)

# Queue and channel layer: the broker follows REDIS_URL, the same code either way.
Q_TIMEOUT = env_int("Q_TIMEOUT", 300, minimum=10)
Q_CLUSTER: dict[str, object] = {
    "name": "academy",
    "workers": env_int("Q_WORKERS", 2, minimum=1, maximum=64),
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 60,  # django-q2 requires retry > timeout
    "max_attempts": 1,
    "catch_up": False,
    "ack_failures": True,
    # Successful tasks are not kept (failures are): an agent run's record is its Run row, a page's its
    # AlertDelivery row, and keeping each success cost a count, a delete and an insert per task.
    "save_limit": -1,
    "poll": 0.5,
}
# A cluster takes at most this many tasks from the broker ahead of its workers (django-q2's default is
# workers squared): a busy cluster must not hold runs an idle one could start, and a cluster that dies
# loses what it holds (the Redis broker has no acknowledgement; agents/dispatch.py sends those again).
Q_CLUSTER["queue_limit"] = Q_CLUSTER["workers"]
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    Q_CLUSTER["orm"] = "default"
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The paper venue (a separate process, see Procfile) and the offline default policy. The Procfile starts
# the web server on WEB_PORT and the paper venue on VENUE_PORT (`make run` checks both are free first).
WEB_PORT = env_port("WEB_PORT", 8000)
VENUE_PORT = env_port("VENUE_PORT", 8100)
VENUE_URL = env_url("VENUE_URL", f"http://127.0.0.1:{VENUE_PORT}")
VENUE_API_KEY = env_str("VENUE_API_KEY", "paper-key")
# VENUE=limitless trades on Limitless Exchange through agents/venue/limitless_client.py (docs/go-live.md);
# its keys come from the environment only, and a missing or malformed one stops start-up naming it.
VENUE = env_choice("VENUE", "paper", ("paper", "limitless"))
LIMITLESS_API_URL = env_url("LIMITLESS_API_URL", "https://api.limitless.exchange", secure_unless_loopback=True)
LIMITLESS_WS_URL = env_url("LIMITLESS_WS_URL", "https://ws.limitless.exchange", secure_unless_loopback=True)
LIMITLESS_CHAIN_ID = env_int("LIMITLESS_CHAIN_ID", 8453, minimum=1)
LIMITLESS_PRIVATE_KEY = env_hex_key("LIMITLESS_PRIVATE_KEY", required=VENUE == "limitless")
LIMITLESS_HMAC_TOKEN_ID = env_str("LIMITLESS_HMAC_TOKEN_ID", "")
LIMITLESS_HMAC_SECRET = env_base64("LIMITLESS_HMAC_SECRET")
LIMITLESS_API_KEY = env_str("LIMITLESS_API_KEY", "")
if VENUE == "limitless":
    env_one_credential(("LIMITLESS_HMAC_TOKEN_ID", "LIMITLESS_HMAC_SECRET"), ("LIMITLESS_API_KEY",))
CHAIN_RPC_URL = env_optional_url("CHAIN_RPC_URL", required=VENUE == "limitless", what="a Base JSON-RPC endpoint")
# The dead-man's watchdog (VENUE=limitless: Limitless has no cancel-on-disconnect): the stream lost for
# this long halts through the one halt path, which cancels everything resting.
DEADMAN_WATCHDOG_S = env_int("DEADMAN_WATCHDOG_S", 15, minimum=2, maximum=600)
LIVE_MAX_ORDER_NOTIONAL = env_decimal("LIVE_MAX_ORDER_NOTIONAL", "100")  # USDC: `check --deploy` on a live venue
LIVE_MAX_DAILY_NOTIONAL = env_decimal("LIVE_MAX_DAILY_NOTIONAL", "1000")  # refuses an enabled agent above (E007)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # One line per venue request drowns the log that matters; failures are logged by the client.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"},
                # At DEBUG the model SDKs log every request body: the whole conversation.
                "openai": {"level": "WARNING"}, "anthropic": {"level": "WARNING"}},
}

# Model providers (only the openai/anthropic policies use them). Keys are secrets: they are
# redacted from every trace, like every variable named in TRACE_SECRET_ENV_VARS.
OPENAI_API_KEY = env_str("OPENAI_API_KEY", "")
OPENAI_BASE_URL = env_url("OPENAI_BASE_URL", "https://api.openai.com/v1", secure_unless_loopback=True)
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY", "")
ANTHROPIC_BASE_URL = env_url("ANTHROPIC_BASE_URL", "https://api.anthropic.com", secure_unless_loopback=True)
# Always redacted; TRACE_SECRET_ENV_VARS can add names, never remove these.
TRACE_SECRET_ENV_VARS = list(dict.fromkeys([
    "SECRET_KEY", "VENUE_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DATABASE_URL", "REDIS_URL",
    "LIMITLESS_PRIVATE_KEY", "LIMITLESS_HMAC_SECRET", "LIMITLESS_API_KEY", "CHAIN_RPC_URL",
    *env_list("TRACE_SECRET_ENV_VARS", []),
]))
# USD per million tokens (input, output) by frozen model version. A paid model that is not
# listed here refuses to run: a cost we cannot compute is a cap we cannot enforce.
MODEL_PRICES = {
    "gpt-4o-2024-08-06": ("2.50", "10.00"),
    "gpt-4o-mini-2024-07-18": ("0.15", "0.60"),
    "claude-3-5-sonnet-20241022": ("3.00", "15.00"),
    "claude-3-5-haiku-20241022": ("0.80", "4.00"),
}
# DRY_RUN=true makes every agent simulate its orders: nothing is sent to the venue.
DRY_RUN = env_bool("DRY_RUN", False)
APPROVAL_TTL_MINUTES = env_int("APPROVAL_TTL_MINUTES", 15, minimum=1, maximum=24 * 60)
VENUE_TIMEOUT_S = env_int("VENUE_TIMEOUT_S", 5, minimum=1, maximum=120)
# The monitor holds a venue websocket with account-wide cancel-on-disconnect (the card's deploy gate).
VENUE_CANCEL_ON_DISCONNECT = env_bool("VENUE_CANCEL_ON_DISCONNECT", True)
if VENUE == "limitless":
    VENUE_CANCEL_ON_DISCONNECT = False  # paper only: Limitless has none; the watchdog covers instead

# Alerts: each firing/resolving alert is delivered to every sink named here (see docs/monitoring.md).
ALERT_SINKS = env_list("ALERT_SINKS", ["log"])

# Health monitor: paging thresholds (reference card section 02) and kill-switch shapes (05).
# All configurable; docs/monitoring.md explains each and the cold-start rule.
BASELINE_WINDOW_DAYS = env_int("BASELINE_WINDOW_DAYS", 7, minimum=1, maximum=90)
BASELINE_MIN_SAMPLES = env_int("BASELINE_MIN_SAMPLES", 5, minimum=1)
# A stored baseline (MetricBaseline) is recomputed by the next run after this many seconds (0: every time).
BASELINE_REFRESH_S = env_int("BASELINE_REFRESH_S", 300, minimum=0)
PAGE_COST_PER_RUN_X = env_decimal("PAGE_COST_PER_RUN_X", "2")
# Floors of the "x baseline" thresholds: threshold = max(x * baseline, floor). A baseline near 0 (a rules
# agent that calls no model, a fast paper venue) would otherwise page on noise: 2x a 25 ms p95 is 50 ms.
PAGE_COST_PER_RUN_FLOOR_USD = env_decimal("PAGE_COST_PER_RUN_FLOOR_USD", "0.05")
PAGE_LATENCY_P95_FLOOR_MS = env_decimal("PAGE_LATENCY_P95_FLOOR_MS", "1000")
PAGE_TOOL_CALLS_PER_RUN = env_int("PAGE_TOOL_CALLS_PER_RUN", 30, minimum=1)
PAGE_LATENCY_P95_X = env_decimal("PAGE_LATENCY_P95_X", "2")
PAGE_ERROR_RATE_5M = env_decimal("PAGE_ERROR_RATE_5M", "0.01")
PAGE_DECISION_RATE_X = env_decimal("PAGE_DECISION_RATE_X", "3")
# With a baseline of 0 (an agent that usually does nothing), page above this many decisions an hour.
PAGE_DECISION_RATE_FLOOR = env_decimal("PAGE_DECISION_RATE_FLOOR", "10")
# Cold start: until an agent has BASELINE_MIN_SAMPLES samples, these stand in for its baseline.
COLD_START_BASELINE = {
    "cost_per_run": env_decimal("COLD_START_COST_PER_RUN", "0.10"),
    "latency_p95": env_decimal("COLD_START_LATENCY_P95_MS", "5000"),
}
CHAIN_DUST = env_decimal("CHAIN_DUST", "0.01")
HALT_DAILY_LOSS = env_decimal("HALT_DAILY_LOSS", "0.03")
HALT_DAILY_LOSS_HOLD_HOURS = env_int("HALT_DAILY_LOSS_HOLD_HOURS", 24, minimum=0)
HALT_COST_CAP_USD = env_decimal("HALT_COST_CAP_USD", "50")
HALT_TOOL_ERROR_RATE = env_decimal("HALT_TOOL_ERROR_RATE", "0.05")
# Defense layer 1: a market whose text was flagged as a possible injection is set aside for the agent
# that read it for this long (no reads, no orders; cancels still go). Flags never halt the desk.
QUARANTINE_S = env_int("QUARANTINE_S", 6 * 3600, minimum=60)
# Calls an agent's model makes to tools it was not offered count over this long (and since the desk last
# resumed): three halt the desk, in one run or spread over several (agents/core/loop.REFUSED_CALLS_HALT).
REFUSED_CALLS_WINDOW_S = env_int("REFUSED_CALLS_WINDOW_S", 24 * 3600, minimum=60)
MONITOR_INTERVAL_S = env_decimal("MONITOR_INTERVAL_S", "5")
# The dispatcher (manage.py dispatch) enqueues due agent runs this often, and follows agents created,
# disabled or re-timed in the admin every DISPATCH_SYNC_S.
DISPATCH_TICK_S = env_decimal("DISPATCH_TICK_S", "1")
DISPATCH_SYNC_S = env_decimal("DISPATCH_SYNC_S", "10")
# The monitor pages `dispatch_lag` when an agent's slot is this many seconds overdue (no dispatcher).
DISPATCH_LAG_PAGE_S = env_int("DISPATCH_LAG_PAGE_S", 120, minimum=10)
FLAG_POLL_S = env_decimal("FLAG_POLL_S", "0.2")
# The halt path's database writes give up on a lock after this long (the venue is swept before
# them; a halt the database cannot take waits in the halt slot and the monitor lands it later).
HALT_DB_WAIT_MS = env_int("HALT_DB_WAIT_MS", 500, minimum=10, maximum=10000)
# A process whose halt was parked retries its record this often from a thread (0: only the monitor does).
HALT_LANDER_S = env_decimal("HALT_LANDER_S", "1")
GUARD_GRACE_S = env_int("GUARD_GRACE_S", 30, minimum=0)
# No trading without the watcher: the loops stop when the monitor (flag watcher, loss and drift
# shapes, venue sweeps) has not recorded its heartbeat for this long.
REQUIRE_MONITOR_HEARTBEAT = env_bool("REQUIRE_MONITOR_HEARTBEAT", True)
MONITOR_STALE_S = env_int("MONITOR_STALE_S", 60, minimum=10)
# No order is sent unless a monitor confirmed its cancel-on-disconnect session for this venue
# account (the dead-man's cover) this recently, by the database's clock; it confirms every
# DEADMAN_COVER_BEAT_S on a thread of its own, and counts a session silent for DEADMAN_MAX_SILENCE_S as down (the venue
# pings every 5 s: one missed ping and a little, not a half-open socket's ~15 s). A run's end and an
# approved placement wait up to DEADMAN_COVER_STALE_S + 1 s for a beat after their orders were
# sent, and cancel what none confirmed. Off with the cover itself.
REQUIRE_DEADMAN_COVER = env_bool("REQUIRE_DEADMAN_COVER", REQUIRE_MONITOR_HEARTBEAT
                                 and (VENUE_CANCEL_ON_DISCONNECT or VENUE == "limitless"))
DEADMAN_COVER_STALE_S = env_decimal("DEADMAN_COVER_STALE_S", "3", minimum="1")
# How often the monitor confirms the cover (one UPDATE): a run that sent orders waits for the next beat
# at its end, half of this on average (issue 15: at 1 s that was 40% of a rules-policy run's time).
DEADMAN_COVER_BEAT_S = min(env_decimal("DEADMAN_COVER_BEAT_S", "0.25", minimum="0.05"), DEADMAN_COVER_STALE_S / 3)
DEADMAN_MAX_SILENCE_S = env_decimal("DEADMAN_MAX_SILENCE_S", "7", minimum="1")
CHAIN_SETTLE_GRACE_S = env_int("CHAIN_SETTLE_GRACE_S", 300, minimum=0)

# Alert sinks (docs/monitoring.md "Alert sinks"). A sink in ALERT_SINKS without its settings
# fails `manage.py check` (monitoring.E011): never start up silently paging nobody.
ALERT_EMAIL_TO = env_list("ALERT_EMAIL_TO", [])
ALERT_WEBHOOK_URL = env_str("ALERT_WEBHOOK_URL", "")
SLACK_WEBHOOK_URL = env_str("SLACK_WEBHOOK_URL", "")
PAGERDUTY_ROUTING_KEY = env_str("PAGERDUTY_ROUTING_KEY", "")
PAGERDUTY_EVENTS_URL = env_str("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue")
ALERT_SOURCE = env_str("ALERT_SOURCE", "academy")  # PagerDuty payload.source: which deployment paged
ALERT_LINK_BASE_URL = env_str("ALERT_LINK_BASE_URL", "")  # e.g. https://academy.example.com: links in alerts
# The run viewer links each run to its OpenTelemetry trace: a URL with {trace_id}, e.g. Jaeger's
# http://jaeger:16686/trace/{trace_id} (docs/observability.md). Empty: the trace id is shown without a link.
TRACE_LINK_TEMPLATE = env_str("TRACE_LINK_TEMPLATE", "")
ALERT_HTTP_TIMEOUT_S = env_int("ALERT_HTTP_TIMEOUT_S", 5, minimum=1, maximum=60)
ALERT_MAX_ATTEMPTS = env_int("ALERT_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
ALERT_RETRY_BASE_S = env_int("ALERT_RETRY_BASE_S", 30, minimum=1, maximum=3600)
ALERT_SWEEP_AFTER_S = env_int("ALERT_SWEEP_AFTER_S", 300, minimum=30)
# Django's own mail settings, used by the email sink; a short timeout so a dead relay fails the attempt.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=120)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "academy@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Prometheus /metrics: a bearer token and/or an address allowlist; with neither, loopback only.
METRICS_TOKEN = env_secret("METRICS_TOKEN", required=False, dev_default="", min_length=32)
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])  # IPs or CIDRs; checked as monitoring.E020
# These values are secrets too: redact them from traces like the keys above.
TRACE_SECRET_ENV_VARS = [*TRACE_SECRET_ENV_VARS, "ALERT_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY",
                         "EMAIL_HOST_PASSWORD", "METRICS_TOKEN", "TELEGRAM_BOT_TOKEN"]

# The chat bot (chatops/, docs/chatops.md): off unless a token is set. The token is a secret: from the
# environment only, in the redactor's list above, never logged (the Bot API puts it in every URL).
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_API_BASE = env_str("TELEGRAM_API_BASE", "https://api.telegram.org")  # a local peer in tests
TELEGRAM_POLL_TIMEOUT_S = env_int("TELEGRAM_POLL_TIMEOUT_S", 25, minimum=0, maximum=50)  # getUpdates long poll
CHATOPS_CONFIRM_S = env_int("CHATOPS_CONFIRM_S", 120, minimum=10, maximum=3600)  # a /kill confirm button's life
CHATOPS_PUSH_S = env_int("CHATOPS_PUSH_S", 1, minimum=1, maximum=60)  # how often halts and pages are looked for
CHATOPS_BACKOFF_MAX_S = env_int("CHATOPS_BACKOFF_MAX_S", 60, minimum=1, maximum=3600)  # retry ceiling, API down
