"""A repeated halt is recorded (the audit) but pages nobody again; the page names its source in words."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.core.management import call_command

from monitoring.models import Alert, AlertDelivery, HaltEvent

pytestmark = pytest.mark.django_db


def pages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "academy.alerts" and r.levelno >= logging.ERROR]


def test_it_records_a_repeated_halt_without_paging_again(trader, settings, caplog):
    settings.ALERT_SINKS = ["log", "webhook"]
    with caplog.at_level(logging.INFO, logger="academy.alerts"):
        call_command("halt", reason="first", stdout=StringIO())
        call_command("halt", reason="second", stdout=StringIO())
    assert list(HaltEvent.objects.order_by("id").values_list("action", "reason")) == [
        ("halt", "first"), ("noop", "second")]
    alert = Alert.objects.get(key="kill_switch")
    assert alert.fire_count == 2  # counted...
    assert sorted(AlertDelivery.objects.values_list("sink", flat=True)) == ["log", "webhook"]  # ...delivered once
    [line] = pages(caplog)  # one ALERT line in the log, not one per halt
    assert line.startswith("ALERT kill_switch: Trading HALTED (Command line): first")


def test_it_names_the_halt_source_in_words_not_as_an_enum(trader, caplog):
    with caplog.at_level(logging.ERROR, logger="academy.alerts"):
        call_command("halt", reason="drill", stdout=StringIO())
    alert = Alert.objects.get(key="kill_switch")
    assert (alert.details["source"], alert.details["source_label"]) == ("command", "Command line")
    assert pages(caplog) and not any("HaltSource" in line for line in pages(caplog))
    assert '"source": "command"' in pages(caplog)[0]


def test_it_pages_again_once_a_resumed_desk_halts_anew(trader, operator):
    from monitoring.halt import halt, resume

    halt(reason="first", source="panel")
    resume(actor=operator, reason="checked")
    halt(reason="again", source="panel")
    assert Alert.objects.filter(key="kill_switch").count() == 2
    assert AlertDelivery.objects.filter(alert__key="kill_switch", event="trigger").count() == 2


def test_a_new_halt_pages_even_when_an_old_kill_switch_alert_was_left_firing(trader, operator):
    """A resume whose resolve failed (or a monitor pass racing a resume) leaves the alert firing while trading
    runs: the next halt must page, not bump it silently (the review's finding)."""
    from monitoring.halt import halt, kill_switch_state, resume

    halt(reason="the first", source="panel")
    resume(actor=operator, reason="done")
    Alert.objects.filter(key="kill_switch").update(state="firing", resolved_at=None)  # its resolve failed
    assert not kill_switch_state()["halted"]
    halt(reason="daily loss for real", source="panel")
    triggers = AlertDelivery.objects.filter(alert__key="kill_switch", event="trigger")
    assert triggers.count() == 2  # the first halt's, and the new halt's
    firing = Alert.objects.get(key="kill_switch", state="firing")
    assert firing.title.endswith("daily loss for real") and firing.fire_count == 1
    assert Alert.objects.get(key="kill_switch", state="resolved").details["superseded_by"]


def test_the_monitor_resolves_a_kill_switch_alert_left_firing_while_trading_runs(trader):
    from monitoring.alerts import alert_fire
    from monitoring.health import Monitor

    alert_fire(key="kill_switch", title="kill_switch_active: trading is halted (raced a resume)")
    Monitor(lambda: trader).health_tick()
    assert not Alert.objects.filter(key="kill_switch", state="firing").exists()
