"""Two operators pausing at the same moment on PostgreSQL, with no desk override saved yet: neither
pause is lost (the review found the later insert dropped the other's, both told "Paused")."""

from __future__ import annotations

from .test_scaled import scaled_env, shell  # noqa: F401  (scaled_env is the fixture)

RACE = """
import threading, time
from django.contrib.auth.models import User
from django.db import connections
from agents import overrides
from agents.models import AgentConfig, DeskOverride
from agents.overrides import OverrideChanged, desk_override_current, override_pause_set

for name in ("race-a", "race-b"):
    AgentConfig.objects.get_or_create(name=name)
users = [User.objects.get_or_create(username=f"op-{n}", defaults={"is_superuser": True})[0] for n in "ab"]
first = DeskOverride.objects.exists()
real = overrides._still_newest

def slow(row_id):  # both presses read "no row yet" before either writes: two operators at once
    ok = real(row_id)
    time.sleep(0.5)
    return ok

overrides._still_newest = slow
out = {}

def press(user, agent):
    try:
        out[agent] = override_pause_set(actor=user, pause=True, reason="race", agent=agent)
    except OverrideChanged:
        out[agent] = "told to retry"
    finally:
        connections.close_all()

threads = [threading.Thread(target=press, args=(u, a)) for u, a in zip(users, ("race-a", "race-b"))]
[t.start() for t in threads]
[t.join() for t in threads]
paused = set(desk_override_current().pause_agents)
lost = [a for a, said in out.items() if said is True and a not in paused]
print("first", first, "lost", lost or "none", "paused", sorted(paused & {"race-a", "race-b"}) != [])
"""


def test_two_first_pauses_at_once_lose_neither(scaled_env):  # noqa: F811
    assert shell(scaled_env, RACE).split() == ["first", "False", "lost", "none", "paused", "True"]
