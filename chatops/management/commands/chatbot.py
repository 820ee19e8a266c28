"""`manage.py chatbot`: the Telegram bot (long polling, and the push of halts and pages).

Off unless TELEGRAM_BOT_TOKEN is set (make run starts it only then). docs/chatops.md has the set-up.
"""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chatops.telegram import TelegramApi, TelegramBot, chat_state, scrubbed_logging


class Command(BaseCommand):
    help = "Run the Telegram chat bot: commands from the allowlisted operators, halts and pages pushed to them."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: the chat bot is off (docs/chatops.md)")
        scrubbed_logging()
        api = TelegramApi(settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_BASE)
        bot = TelegramBot(api)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: bot.stop())
        state = chat_state()
        self.stdout.write(f"chat bot: {settings.TELEGRAM_API_BASE} (long polling, {bot.poll_timeout_s} s); "
                          f"pushing outbox events after #{state.push_cursor}")
        try:
            bot.run()
        finally:
            api.close()
