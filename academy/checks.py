"""System checks that catch a production misconfiguration at start-up."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@register()
def check_data_dir(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The data dir holds the flag file, state and traces: it must be writable."""
    if not os.access(settings.DATA_DIR, os.W_OK):
        return [Error(f"ACADEMY_DATA_DIR {settings.DATA_DIR} is not writable", id="academy.E001")]
    return []


@register(deploy=True)
def check_debug_exposed(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """DEBUG on a host that is reachable from outside leaks settings and tracebacks."""
    exposed = set(settings.ALLOWED_HOSTS) - LOOPBACK
    if settings.DEBUG and exposed:
        return [Warning(f"DEBUG is on while ALLOWED_HOSTS admits {sorted(exposed)}", id="academy.W001")]
    return []


@register(deploy=True)
def check_wildcard_hosts(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """A wildcard host accepts any Host header (cache poisoning, password-reset links to elsewhere)."""
    if not settings.DEBUG and "*" in settings.ALLOWED_HOSTS:
        return [Warning("ALLOWED_HOSTS contains '*' with DEBUG off: name the hosts", id="academy.W002")]
    return []


# --- VENUE=limitless: a live venue needs a person to page, its watchers, TLS, redaction and small caps ---------

LIVE_SECRET_VARS = ("LIMITLESS_PRIVATE_KEY", "LIMITLESS_HMAC_SECRET", "LIMITLESS_API_KEY", "CHAIN_RPC_URL")


def _live() -> bool:
    return settings.VENUE == "limitless"


@register(deploy=True)
def check_live_paging_sink(app_configs: Any, **kwargs: Any) -> list[Error]:
    """A live venue pages a person: a sink besides `log`, with its settings (monitoring.E011 names a gap)."""
    from monitoring.sinks import REQUIRED_SETTINGS

    if not _live():
        return []
    paging = [
        s
        for s in settings.ALERT_SINKS
        if s != "log" and s in REQUIRED_SETTINGS and all(getattr(settings, var, None) for var in REQUIRED_SETTINGS[s])
    ]
    if paging:
        return []
    return [
        Error(
            f"VENUE=limitless but no alert sink pages a person (ALERT_SINKS={list(settings.ALERT_SINKS)}, "
            f"counting only sinks with their settings)",
            hint="Add pagerduty, slack, webhook or email to ALERT_SINKS with its settings (docs/monitoring.md).",
            id="academy.E002",
        )
    ]


@register(deploy=True)
def check_live_watchers(app_configs: Any, **kwargs: Any) -> list[Error]:
    """A live venue trades only while the monitor runs and its dead-man's watchdog covers the account."""
    if not _live():
        return []
    errors: list[Error] = []
    if not settings.REQUIRE_MONITOR_HEARTBEAT:
        errors.append(
            Error(
                "VENUE=limitless with REQUIRE_MONITOR_HEARTBEAT off: agents would trade with nobody watching",
                hint="Unset REQUIRE_MONITOR_HEARTBEAT (or set it true).",
                id="academy.E003",
            )
        )
    if not settings.REQUIRE_DEADMAN_COVER:
        errors.append(
            Error(
                "VENUE=limitless with REQUIRE_DEADMAN_COVER off: orders would rest through a dead control plane",
                hint="Unset REQUIRE_DEADMAN_COVER (or set it true).",
                id="academy.E004",
            )
        )
    return errors


@register(deploy=True)
def check_live_tls(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The venue's keys cross the network only over TLS; loopback http is a paper dry run (DEBUG on)."""
    if not _live():
        return []
    return [
        Error(
            f"VENUE=limitless with {name}={url!r}: not https",
            hint=f"Use https for {name}; plain http to loopback only for a dry run against the paper venue (DEBUG on).",
            id="academy.E005",
        )
        for name in ("LIMITLESS_API_URL", "LIMITLESS_WS_URL")
        if not _secure(url := getattr(settings, name))
    ]


def _secure(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (settings.DEBUG and parts.scheme == "http" and parts.hostname in LOOPBACK)


@register(deploy=True)
def check_live_redaction(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Every live credential's value is redacted from traces, alerts and pages."""
    missing = [name for name in LIVE_SECRET_VARS if name not in settings.TRACE_SECRET_ENV_VARS]
    if not _live() or not missing:
        return []
    return [
        Error(
            f"VENUE=limitless but TRACE_SECRET_ENV_VARS lacks {', '.join(missing)}: their values would not be redacted",
            hint=f"Add {', '.join(missing)} to TRACE_SECRET_ENV_VARS (academy/settings.py lists them by default).",
            id="academy.E006",
        )
    ]


@register(deploy=True)
def check_live_limits(app_configs: Any, **kwargs: Any) -> list[Error]:
    """On a live venue, no enabled agent's caps exceed LIVE_MAX_ORDER_NOTIONAL / LIVE_MAX_DAILY_NOTIONAL (the
    override file can only tighten them, so the stored caps are the most an agent can trade)."""
    from django.db import DatabaseError

    from agents.models import AgentConfig

    if not _live():
        return []
    order_max, daily_max = settings.LIVE_MAX_ORDER_NOTIONAL, settings.LIVE_MAX_DAILY_NOTIONAL
    try:
        agents = list(
            AgentConfig.objects.filter(enabled=True)
            .order_by("name")
            .values_list("name", "max_order_notional", "max_daily_notional")
        )
    except DatabaseError as exc:  # e.g. before `migrate`: caps not read are caps not checked, so fail closed
        return [
            Error(
                f"VENUE=limitless: enabled agents' caps could not be read ({type(exc).__name__})",
                hint="Run `manage.py migrate` (and check DATABASE_URL), then `check --deploy` again.",
                id="academy.E008",
            )
        ]
    return [
        Error(
            f"VENUE=limitless: agent {name!r} caps orders at {order} USDC and a day at {daily} USDC, above "
            f"the live maxima ({order_max} / {daily_max} USDC)",
            hint=f"Lower {name!r}'s max_order_notional / max_daily_notional (admin), or raise "
            f"LIVE_MAX_ORDER_NOTIONAL / LIVE_MAX_DAILY_NOTIONAL deliberately.",
            id="academy.E007",
        )
        for name, order, daily in agents
        if order > order_max or daily > daily_max
    ]


# --- OpenTelemetry export (agents/otel.py): warnings only. Observability must never stop a command from
# starting: `manage.py halt`, `monitor` and the workers run whatever the OTEL_ variables say.

OTEL_CHECK_IDS = {"protocol": "academy.W009", "port": "academy.W009", "endpoint": "academy.W010"}


@register()
def check_otel_export(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Traces go over OTLP/HTTP with protobuf only (no gRPC exporter is shipped), to a well-formed URL;
    else no trace would ever arrive, and nobody would know why. Export stays off while W009 (protocol) or
    W010 (endpoint) stands."""
    from agents.otel import config_errors

    return [Warning(e.message, hint=e.hint, id=OTEL_CHECK_IDS[e.what]) for e in config_errors()]


@register()
def check_trace_link(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """TRACE_LINK_TEMPLATE must be an http(s) URL holding {trace_id} and nothing else in braces; the run
    viewer shows no link meanwhile (agents.otel.trace_link)."""
    from django.conf import settings

    template = settings.TRACE_LINK_TEMPLATE
    if not template:
        return []
    from agents.otel import trace_link

    if trace_link(template, "0" * 32) is None:
        return [Warning(f"TRACE_LINK_TEMPLATE={template!r} is not an http(s) URL with {{trace_id}} in it",
                        hint="e.g. http://jaeger:16686/trace/{trace_id}; the run viewer shows no trace link meanwhile",
                        id="academy.W011")]
    return []
