"""The dead-man's cover on PostgreSQL (issue 12): beats and checks use the database's clock (Now(), a
STATEMENT_TIMESTAMP there), so the freshness check and "a beat after the send" work the same as on SQLite."""

from __future__ import annotations

from .test_scaled import scaled_env, shell  # noqa: F401  (scaled_env is the fixture)

CHECK = """
import time
from datetime import timedelta
from django.db.models.functions import Now
from agents.services import cover_account, cover_confirmed_after, cover_missing_reason
from monitoring.deadman import cover_confirm
from monitoring.models import CoverBeat

class Session:
    account = cover_account()
    def live(self, max_silence_s):
        return True

sent = time.monotonic()
time.sleep(0.05)
print("before-beat", cover_missing_reason() is None, cover_confirmed_after(sent))
cover_confirm(Session(), host="pg-monitor")
print("after-beat", cover_missing_reason() is None, cover_confirmed_after(sent))
later = time.monotonic()
time.sleep(0.05)
print("sent-after-beat", cover_confirmed_after(later))
CoverBeat.objects.update(confirmed_at=Now() - timedelta(seconds=10))
print("stale", cover_missing_reason() is None)
"""


def test_it_checks_the_cover_by_the_postgresql_clock(scaled_env):  # noqa: F811
    out = shell({**scaled_env, "REQUIRE_DEADMAN_COVER": "true"}, CHECK).split("\n")
    assert [line for line in out if line] == ["before-beat False False", "after-beat True True",
                                              "sent-after-beat False", "stale False"], out
