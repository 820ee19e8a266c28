"""What the review of the chat bot found, each fixed: one chat that refuses for good holds up nobody;
a working poll does not hide failing pushes; the cursor waits at a gap an older id may still fill;
an update whose process died before acting is acted on when redelivered; resumes are pushed; a
deactivated user gets nothing; /status says what is paused; a command for another bot is not ours;
mapping a chat account to a user is a superuser's call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.overrides import override_pause_set
from chatops import telegram
from chatops.models import ChatAudit, ChatOperator, ChatState, Outcome
from chatops.telegram import ChatApiError, chat_state
from monitoring.halt import halt, kill_switch_state, resume
from monitoring.models import OutboxEvent
from monitoring.panel import chatbot_snapshot
from tests.factories import AgentConfigFactory

from .conftest import APPROVER, NOBODY, OPERATOR, SECOND
from .test_bot import said

pytestmark = pytest.mark.django_db


def test_a_chat_that_refuses_for_good_is_skipped_and_the_others_still_get_the_halt(fake, bot, desk) -> None:
    chat_state()
    ChatOperator.objects.filter(external_id=str(APPROVER)).update(chat_id="-100777")  # a group, sorted first
    fake.blocked.add("-100777")
    halt(reason="with one chat gone", source="command", actor=desk[OPERATOR])
    bot.push_once()
    for chat in (OPERATOR, SECOND, NOBODY):
        assert [t for t in fake.texts(chat) if t.startswith("HALT: with one chat gone")]
    gone = ChatOperator.objects.get(external_id=str(APPROVER))
    assert "blocked" in gone.push_error and ChatState.objects.get().push_failing_since is None
    bot.push_once()
    assert len([t for t in fake.texts(OPERATOR) if t.startswith("HALT:")]) == 1  # once, not again


def test_a_working_poll_does_not_hide_failing_pushes(fake, bot, desk, settings) -> None:
    settings.TELEGRAM_BOT_TOKEN = "set"
    chat_state()
    halt(reason="pushes failing", source="command", actor=desk[OPERATOR])
    fake.down = True
    with pytest.raises(ChatApiError) as raised:
        bot.push_once()
    bot._failed("push", raised.value)
    fake.down = False
    bot.poll_once()  # commands work again, pushes have not yet
    ChatState.objects.update(heartbeat_at=timezone.now())
    state = chatbot_snapshot()
    assert state["state"] == "degraded" and state["error"].startswith("pushing halts and pages: ")
    bot.push_once()
    assert chatbot_snapshot()["state"] == "ok"
    assert [t for t in fake.texts(OPERATOR) if t.startswith("HALT: pushes failing")]


def test_the_cursor_waits_at_a_gap_an_older_id_may_still_fill(fake, bot, desk, monkeypatch) -> None:
    monkeypatch.setattr(telegram, "PUSH_GAP_WAIT_S", 5.0)
    state = chat_state()
    now = timezone.now()
    later = OutboxEvent.objects.create(pk=state.push_cursor + 2, ts=now, kind="alert", payload={
        "key": "k2", "state": "firing", "severity": "critical", "title": "newer page", "count": 1})
    bot.push_once()
    assert fake.sent == [] and chat_state().push_cursor == state.push_cursor  # id +1 may still commit
    OutboxEvent.objects.create(pk=state.push_cursor + 1, ts=now, kind="halt", payload={
        "action": "halt", "reason": "committed late", "source": "command", "ts": now.isoformat()})
    bot.push_once()
    texts = fake.texts(OPERATOR)
    assert texts[0].startswith("HALT: committed late") and texts[1] == "[FIRING] [critical] newer page"
    OutboxEvent.objects.create(pk=later.pk + 2, ts=now - timedelta(seconds=30), kind="alert", payload={
        "key": "k3", "state": "firing", "severity": "warning", "title": "after a gap that never filled",
        "count": 1})
    bot.push_once()  # the gap is old: an id that never committed (a rolled-back insert) holds nothing up
    assert said(fake, OPERATOR).endswith("after a gap that never filled")


def test_an_update_whose_process_died_before_acting_is_acted_on_when_redelivered(fake, bot, desk) -> None:
    update = fake.message(OPERATOR, "/kill died mid-update")
    ChatAudit.objects.create(ts=timezone.now(), platform="telegram", update_id=update, external_id=str(OPERATOR),
                             command="kill")  # recorded, then the process died: still "received"
    bot.poll_once()
    assert "Halt ALL trading?" in said(fake, OPERATOR)
    assert ChatAudit.objects.get(update_id=update).outcome == Outcome.ASKED


def test_resumes_are_pushed_and_a_deactivated_user_gets_nothing(fake, bot, desk) -> None:
    chat_state()
    desk[NOBODY].is_active = False
    desk[NOBODY].save()
    halt(reason="drill", source="command", actor=desk[OPERATOR])
    resume(actor=desk[OPERATOR], reason="drill over")
    bot.push_once()
    assert [t for t in fake.texts(OPERATOR) if t.startswith("RESUME: drill over\nby operator")]
    assert not kill_switch_state()["halted"]
    assert fake.texts(NOBODY) == []


def test_status_says_what_is_paused(fake, bot, desk, settings) -> None:
    settings.VENUE_URL = "http://127.0.0.1:9"
    AgentConfigFactory(name="alpha")
    override_pause_set(actor=desk[OPERATOR], pause=True, reason="odd", agent="alpha")
    fake.message(OPERATOR, "/status")
    bot.poll_once()
    assert "Paused agents: alpha" in said(fake, OPERATOR)
    override_pause_set(actor=desk[OPERATOR], pause=True, reason="all", agent="")
    fake.message(OPERATOR, "/status")
    bot.poll_once()
    assert "Desk PAUSED by the override" in said(fake, OPERATOR)


def test_a_command_for_another_bot_is_not_ours_and_any_whitespace_separates(fake, bot, desk) -> None:
    halt(reason="drill", source="command", actor=desk[OPERATOR])
    fake.message(OPERATOR, "/resume@StagingBot test")
    bot.poll_once()
    assert fake.texts(OPERATOR) == [] and kill_switch_state()["halted"]
    fake.message(OPERATOR, "/resume@AcademyBot\nchecked the venue")
    bot.poll_once()
    assert said(fake, OPERATOR) == "Resumed by operator: checked the venue"


def test_only_a_superuser_maps_a_chat_account_to_a_user(client, desk, django_user_model) -> None:
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="chatops"))
    client.force_login(staff)
    assert client.get(reverse("admin:chatops_chatoperator_add")).status_code == 403
    client.force_login(desk[OPERATOR])  # a superuser
    assert client.get(reverse("admin:chatops_chatoperator_add")).status_code == 200
