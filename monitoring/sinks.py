"""Alert sinks: the one outbound module for every peer that pages a human (STYLE rule 8).

Each sink is a small class whose `send(alert, event)` delivers one state change of one alert
(`event` is "trigger" or "resolve") in that peer's real payload format and raises `SinkError`
(or any exception) on failure. It never retries: `monitoring.tasks.alert_deliver` owns the
attempt count, the backoff and giving up. HTTP sinks use httpx with a short timeout and take a
`transport` so tests can swap the wire.

A sink named in ALERT_SINKS without its settings is a start-up error (`check_alert_sinks`):
an alerting setup that silently pages nobody is worse than one that refuses to start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.checks import Error, register
from django.core.mail import send_mail

from monitoring.models import Alert

log = logging.getLogger("academy.alerts")

TRIGGER = "trigger"
RESOLVE = "resolve"
PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")


class SinkError(Exception):
    """A delivery failed; the message is safe to store (no webhook URL, no key)."""


class Sink(Protocol):
    name: str

    def send(self, alert: Alert, event: str) -> None: ...


# --- what every format shares -------------------------------------------------------------


def alert_state(event: str) -> str:
    """The state this event announces (a late trigger still says "firing": it reports that change)."""
    return "resolved" if event == RESOLVE else "firing"


def alert_url(alert: Alert) -> str | None:
    """Link to the alert in the admin, when ALERT_LINK_BASE_URL says where Academy lives."""
    base = settings.ALERT_LINK_BASE_URL.rstrip("/")
    return f"{base}/admin/monitoring/alert/{alert.pk}/change/" if base and alert.pk else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def webhook_payload(alert: Alert, event: str) -> dict[str, Any]:
    """The generic webhook body (also the email's facts)."""
    payload: dict[str, Any] = {
        "event": event, "key": alert.key, "state": alert_state(event), "severity": alert.severity,
        "title": alert.title, "details": alert.details, "fired_at": _iso(alert.first_fired_at),
        "resolved_at": _iso(alert.resolved_at) if event == RESOLVE else None, "count": alert.fire_count,
    }
    url = alert_url(alert)
    if url:
        payload["url"] = url
    return payload


def _headline(alert: Alert, event: str) -> str:
    return f"[{alert_state(event).upper()}] {alert.title}"


# --- log and email --------------------------------------------------------------------------


class LogSink:
    """Write the alert to the `academy.alerts` logger; cannot fail, so it is the sink of last resort."""

    name = "log"

    def send(self, alert: Alert, event: str) -> None:
        level = logging.WARNING if event == RESOLVE else logging.ERROR
        log.log(level, "%s key=%s severity=%s count=%s details=%s", _headline(alert, event), alert.key,
                alert.severity, alert.fire_count, json.dumps(alert.details, default=str))


class EmailSink:
    """Plain-text mail through Django's mail backend to ALERT_EMAIL_TO."""

    name = "email"

    def __init__(self, recipients: list[str] | None = None) -> None:
        self.recipients = list(recipients if recipients is not None else settings.ALERT_EMAIL_TO)

    def send(self, alert: Alert, event: str) -> None:
        subject = f"[Academy]{_headline(alert, event)}"[:250]
        send_mail(subject, email_body(alert, event), None, self.recipients, fail_silently=False)


def email_body(alert: Alert, event: str) -> str:
    facts = webhook_payload(alert, event)
    lines = [alert.title, ""]
    lines += [f"{name}: {facts[name]}" for name in ("state", "severity", "key", "fired_at", "resolved_at", "count")
              if facts[name] is not None]
    if facts.get("url"):
        lines.append(f"url: {facts['url']}")
    lines += ["", "details:", json.dumps(alert.details, indent=2, sort_keys=True, default=str)]
    return "\n".join(lines) + "\n"


# --- HTTP sinks -----------------------------------------------------------------------------


class HttpSink:
    """POST one JSON document; anything but a 2xx, a timeout or a refused connection raises."""

    name = "http"

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None,
                 timeout_s: float | None = None) -> None:
        self.url = url
        self.transport = transport
        self.timeout_s = float(timeout_s if timeout_s is not None else settings.ALERT_HTTP_TIMEOUT_S)

    def send(self, alert: Alert, event: str) -> None:
        self.post(self.payload(alert, event))

    def payload(self, alert: Alert, event: str) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, default=str).encode()
        host = urlsplit(self.url).netloc  # errors name the host only: webhook paths carry tokens
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport, follow_redirects=False) as client:
                response = client.post(self.url, content=body, headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            raise SinkError(f"{self.name}: {type(exc).__name__} talking to {host}: {exc}") from None
        if not response.is_success:
            raise SinkError(f"{self.name}: HTTP {response.status_code} from {host}: {response.text[:300]}")


class WebhookSink(HttpSink):
    """A generic JSON POST to ALERT_WEBHOOK_URL (see `webhook_payload` for the fields)."""

    name = "webhook"

    def payload(self, alert: Alert, event: str) -> dict[str, Any]:
        return webhook_payload(alert, event)


class SlackSink(HttpSink):
    """A Slack incoming webhook: `text` for notifications, Block Kit `blocks` for the message."""

    name = "slack"

    def payload(self, alert: Alert, event: str) -> dict[str, Any]:
        return slack_payload(alert, event)


def _mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert, event: str) -> dict[str, Any]:
    """Build the message; lengths respect Slack's limits (header 150, section text 3000)."""
    icon = ":white_check_mark:" if event == RESOLVE else ":rotating_light:"
    fields = [("Severity", alert.severity), ("Key", alert.key), ("Fired at", _iso(alert.first_fired_at)),
              ("Count", str(alert.fire_count))]
    if event == RESOLVE:
        fields.append(("Resolved at", _iso(alert.resolved_at)))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _headline(alert, event)[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{_mrkdwn(str(value))}"}
                                       for name, value in fields]},
    ]
    if alert.details:
        details = json.dumps(alert.details, indent=2, sort_keys=True, default=str)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{_mrkdwn(details)[:2900]}```"}})
    url = alert_url(alert)
    context = f"Academy alert {alert.pk}" + (f" · <{url}|open in Academy>" if url else "")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": f"{icon} {_mrkdwn(_headline(alert, event))}", "blocks": blocks}


class PagerDutySink(HttpSink):
    """PagerDuty Events API v2: trigger and resolve share dedup_key = the alert key."""

    name = "pagerduty"

    def __init__(self, url: str, *, routing_key: str, source: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.routing_key = routing_key
        self.source = source

    def payload(self, alert: Alert, event: str) -> dict[str, Any]:
        return pagerduty_payload(alert, event, routing_key=self.routing_key, source=self.source)


def pagerduty_payload(alert: Alert, event: str, *, routing_key: str, source: str) -> dict[str, Any]:
    """A trigger carries the event payload; a resolve needs only the routing and dedup keys."""
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": event, "dedup_key": alert.key}
    if event == RESOLVE:
        return body
    severity = alert.severity if alert.severity in PAGERDUTY_SEVERITIES else "critical"  # unknown pages loudly
    body["payload"] = {
        "summary": alert.title[:1024], "source": source, "severity": severity,
        "timestamp": _iso(alert.last_fired_at), "group": "academy", "class": alert.key.split(":", 1)[0],
        "custom_details": {**alert.details, "count": alert.fire_count},
    }
    body["client"] = "Academy"
    url = alert_url(alert)
    if url:
        body["client_url"] = url
    return body


# --- choosing a sink, and refusing to start without its settings -----------------------------

# Settings each sink cannot work without; the start-up check names the first one missing.
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "log": (),
    "email": ("ALERT_EMAIL_TO",),
    "webhook": ("ALERT_WEBHOOK_URL",),
    "slack": ("SLACK_WEBHOOK_URL",),
    "pagerduty": ("PAGERDUTY_ROUTING_KEY", "PAGERDUTY_EVENTS_URL"),
}

_FACTORIES: dict[str, Callable[[httpx.BaseTransport | None], Sink]] = {
    "log": lambda transport: LogSink(),
    "email": lambda transport: EmailSink(),
    "webhook": lambda transport: WebhookSink(settings.ALERT_WEBHOOK_URL, transport=transport),
    "slack": lambda transport: SlackSink(settings.SLACK_WEBHOOK_URL, transport=transport),
    "pagerduty": lambda transport: PagerDutySink(
        settings.PAGERDUTY_EVENTS_URL, routing_key=settings.PAGERDUTY_ROUTING_KEY, source=settings.ALERT_SOURCE,
        transport=transport),
}


def sink_for(name: str, *, transport: httpx.BaseTransport | None = None) -> Sink:
    """Build the named sink from settings (read now, so a test's override applies)."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise SinkError(f"unknown alert sink {name!r}; known: {', '.join(_FACTORIES)}") from None
    return factory(transport)


@register("monitoring")
def check_alert_sinks(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Every sink in ALERT_SINKS exists and has its settings (monitoring.E010 / E011)."""
    errors: list[Error] = []
    for name in settings.ALERT_SINKS:
        if name not in REQUIRED_SETTINGS:
            errors.append(Error(f"ALERT_SINKS names an unknown sink {name!r}",
                                hint=f"Known sinks: {', '.join(REQUIRED_SETTINGS)}.", id="monitoring.E010"))
            continue
        errors += [Error(f"ALERT_SINKS includes {name!r} but {var} is not set",
                         hint=f"Set {var}, or remove {name!r} from ALERT_SINKS.", id="monitoring.E011")
                   for var in REQUIRED_SETTINGS[name] if not getattr(settings, var, None)]
    return errors
