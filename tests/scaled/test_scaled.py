"""The scaled setup for real: PostgreSQL (DATABASE_URL) + Redis (REDIS_URL), separate processes.

No Django test database here: each test makes its own PostgreSQL database and Redis db, runs
`manage.py` processes against them exactly as a deployment would, and drops them after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

pytestmark = pytest.mark.scaled


@pytest.fixture
def scaled_env(tmp_path, fresh_venue) -> Iterator[dict[str, str]]:
    name = f"academy_scaled_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = redis_db()
    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
    venue, _ = fresh_venue
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true",
           "ACADEMY_DATA_DIR": str(tmp_path), "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
           "REDIS_URL": f"redis://127.0.0.1:6379/{db}", "VENUE_URL": venue.url, "VENUE_API_KEY": venue.api_key,
           "Q_WORKERS": "1"}
    manage(env, "migrate", "--noinput")
    yield env
    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_db() -> int:
    """Redis db 11 for a plain run, 11 + n for xdist worker gwN: two workers never flush each other's queue."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 11 + int(worker.removeprefix("gw") or 0)


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def shell(env: dict[str, str], code: str) -> str:
    return manage(env, "shell", "--no-imports", "-c", code)


def wait_for_heartbeat(env: dict[str, str], timeout: float = 60.0) -> None:
    code = ("from monitoring.models import MetricSample as M; "
            "print(M.objects.filter(name='kill_switch_active').exists())")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if shell(env, code).strip() == "True":
            return
        time.sleep(0.5)
    raise AssertionError("the monitor recorded no heartbeat")


def test_it_runs_an_agent_through_the_redis_broker_on_postgresql(scaled_env):
    shell(scaled_env, "from agents.models import AgentConfig; AgentConfig.objects.create(name='pg-agent', "
                      "known_market_types=['crypto-hourly','sports','politics'])")
    info = json.loads(shell(scaled_env, "import json; from django.conf import settings as s; from django.db import "
                                        "connection as c; print(json.dumps([c.vendor, s.Q_CLUSTER.get('redis')]))"))
    assert info == ["postgresql", scaled_env["REDIS_URL"]]
    # The monitor too, as in production: without its heartbeat the agent refuses to trade.
    monitor = subprocess.Popen([sys.executable, "manage.py", "monitor"], cwd=ROOT, env=scaled_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=scaled_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_heartbeat(scaled_env)  # agents refuse to trade until the watcher is up
        shell(scaled_env, "from django_q.tasks import async_task; from agents.models import AgentConfig; "
                          "async_task('agents.tasks.run_agent_task', AgentConfig.objects.get().pk)")
        status = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and status in ("", "running"):
            time.sleep(0.5)
            status = shell(scaled_env, "from agents.models import Run; r = Run.objects.first(); "
                                       "print(r.status if r else '')").strip()
    finally:
        worker.terminate()
        monitor.terminate()
        monitor.wait(timeout=20)
        log = worker.communicate(timeout=20)[0].decode()
    assert status == "completed", log[-3000:]
    counts = shell(scaled_env, "from agents.models import TraceEvent, Order; "
                               "print(TraceEvent.objects.count(), Order.objects.exclude(venue_order_id='').count())")
    events, orders = map(int, counts.split())
    assert events > 5 and orders > 0


def test_it_halts_and_resumes_through_postgresql(scaled_env):
    out = manage(scaled_env, "halt", "--reason", "scaled drill")
    assert "HALTED" in out
    state = shell(scaled_env, "from monitoring.models import KillSwitch as K; print(K.objects.get(pk=1).active)")
    assert state.strip() == "True"
    shell(scaled_env, "from django.contrib.auth import get_user_model as g; "
                      "g().objects.create_superuser('ops', password='pw-ops-123456')")
    manage(scaled_env, "resume", "--reason", "drill over", "--user", "ops")
    state = shell(scaled_env, "from monitoring.models import KillSwitch as K; print(K.objects.get(pk=1).active)")
    assert state.strip() == "False"
