"""A crash driver for tests/agents/test_crash_faults.py: one process that forks a real run per command.

It sets Django up once (against the test's database file, data dir and venue, from the
environment), never touches the database itself, and for each JSON line on stdin forks a child
that runs `run_agent` for one agent and account. The child may be told to SIGKILL itself at a
kill point: right before or right after the Nth call of a function of agents.services
(`trace_append`: every trace event of the run; `mark_run_started`: the state file's start). The
parent answers one JSON line per command: the child's pid and how it ended. Forking a set-up
process makes each run a fresh process in milliseconds instead of a Django start-up.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOT_REACHED = 3  # exit code of a child whose kill point never came


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    import agents.services  # noqa: F401  (imported once here, not in every child)
    import agents.venue.client  # noqa: F401
    import monitoring.alerts  # noqa: F401
    import monitoring.health  # noqa: F401

    connections.close_all()  # nothing open to share with the children
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        print(json.dumps(run_child(command)), flush=True)


def run_child(command: dict[str, Any]) -> dict[str, Any]:
    pid = os.fork()
    if pid == 0:
        os._exit(child(command))
    _, status = os.waitpid(pid, 0)  # reaped: the pid is dead for the next run, not a zombie
    if os.WIFSIGNALED(status):
        return {"pid": pid, "signal": os.WTERMSIG(status), "exit": None}
    return {"pid": pid, "signal": None, "exit": os.WEXITSTATUS(status)}


def child(command: dict[str, Any]) -> int:
    try:
        from django.conf import settings

        from agents import services

        settings.VENUE_API_KEY = command["api_key"]
        for name, value in (command.get("settings") or {}).items():
            setattr(settings, name, value)  # e.g. a short AGENT_LEASE_TTL_S for one run
        kill = command.get("kill")
        if kill:
            arm(services, kill["at"], int(kill["n"]), kill["when"])
        services.run_agent(agent_id=int(command["agent_id"]))
        return NOT_REACHED if kill else 0
    except BaseException:
        traceback.print_exc()
        return 1


def arm(module: Any, name: str, n: int, when: str) -> None:
    """Wrap module.<name> so that its Nth call SIGKILLs this process, before or after the call."""
    real = getattr(module, name)
    calls = 0

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if calls == n and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(module, name, wrapped)


if __name__ == "__main__":
    main()
