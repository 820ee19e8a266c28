"""A halt on the scaled setup while another PostgreSQL session holds the kill-switch row (issue 12):
the venue is swept at once, the lock wait is bounded (lock_timeout), and the record lands after."""

from __future__ import annotations

import subprocess
import sys
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
        assert "not recorded it yet" in done.stderr
        assert [o for o in client.orders(status=OrderStatus.LIVE) if o.client_order_id.startswith("pg-lock")] == []
        holder.rollback()
    out = shell(scaled_env, "from monitoring.halt import halt_requests_land as land; land(); "
                "from monitoring.models import KillSwitch as K, HaltEvent as H; "
                "print(K.objects.get(pk=1).active, H.objects.filter(reason='drill: row locked').count())")
    assert out.split()[-2:] == ["True", "1"], out
