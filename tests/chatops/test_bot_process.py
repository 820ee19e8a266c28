"""The bot as `manage.py chatbot` runs it: a real process against the local Bot API peer, killed with
SIGKILL, and a halt made while it was down (and the API with it) delivered once both are back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .fakebot import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7000000002:AAH-process-test-token-0123456789"
OPERATOR = 111


def wait_for(check: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture
def system(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true", "ACADEMY_DATA_DIR": str(tmp_path),
                "PYTHONPATH": str(ROOT), "LOG_LEVEL": "INFO", "TELEGRAM_POLL_TIMEOUT_S": "1",
                "CHATOPS_PUSH_S": "1", "CHATOPS_BACKOFF_MAX_S": "1", "VENUE_URL": "http://127.0.0.1:9"})

    def manage(*args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    manage("migrate", "--noinput")
    manage("shell", "--no-imports", "-c",
           "from django.contrib.auth.models import User; from chatops.models import ChatOperator; "
           f"ChatOperator.objects.create(external_id='{OPERATOR}', "
           "user=User.objects.create_superuser('operator', password='pw'))")
    return env, manage


@pytest.mark.fault
def test_a_halt_made_while_the_bot_and_the_api_were_down_is_delivered_when_they_are_back(system, tmp_path) -> None:
    env, manage = system
    fake = FakeBotApi(TOKEN)
    log = (tmp_path / "bot.log").open("w")
    env = {**env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": fake.url}

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "manage.py", "chatbot"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    bot = start()
    try:
        fake.message(OPERATOR, "/status")
        wait_for(lambda: fake.texts(OPERATOR))
        assert fake.texts(OPERATOR)[0].startswith("Trading: RUNNING")
        bot.send_signal(signal.SIGKILL)
        bot.wait(10)
        fake.down = True
        manage("shell", "--no-imports", "-c",
               "from monitoring.halt import halt; halt(reason='made while the bot was down', source='command')")
        bot = start()
        wait_for(lambda: fake.refused >= 2)  # the bot is up, the API is not: it retries
        assert not any("made while the bot was down" in t for t in fake.texts(OPERATOR))
        fake.down = False
        text = wait_for(lambda: [t for t in fake.texts(OPERATOR) if "made while the bot was down" in t])
        assert text[0].startswith("HALT: made while the bot was down")
        fake.message(OPERATOR, "/status")
        wait_for(lambda: fake.texts(OPERATOR)[-1].startswith("Trading: HALTED"))
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(10)
        except subprocess.TimeoutExpired:
            bot.kill()
        fake.close()
        log.close()
    output = (tmp_path / "bot.log").read_text()
    assert "HTTP 502" in output and TOKEN not in output  # it said why it retried, never with the token
