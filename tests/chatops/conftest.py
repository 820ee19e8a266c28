"""The chat bot's fixtures: the local Bot API peer, the bot against it, a desk of allowlisted operators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatops import telegram
from chatops.models import ChatOperator
from chatops.telegram import TelegramApi, TelegramBot

from .fakebot import FakeBotApi

TOKEN = "7000000001:AAH-fake-token-for-tests-0123456789abc"
OPERATOR, APPROVER, SECOND, NOBODY, STRANGER = 111, 222, 333, 444, 999


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    api = FakeBotApi(TOKEN)
    yield api
    api.close()


@pytest.fixture
def bot(fake: FakeBotApi, settings, monkeypatch) -> Iterator[TelegramBot]:
    # A test's first event need not be the cursor's id + 1: SQLite's id sequence keeps counting past rows an
    # earlier test in this process committed and removed. The gap wait has its own test, which sets it back.
    monkeypatch.setattr(telegram, "PUSH_GAP_WAIT_S", 0.0)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)  # what the redactor looks for
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    api = TelegramApi(TOKEN, fake.url, timeout_s=5)
    yield TelegramBot(api, poll_timeout_s=0, sleep=lambda s: None)
    api.close()


@pytest.fixture
def desk(operator, approver, nobody, django_user_model) -> dict[int, object]:
    second = django_user_model.objects.create_user(username="second", password="pw-second")
    second.user_permissions.add(*approver.user_permissions.all())
    users = {OPERATOR: operator, APPROVER: approver, SECOND: second, NOBODY: nobody}
    for external_id, user in users.items():
        ChatOperator.objects.create(external_id=str(external_id), user=user)
    return users


@pytest.fixture(autouse=True)
def fresh_desk_cache() -> Iterator[None]:
    from agents.desk import desk_cache_clear

    desk_cache_clear()  # the desk's venue reading is cached per process
    yield
    desk_cache_clear()


