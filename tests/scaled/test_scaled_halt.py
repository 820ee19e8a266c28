"""A halt on the scaled setup while another PostgreSQL session holds the kill-switch row (issue 12):
the venue is swept at once, the lock wait is bounded (lock_timeout), and the record lands after."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

import psycopg
import pytest

from agents.venue.schemas import OrderRequest, OrderStatus, Side

from .test_scaled import ROOT, scaled_env, shell  # noqa: F401  (scaled_env is the fixture)

pytestmark = [pytest.mark.scaled, pytest.mark.fault]


def test_it_sweeps_the_venue_while_postgresql_holds_the_kill_switch_row(scaled_env, fresh_venue):  # noqa: F811
    _, client = fresh_venue
    market = client.markets()[0].slug
    for i in range(3):
        client.place(OrderRequest(market=market, side=Side.BUY, price=Decimal("0.010"), size=Decimal("1"),
                                  client_order_id=f"pg-lock-{i}"))
    dsn = scaled_env["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(dsn) as holder:  # another session holds the row until this block ends
        holder.execute("SELECT * FROM monitoring_killswitch WHERE id = 1 FOR UPDATE")
        done = subprocess.run([sys.executable, "manage.py", "halt", "--reason", "drill: row locked"], cwd=ROOT,
                              env=scaled_env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "not recorded it yet" in done.stderr and "every host stops" in done.stderr
        assert [o for o in client.orders(status=OrderStatus.LIVE) if o.client_order_id.startswith("pg-lock")] == []
        holder.rollback()
    out = shell(scaled_env, "from monitoring.halt import halt_requests_land as land; land(); "
                "from monitoring.models import KillSwitch as K, HaltEvent as H; "
                "print(K.objects.get(pk=1).active, H.objects.filter(reason='drill: row locked').count())")
    assert out.split()[-2:] == ["True", "1"], out


def _halt_with_row_locked(env: dict[str, str]) -> psycopg.Connection:
    holder = psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://"))
    holder.execute("SELECT * FROM monitoring_killswitch WHERE id = 1 FOR UPDATE")
    done = subprocess.run([sys.executable, "manage.py", "halt", "--reason", "drill: row locked"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "parked in the database: every host stops" in done.stderr, done.stderr
    return holder


def test_it_stops_every_host_while_a_halt_waits_and_any_monitor_lands_it(scaled_env, fresh_venue,  # noqa: F811
                                                                          tmp_path_factory):
    host_b = {**scaled_env, "ACADEMY_DATA_DIR": str(tmp_path_factory.mktemp("host-b")),
              "REQUIRE_MONITOR_HEARTBEAT": "false", "REQUIRE_DEADMAN_COVER": "false"}
    holder = _halt_with_row_locked(scaled_env)  # on host A
    try:
        stop = shell(host_b, "from agents.services import stop_check; print(stop_check()().stop)")
        assert "another host" in stop, stop  # host B's loops stop too, although A's slot is not B's
    finally:
        holder.rollback()
        holder.close()
    out = shell(host_b, "from monitoring.halt import halt_requests_land as land; land(); "
                "from monitoring.models import KillSwitch as K, HaltPending as P; "
                "print(K.objects.get(pk=1).active, P.objects.count())")
    assert out.split()[-2:] == ["True", "0"], out  # host B's monitor landed host A's halt


def test_it_writes_one_event_when_two_landers_race(scaled_env, fresh_venue):  # noqa: F811
    holder = _halt_with_row_locked(scaled_env)
    code = "from monitoring.halt import halt_requests_land as land; print(len(land()))"
    landers = [subprocess.Popen([sys.executable, "manage.py", "shell", "--no-imports", "-c", code], cwd=ROOT,
                                env={**scaled_env, "HALT_DB_WAIT_MS": "5000"}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(3)  # both wait on the row now (a monitor's tick and a resume, say)
    holder.rollback()
    holder.close()
    for lander in landers:
        lander.communicate(timeout=60)
    out = shell(scaled_env, "from monitoring.models import HaltEvent as H; "
                "print(H.objects.filter(reason='drill: row locked').count())")
    assert out.split()[-1] == "1", out


def test_it_lands_a_halt_from_a_flag_file_with_nul_bytes(scaled_env, fresh_venue):  # noqa: F811
    from pathlib import Path

    Path(scaled_env["ACADEMY_DATA_DIR"], "kill_switch.flag").write_bytes(b"stop\x00\x00\x00")
    out = shell(scaled_env, "from monitoring.health import Monitor; from agents.services import venue_client; "
                "m = Monitor(venue_client); m.flag_tick(); m.flag_tick(); "
                "from monitoring.models import KillSwitch as K; from monitoring.halt import halt_waiting; "
                "print(K.objects.get(pk=1).active, halt_waiting())")
    assert out.split()[-2:] == ["True", "False"], out  # PostgreSQL refuses NUL in text: cleaned first
