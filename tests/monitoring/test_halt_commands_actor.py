"""`manage.py halt` and `resume` name who acted: --user, else the OS user; an Academy user of that name when
there is one, else (halt only) the name kept as text, so the record and the panel never say nobody."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitoring.models import HaltEvent, KillSwitch, OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def os_user(monkeypatch):
    """Set the name getpass reports for the OS user running the command."""
    def set_name(name: str) -> None:
        monkeypatch.setattr("getpass.getuser", lambda: name)

    return set_name


def halt_from_shell(**options: object) -> tuple[HaltEvent, str]:
    err = StringIO()
    call_command("halt", reason="drill from a shell", stdout=StringIO(), stderr=err, **options)
    return HaltEvent.objects.filter(action="halt").latest("id"), err.getvalue()


def panel_actor(event: HaltEvent) -> str | None:
    return OutboxEvent.objects.get(kind="halt", payload__id=event.pk).payload["actor"]


def test_it_records_the_academy_user_named_like_the_os_user(trader, os_user, django_user_model):
    alice = django_user_model.objects.create_user(username="alice", password="pw-alice")
    os_user("alice")
    event, err = halt_from_shell()
    assert event.actor == alice and "actor_name" not in event.figures
    assert event.figures["os_user"] == "alice" and panel_actor(event) == "alice"
    assert "recorded by name" not in err


def test_it_records_an_os_user_without_an_account_by_name(trader, os_user):
    os_user("deploy-bot")
    event, err = halt_from_shell()
    assert event.actor is None and event.figures["actor_name"] == "deploy-bot"
    assert panel_actor(event) == "deploy-bot"  # the live panel's feed names who halted
    assert "no active Academy user 'deploy-bot': recorded by name" in err


def test_it_prefers_the_user_option_over_the_os_user(trader, os_user, operator):
    os_user("deploy-bot")
    event, _ = halt_from_shell(user="operator")
    assert event.actor == operator and event.figures["os_user"] == "deploy-bot"


def test_it_names_the_uid_when_the_os_user_has_no_name(trader, monkeypatch):
    def nameless() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr("getpass.getuser", nameless)
    event, _ = halt_from_shell()
    assert event.figures["actor_name"] == f"uid {os.getuid()}" and KillSwitch.objects.get(pk=1).active


def test_it_resumes_as_the_os_user_by_default(trader, os_user, operator):
    os_user("operator")
    halt_from_shell()
    call_command("resume", reason="drill over", stdout=StringIO())
    resumed = HaltEvent.objects.filter(action="resume").get()
    assert resumed.actor == operator and not KillSwitch.objects.get(pk=1).active


def test_it_refuses_a_resume_by_an_os_user_with_no_account_and_says_what_to_pass(trader, os_user):
    os_user("deploy-bot")
    halt_from_shell()
    with pytest.raises(CommandError, match=r"no active user 'deploy-bot' \(your OS user name: pass --user"):
        call_command("resume", reason="drill over", stdout=StringIO())
    assert KillSwitch.objects.get(pk=1).active and not HaltEvent.objects.filter(action="resume").exists()
