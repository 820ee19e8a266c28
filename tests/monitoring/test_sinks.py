"""Alert sinks against a real local HTTP receiver, and the delivery task's retries and give-up."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from monitoring.alerts import alert_fire, alert_resolve
from monitoring.models import Alert, AlertDelivery, AlertState, DeliveryStatus
from monitoring.sinks import SinkError, WebhookSink, check_alert_sinks, sink_for
from monitoring.tasks import alert_deliver, alert_deliveries_sweep, retry_delay_s

from .receiver import Receiver, receiving

pytestmark = pytest.mark.django_db

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"


@pytest.fixture
def receiver():
    with receiving() as r:
        yield r


@pytest.fixture
def failing():
    with receiving(status=500, reply=b"upstream broken") as r:
        yield r


def _deliveries(alert: Alert, sink: str | None = None) -> list[AlertDelivery]:
    rows = AlertDelivery.objects.filter(alert=alert).order_by("id")
    return list(rows.filter(sink=sink) if sink else rows)


def _deliver_pending(alert: Alert) -> list[str]:
    """What the worker would do: run each pending delivery of this alert once."""
    return [alert_deliver(d.pk, d.attempts) for d in _deliveries(alert) if d.status == DeliveryStatus.PENDING]


def _fire(**kwargs: object) -> Alert:
    args = {"key": "cost_per_run:agent-1", "title": "agent-1 cost per run 3x baseline",
            "details": {"value": "0.31", "baseline": "0.10"}, "severity": "critical", **kwargs}
    return alert_fire(**args)  # type: ignore[arg-type]


# --- payload formats on the wire ----------------------------------------------------------------


def test_it_posts_the_generic_webhook_payload(settings, receiver: Receiver) -> None:
    settings.ALERT_SINKS = ["webhook"]
    settings.ALERT_WEBHOOK_URL = receiver.url + "/hooks/academy"
    settings.ALERT_LINK_BASE_URL = "https://academy.example.com/"
    alert = _fire()
    assert _deliver_pending(alert) == ["sent"]
    (request,) = receiver.requests
    assert request.path == "/hooks/academy" and request.headers["content-type"] == "application/json"
    assert request.body == {
        "event": "trigger", "key": "cost_per_run:agent-1", "state": "firing", "severity": "critical",
        "title": "agent-1 cost per run 3x baseline", "details": {"value": "0.31", "baseline": "0.10"},
        "fired_at": alert.first_fired_at.isoformat(), "resolved_at": None, "count": 1,
        "url": f"https://academy.example.com/admin/monitoring/alert/{alert.pk}/change/",
    }
    resolved = alert_resolve(key=alert.key)
    assert resolved is not None and _deliver_pending(resolved) == ["sent"]
    body = receiver.requests[1].body
    assert (body["event"], body["state"], body["resolved_at"]) == ("resolve", "resolved",
                                                                   resolved.resolved_at.isoformat())


def test_it_posts_a_slack_incoming_webhook_message(settings, receiver: Receiver) -> None:
    settings.ALERT_SINKS = ["slack"]
    settings.SLACK_WEBHOOK_URL = receiver.url + "/services/T000/B000/XXXX"
    alert = _fire(title="Trading HALTED <panel> & more", details={"reason": "drill"})
    assert _deliver_pending(alert) == ["sent"]
    body = receiver.requests[0].body
    assert set(body) == {"text", "blocks"}
    assert body["text"] == ":rotating_light: [FIRING] Trading HALTED &lt;panel&gt; &amp; more"
    header, facts, details, context = body["blocks"]
    headline = "[FIRING] Trading HALTED <panel> & more"  # plain_text: not escaped
    assert header == {"type": "header", "text": {"type": "plain_text", "text": headline}}
    assert facts["type"] == "section"
    assert facts["fields"][0] == {"type": "mrkdwn", "text": "*Severity*\ncritical"}
    assert facts["fields"][1] == {"type": "mrkdwn", "text": "*Key*\ncost_per_run:agent-1"}
    assert details["type"] == "section" and details["text"]["type"] == "mrkdwn"
    assert '"reason": "drill"' in details["text"]["text"]
    assert context == {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Academy alert {alert.pk}"}]}


def test_it_triggers_and_resolves_pagerduty_with_the_same_dedup_key(settings) -> None:
    with receiving(status=202, reply=b'{"status":"success","message":"Event processed"}') as pd:
        settings.ALERT_SINKS = ["pagerduty"]
        settings.PAGERDUTY_EVENTS_URL = pd.url + "/v2/enqueue"
        settings.PAGERDUTY_ROUTING_KEY = ROUTING_KEY
        settings.ALERT_SOURCE = "academy-prod"
        alert = _fire(severity="page-me")  # not a PagerDuty severity: sent as critical
        assert _deliver_pending(alert) == ["sent"]
        resolved = alert_resolve(key=alert.key)
        assert resolved is not None and _deliver_pending(resolved) == ["sent"]
    trigger, resolve = pd.bodies
    assert {r.path for r in pd.requests} == {"/v2/enqueue"}
    assert trigger == {
        "routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": "cost_per_run:agent-1",
        "client": "Academy",
        "payload": {"summary": "agent-1 cost per run 3x baseline", "source": "academy-prod", "severity": "critical",
                    "timestamp": alert.last_fired_at.isoformat(), "group": "academy", "class": "cost_per_run",
                    "custom_details": {"value": "0.31", "baseline": "0.10", "count": 1}},
    }
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "cost_per_run:agent-1"}


def test_it_emails_through_django_mail(settings) -> None:
    settings.ALERT_SINKS = ["email"]
    settings.ALERT_EMAIL_TO = ["oncall@example.com", "risk@example.com"]
    alert = _fire()
    assert _deliver_pending(alert) == ["sent"]
    alert_resolve(key=alert.key)
    _deliver_pending(alert)
    firing, resolved = mail.outbox
    assert firing.subject == "[Academy][FIRING] agent-1 cost per run 3x baseline"
    assert firing.to == ["oncall@example.com", "risk@example.com"]
    assert "key: cost_per_run:agent-1" in firing.body and '"baseline": "0.10"' in firing.body
    assert resolved.subject == "[Academy][RESOLVED] agent-1 cost per run 3x baseline"


def test_it_logs_through_the_log_sink(settings, caplog: pytest.LogCaptureFixture) -> None:
    settings.ALERT_SINKS = ["log"]
    alert = _fire()
    assert _deliver_pending(alert) == ["sent"]
    assert any("[FIRING] agent-1 cost per run" in r.getMessage() for r in caplog.records)


def test_it_raises_on_a_timeout_through_the_transport_seam() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    sink = WebhookSink("https://hooks.example.com/secret-path-token", transport=httpx.MockTransport(timeout))
    with pytest.raises(SinkError, match="ReadTimeout talking to hooks.example.com") as caught:
        sink.post({"x": 1})
    assert "secret-path-token" not in str(caught.value)


# --- the delivery task: enqueue, retry, give up, make the failure visible --------------------------


def test_it_enqueues_one_task_per_sink_after_commit(settings, django_capture_on_commit_callbacks) -> None:
    settings.ALERT_SINKS = ["log", "email"]
    settings.ALERT_EMAIL_TO = ["oncall@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        alert = _fire()
    tasks = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert sorted((t["func"], t["args"]) for t in tasks) == sorted(
        ("monitoring.tasks.alert_deliver", (d.pk,)) for d in _deliveries(alert))
    assert {t["group"] for t in tasks} == {"alerts"}


def test_it_never_blocks_alert_fire_on_a_failing_sink(settings, failing: Receiver) -> None:
    settings.ALERT_SINKS = ["webhook"]
    settings.ALERT_WEBHOOK_URL = failing.url
    alert = _fire()
    assert failing.requests == []  # alert_fire only wrote rows; the worker talks to the sink
    (delivery,) = _deliveries(alert)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)


def test_it_deduplicates_a_repeated_fire(settings) -> None:
    settings.ALERT_SINKS = ["log", "email"]
    settings.ALERT_EMAIL_TO = ["oncall@example.com"]
    first = _fire()
    second = _fire(details={"value": "0.40"})
    assert first.pk == second.pk and Alert.objects.count() == 1
    second.refresh_from_db()
    assert second.fire_count == 2 and second.details == {"value": "0.40"}
    assert [d.sink for d in _deliveries(first)] == ["log", "email"]


def test_it_retries_with_backoff_then_fails_and_pages_the_other_sinks(settings, failing: Receiver,
                                                                       receiver: Receiver) -> None:
    settings.ALERT_SINKS = ["slack", "webhook"]
    settings.SLACK_WEBHOOK_URL = failing.url + "/services/T0/B0/SECRET"
    settings.ALERT_WEBHOOK_URL = receiver.url
    settings.ALERT_MAX_ATTEMPTS = 3
    settings.ALERT_RETRY_BASE_S = 30
    alert = _fire()
    (slack,) = _deliveries(alert, "slack")
    for attempt in range(2):
        before = timezone.now()
        assert alert_deliver(slack.pk, attempt).startswith(f"retry after attempt {attempt + 1}: slack: HTTP 500")
        slack.refresh_from_db()
        assert (slack.status, slack.attempts) == (DeliveryStatus.PENDING, attempt + 1)
        assert "upstream broken" in slack.last_error and "SECRET" not in slack.last_error
        retry = Schedule.objects.get(name__startswith=f"alert_deliver:{slack.pk}:{attempt + 1}:")
        assert (retry.func, retry.args) == ("monitoring.tasks.alert_deliver", f"({slack.pk}, {attempt + 1})")
        delay = (retry.next_run - before).total_seconds()
        assert retry_delay_s(attempt + 1) <= delay < retry_delay_s(attempt + 1) + 5  # 30 s, then 60 s
    assert alert_deliver(slack.pk, 2).startswith("failed after 3 attempts: slack: HTTP 500")
    slack.refresh_from_db()
    assert (slack.status, slack.attempts, len(failing.requests)) == (DeliveryStatus.FAILED, 3, 3)

    sink_failed = Alert.objects.get(key="sink_failed:slack", state=AlertState.FIRING)
    assert sink_failed.details["alert_key"] == "cost_per_run:agent-1"
    assert _deliver_pending(sink_failed) == ["skipped: a sink does not carry its own failure alert", "sent"]
    assert [d.sink for d in _deliveries(sink_failed)] == ["webhook"]
    assert len(failing.requests) == 3  # never told the broken sink about itself
    assert receiver.bodies[-1]["key"] == "sink_failed:slack"


def test_it_resolves_the_sink_failure_when_the_sink_recovers(settings, receiver: Receiver) -> None:
    settings.ALERT_SINKS = ["webhook", "log"]
    settings.ALERT_WEBHOOK_URL = receiver.url
    alert_fire(key="sink_failed:webhook", title="Alert sink 'webhook' is failing")
    alert = _fire()
    (hook,) = _deliveries(alert, "webhook")
    assert alert_deliver(hook.pk, 0) == "sent"
    failure = Alert.objects.get(key="sink_failed:webhook")
    assert failure.state == AlertState.RESOLVED and failure.resolved_at is not None


def test_it_does_nothing_for_a_stale_duplicate_task(settings, receiver: Receiver) -> None:
    settings.ALERT_SINKS = ["webhook"]
    settings.ALERT_WEBHOOK_URL = receiver.url
    (delivery,) = _deliveries(_fire())
    assert alert_deliver(delivery.pk, 0) == "sent"
    assert alert_deliver(delivery.pk, 0) == "already sent"
    assert alert_deliver(999_999) == "gone"
    assert len(receiver.requests) == 1


def test_it_holds_a_resolve_until_the_trigger_is_delivered(settings, failing: Receiver) -> None:
    settings.ALERT_SINKS = ["webhook"]
    settings.ALERT_WEBHOOK_URL = failing.url
    alert = _fire()
    alert_resolve(key=alert.key)
    trigger, resolve = _deliveries(alert)
    assert alert_deliver(resolve.pk, 0) == "waiting: the trigger to this sink is not delivered yet"
    resolve.refresh_from_db()
    assert (resolve.attempts, failing.requests) == (0, [])  # a resolve before its trigger would reopen it
    assert Schedule.objects.filter(name__startswith=f"alert_deliver:{resolve.pk}:0:").exists()


def test_it_sweeps_pending_deliveries_nothing_will_run(settings) -> None:
    settings.ALERT_SINKS = ["log", "email"]
    settings.ALERT_EMAIL_TO = ["oncall@example.com"]
    log_row, email_row = _deliveries(_fire())
    AlertDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    Schedule.objects.create(name=f"alert_deliver:{email_row.pk}:1:0", func="monitoring.tasks.alert_deliver",
                            next_run=timezone.now() + timedelta(minutes=1))
    assert alert_deliveries_sweep(older_than_s=3600) == 0  # too young at this age
    assert alert_deliveries_sweep(older_than_s=300) == 1
    rerun = Schedule.objects.get(name__startswith=f"alert_deliver:{log_row.pk}:0:")
    assert rerun.args == f"({log_row.pk}, 0)" and rerun.next_run <= timezone.now()
    assert alert_deliveries_sweep(older_than_s=300) == 0  # its re-run is waiting: no pile-up


def test_it_refuses_to_start_with_a_sink_missing_its_settings(settings) -> None:
    settings.ALERT_SINKS = ["log", "slack", "pagerduty", "sms"]
    settings.SLACK_WEBHOOK_URL = ""
    settings.PAGERDUTY_ROUTING_KEY = ""
    errors = check_alert_sinks()
    assert [(e.id, e.msg) for e in errors] == [
        ("monitoring.E011", "ALERT_SINKS includes 'slack' but SLACK_WEBHOOK_URL is not set"),
        ("monitoring.E011", "ALERT_SINKS includes 'pagerduty' but PAGERDUTY_ROUTING_KEY is not set"),
        ("monitoring.E010", "ALERT_SINKS names an unknown sink 'sms'"),
    ]
    with pytest.raises(SystemCheckError, match="SLACK_WEBHOOK_URL"):
        call_command("check", tags=["monitoring"])
    with pytest.raises(SinkError, match="unknown alert sink 'sms'"):
        sink_for("sms")
