"""A halt, once asked for, survives the faults of the host it runs on (issue 12).

Real processes: `manage.py halt` runs as an operator would run it, while another process holds
the SQLite write lock, or with the data dir and database on a tmpfs that is full. The venue is the
real paper venue process. What must hold each time: every resting order is cancelled at once, the
halt is durable (halt slot and flag), no loop may trade, the page goes out without the database,
and the full record lands once the database takes writes again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from agents.core import haltslot
from agents.core.guards import guards_for_data_dir
from agents.venue.schemas import OrderStatus
from monitoring.halt import flag_path, halt, halt_requests_land, kill_switch_state, resume, slot_file
from monitoring.models import Alert, HaltEvent, KillSwitch

from .conftest import ROOT, rest
from .receiver import Receiver, receiving

pytestmark = pytest.mark.fault


def live(client) -> list:
    return client.orders(status=OrderStatus.LIVE)


def manage(args: list[str], *, data_dir: Path, db: Path, venue_url: str, api_key: str,
           timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """Run one `manage.py` command as a separate process, the way an operator's shell would."""
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true", "PYTHONUNBUFFERED": "1",
            "ACADEMY_DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{db}", "VENUE_URL": venue_url,
            "VENUE_API_KEY": api_key, **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def _db_path() -> Path:
    return Path(django_settings.DATABASES["default"]["NAME"])


def _locker(db: Path) -> subprocess.Popen:
    """Another process that takes SQLite's write lock and keeps it until its stdin closes."""
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30); "
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read(); c.execute('ROLLBACK')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_it_halts_at_the_venue_at_once_and_pages_while_another_process_holds_the_database(
        trader, market, venue, transactional_db, receiver):
    rest(trader, market, 5)
    locker = _locker(_db_path())
    try:
        started = time.monotonic()
        done = manage(["halt", "--reason", "drill: locked database"], data_dir=django_settings.DATA_DIR,
                      db=_db_path(), venue_url=venue.url, api_key=trader.api_key, ALERT_SINKS="log,webhook",
                      ALERT_WEBHOOK_URL=receiver.url + "/hook")
        elapsed = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert live(trader) == []  # cancelled although the database never answered
        assert "not recorded it yet" in done.stderr and "5 resting orders cancelled" in done.stdout
        assert elapsed < 20  # not the 20 s busy timeout plus the command's own retries: the waits are bounded
        assert [b["title"] for b in receiver.bodies if "HALTED" in b["title"]], receiver.bodies  # paged, no DB
        assert not HaltEvent.objects.exists() and not KillSwitch.objects.get(pk=1).active
        stop = guards_for_data_dir(django_settings.DATA_DIR)().stop
        assert stop is not None and stop.kind == "kill_switch"  # every loop refuses meanwhile
        assert kill_switch_state()["halted"] is True
    finally:
        locker.communicate("", timeout=10)
    landed = halt_requests_land()  # what the monitor does on its next flag tick
    event = HaltEvent.objects.get()
    assert landed == [event] and event.action == "halt" and event.orders_cancelled == 5
    assert "recorded_late" in event.figures and event.reason == "drill: locked database"
    assert KillSwitch.objects.get(pk=1).active and haltslot.pending(haltslot.slot_path(django_settings.DATA_DIR)) == []
    assert Alert.objects.filter(key="kill_switch", state="firing").exists()


def test_it_lands_a_waiting_halt_once_and_only_once(trader, transactional_db, monkeypatch):
    import monitoring.halt as halt_module

    real = halt_module._record_request

    def refuse(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("database is locked")

    monkeypatch.setattr(halt_module, "_record_request", refuse)
    event = halt(reason="drill", source="command")
    assert event.pk is None and any("not recorded in the database yet" in e for e in event.errors)
    monkeypatch.setattr(halt_module, "_record_request", real)
    monkeypatch.setattr(halt_module, "_slot_clear", lambda index, request_id: None)  # died before clearing
    assert len(halt_requests_land()) == 1
    assert len(halt_requests_land()) == 1  # the same request again: found, not written twice
    assert HaltEvent.objects.count() == 1


def test_it_refuses_a_resume_while_a_halt_waits_for_the_database(trader, operator, transactional_db, monkeypatch):
    import monitoring.halt as halt_module
    from monitoring.halt import ResumeRefused

    def refuse(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("database or disk is full")

    monkeypatch.setattr(halt_module, "_record_request", refuse)
    halt(reason="drill", source="command")
    with pytest.raises(ResumeRefused, match="not yet recorded"):
        resume(actor=operator, reason="looks fine")
    assert guards_for_data_dir(django_settings.DATA_DIR)().stop is not None


# --- a full disk: the data dir and the database on a small tmpfs that is full --------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs as ACADEMY_DATA_DIR (root can mount one; a test that cannot says so, loudly)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    assert done.returncode == 0, f"cannot mount a tmpfs here ({done.stderr.strip()}): run the suite as root"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    for i in range(64):  # the last partial blocks too
        try:
            with open(disk / f"crumb{i}", "wb") as f:
                f.write(b"\0" * 512)
        except OSError:
            break
    return filler


def test_it_keeps_a_halt_asked_for_on_a_full_disk_and_records_it_once_space_is_back(
        trader, market, venue, full_disk, receiver):
    db = full_disk / "academy.sqlite3"
    common = {"data_dir": full_disk, "db": db, "venue_url": venue.url, "api_key": trader.api_key}
    migrated = manage(["migrate", "--noinput"], **common, timeout=120)  # also allocates the halt slot
    assert migrated.returncode == 0, migrated.stderr
    assert (full_disk / haltslot.SLOT_NAME).stat().st_size == haltslot.SIZE
    rest(trader, market, 4)
    filler = _fill(full_disk)
    done = manage(["halt", "--reason", "drill: disk full"], **common, ALERT_SINKS="log,webhook",
                  ALERT_WEBHOOK_URL=receiver.url + "/hook")
    assert done.returncode == 0, done.stdout + done.stderr
    assert live(trader) == []
    assert "flag file not written" in done.stderr and "not recorded it yet" in done.stderr
    assert [b for b in receiver.bodies if "HALTED" in b["title"]]
    waiting = haltslot.pending(full_disk / haltslot.SLOT_NAME)
    assert [r.reason for _, r in waiting] == ["drill: disk full"]
    assert (full_disk / "kill_switch.flag").exists()  # empty, but there: the loops' first check
    assert guards_for_data_dir(full_disk)().stop is not None

    filler.unlink()
    for crumb in full_disk.glob("crumb*"):
        crumb.unlink()
    # Space is back: the monitor's first tick lands the record; from then on the row holds the halt.
    landed = manage(["shell", "--no-imports", "-c", "from monitoring.halt import halt_requests_land as land; "
                     "from monitoring.models import KillSwitch, HaltEvent; land(); "
                     "print(KillSwitch.objects.get(pk=1).active, HaltEvent.objects.filter(action='halt').count())"],
                    **common)
    assert landed.stdout.split() == ["True", "1"], landed.stdout + landed.stderr
    assert haltslot.pending(full_disk / haltslot.SLOT_NAME) == []
    shutil.rmtree(full_disk / "state", ignore_errors=True)


def test_it_pages_each_halt_once_without_the_database_and_the_watcher_does_not_repeat_it(
        trader, transactional_db, monkeypatch, receiver, settings):
    import monitoring.alerts as alerts
    import monitoring.halt as halt_module
    from monitoring.health import Monitor

    def refuse(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("database is locked")

    settings.ALERT_SINKS = ["log", "webhook"]
    settings.ALERT_WEBHOOK_URL = receiver.url + "/hook"
    monkeypatch.setattr(alerts, "_DIRECT_SENT", {})
    monkeypatch.setattr(halt_module, "_record_request", refuse)
    halt(reason="first", source="command")
    halt(reason="second", source="panel")
    for _ in range(3):  # the flag is there and the row is not active: the watcher must not halt again
        assert Monitor(lambda: trader).flag_tick() is None
    assert alerts.alert_direct_wait(5)
    titles = sorted(b["title"] for b in receiver.bodies if "HALTED" in b["title"])
    assert len(titles) == 2 and "first" in titles[0] and "second" in titles[1]  # one page per halt, no storm
    assert [r.reason for _, r in haltslot.pending(halt_module.slot_file())] == ["first", "second"]


def test_it_sweeps_the_venue_when_it_lands_a_halt_whose_halter_died_before_sweeping(trader, market,
                                                                                      transactional_db):
    import monitoring.halt as halt_module
    from monitoring.health import Monitor

    rest(trader, market, 3)
    request = haltslot.HaltRequest(id="died-mid-halt", ts=timezone.now().isoformat(), source="panel",
                                   reason="halter killed after its slot write")
    assert halt_module._slot_write(request, []) is not None  # ...and then the process died
    event = Monitor(lambda: trader).flag_tick()
    assert event is not None and event.reason == "halter killed after its slot write"
    assert live(trader) == [] and KillSwitch.objects.get(pk=1).active


# --- review fixes: what a parked record must survive -------------------------------------------------


def _refuse(*args, **kwargs):
    from django.db import OperationalError

    raise OperationalError("database is locked")


def _put(index: int, raw: bytes) -> None:
    fd = os.open(slot_file(), os.O_RDWR)
    try:
        os.pwrite(fd, raw.ljust(haltslot.RECORD_SIZE, b" "), index * haltslot.RECORD_SIZE)
    finally:
        os.close(fd)


def test_it_halts_whatever_language_the_reason_is_written_in(trader, market, transactional_db):
    from monitoring.health import Monitor

    rest(trader, market, 3)
    halt(reason="Стоп торговли: " + "проверяем позиции " * 40 + "止" * 80, source="panel")
    assert flag_path().exists() and live(trader) == []
    resume_all()
    rest(trader, market, 2, prefix="again")
    flag_path().write_text("остановка: " + "проверяю биржу " * 50)
    Monitor(lambda: trader).flag_tick()
    assert live(trader) == [] and KillSwitch.objects.get(pk=1).active


def resume_all() -> None:
    from monitoring.models import kill_switch_writer

    flag_path().unlink(missing_ok=True)
    with kill_switch_writer():
        KillSwitch.objects.filter(pk=1).update(active=False, hold_until=None, needs_reconciliation=False)


def test_it_keeps_the_sweeps_errors_when_a_lander_runs_during_the_sweep(trader, market, transactional_db):
    class Racing:  # the monitor's flag tick runs every 0.2 s, also while halt() is at the venue
        def cancel_all(self):
            halt_requests_land()
            raise ConnectionError("venue timed out")

        def __getattr__(self, name):
            return getattr(trader, name)

    rest(trader, market, 2)
    halt(reason="drill", source="command", venue=Racing())
    event = HaltEvent.objects.get()
    assert any("cancel-all failed" in e for e in event.errors), event.errors
    assert Alert.objects.filter(key__startswith="halt_errors:", state="firing").exists()


def test_it_halts_on_every_damaged_record_not_only_the_first(trader, operator, transactional_db):
    _put(0, b'{"id":"abc","ts":"2026-12-02T0')  # torn
    halt_requests_land()
    assert KillSwitch.objects.get(pk=1).active
    flag_path().unlink(missing_ok=True)
    resume(actor=operator, reason="checked the torn record")
    _put(3, b'{"id":"def","ts":"2026-12-02T1')  # another torn record, weeks later
    assert guards_for_data_dir(django_settings.DATA_DIR)().stop is not None
    halt_requests_land()
    assert KillSwitch.objects.get(pk=1).active, "a second damaged record was cleared without halting"


def test_it_lands_a_record_the_database_refuses_as_it_is_and_holds(trader, operator, transactional_db):
    bad = haltslot.HaltRequest(id="x" * 32, ts=timezone.now().isoformat(), source="command", reason="r\x00!",
                               hold_until="tomorrow")
    _put(0, haltslot.encode(bad))
    halt_requests_land()
    assert haltslot.pending(slot_file()) == []  # landed plainly, not retried forever
    row = KillSwitch.objects.get(pk=1)
    assert row.active and row.hold_until is not None  # a hold that cannot be read holds (24 h)


def test_it_lands_plainly_a_record_the_database_refuses(trader, transactional_db, monkeypatch):
    """PostgreSQL refuses some text (NUL) for good: the halt lands anyway, plainly, instead of being
    retried forever while resume is refused."""
    from django.db import DataError

    import monitoring.halt as halt_module

    real = halt_module._record_request
    calls: list[str] = []

    def refuse_the_first(request, actor, *, late):
        calls.append(request.reason)
        if len(calls) == 1:
            raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return real(request, actor, late=late)

    monkeypatch.setattr(halt_module, "_record_request", refuse_the_first)
    event = halt(reason="drill: stop", source="panel", figures={"odd": "value"})
    assert event.pk is not None and event.figures == {"record_damaged": "DataError", "request_id": event.figures[
        "request_id"]} and event.reason == "drill: stop"
    assert KillSwitch.objects.get(pk=1).active and haltslot.pending(slot_file()) == []


def test_it_never_loses_a_hold_when_the_slot_is_full(trader, transactional_db, monkeypatch):
    import monitoring.halt as halt_module

    monkeypatch.setattr(halt_module, "_record_request", _refuse)
    for i in range(7):
        halt(reason=f"manual {i}", source="command")
    halt(reason="daily loss", source="daily_loss", hold_until=timezone.now() + timedelta(hours=24))
    halt(reason="manual 8", source="panel", needs_reconciliation=True)  # no free record: merged, not overwritten
    monkeypatch.undo()
    halt_requests_land()
    row = KillSwitch.objects.get(pk=1)
    assert row.hold_until is not None and row.needs_reconciliation and haltslot.pending(slot_file()) == []


def test_it_does_not_repeat_a_holding_halt_every_tick_while_its_record_waits(trader, transactional_db,
                                                                             monkeypatch):
    import monitoring.halt as halt_module
    import monitoring.health as health

    monkeypatch.setattr(halt_module, "_record_request", _refuse)
    trip = health.Trip("daily_loss", "NAV down", {}, flatten=True, hold_hours=24)
    monkeypatch.setattr(health, "GUARDS", {"daily_loss": lambda venue, now: trip})
    monitor = health.Monitor(lambda: trader)
    for _ in range(10):
        monitor.health_tick()
    assert len(haltslot.pending(slot_file())) == 1
    assert kill_switch_state()["hold_until"] is not None


def test_it_never_writes_a_request_back_over_a_record_another_halt_took(transactional_db):
    import monitoring.halt as halt_module

    a = haltslot.HaltRequest(id="a" * 32, ts=timezone.now().isoformat(), source="command", reason="A")
    c = haltslot.HaltRequest(id="c" * 32, ts=timezone.now().isoformat(), source="daily_loss", reason="C",
                             hold_until=(timezone.now() + timedelta(hours=24)).isoformat())
    index = halt_module._slot_write(a, [])
    halt_module._slot_clear(index, a.id)  # A landed (by a lander) and freed its record...
    assert halt_module._slot_write(c, []) == index  # ...which C took
    assert halt_module._slot_write(a, [], index) is None  # A's late rewrite must not land on C
    assert [r.id for _, r in haltslot.pending(slot_file())] == [c.id]


def test_it_lands_a_parked_halt_from_the_halting_process_itself(trader, transactional_db, monkeypatch, settings):
    """A web host runs no monitor: the process whose halt was parked retries it from a thread."""
    import monitoring.halt as halt_module

    settings.HALT_LANDER_S = 0.1
    real = halt_module._record_request
    monkeypatch.setattr(halt_module, "_record_request", _refuse)
    assert halt(reason="from the panel", source="panel").pk is None
    monkeypatch.setattr(halt_module, "_record_request", real)  # the database is back
    deadline = time.monotonic() + 10
    while halt_module.halt_waiting() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not halt_module.halt_waiting() and HaltEvent.objects.get().reason == "from the panel"
    for thread in halt_module._LANDER:  # it stops once nothing waits (after closing its connection)
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in halt_module._LANDER)


def test_it_completes_a_touched_flag_within_seconds_while_a_locked_database_stalls_the_health_pass(
        trader, market, monitor_process, transactional_db):
    """The real monitor: its health pass waits 20 s per write on the locked database; the flag watcher
    runs on its own thread and still sweeps the venue at once."""
    rest(trader, market, 4)
    monitor_process(trader.api_key, VENUE_CANCEL_ON_DISCONNECT="false", MONITOR_INTERVAL_S="1")
    time.sleep(1.5)
    locker = _locker(_db_path())
    try:
        time.sleep(2)  # a health pass is now stuck on the lock
        flag_path().write_text("operator: stop now\n")
        deadline = time.monotonic() + 10  # a generous bound, not a timing figure (the bench times halts)
        while live(trader) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert live(trader) == [], "the touched flag waited behind the stalled health pass"
    finally:
        locker.communicate("", timeout=10)


def test_it_flattens_each_position_under_an_id_of_its_own_and_never_raises_on_one_it_cannot_sell(
        transactional_db):
    from agents.venue.schemas import Outcome
    from monitoring.halt import _flatten

    class Position:
        def __init__(self, market: str, outcome: Outcome) -> None:
            self.market, self.outcome, self.shares = market, outcome, Decimal("5")

    class Venue:
        def __init__(self) -> None:
            self.ids: list[str] = []

        def positions(self):
            long = "m" * 110  # the venue allows long slugs; a cut id would lose the outcome
            return [Position(long, Outcome.YES), Position(long, Outcome.NO), Position("bad slug ☃", Outcome.YES)]

        def place(self, req):
            self.ids.append(req.client_order_id)
            return type("Order", (), {"filled": req.size})()

    venue, errors = Venue(), []
    done = _flatten(venue, timezone.now(), errors)
    assert len(set(venue.ids)) == 2 and all(len(i) <= 64 for i in venue.ids)
    assert done["bad slug ☃:YES"] == "failed" and any("bad slug" in e for e in errors)


def test_it_lands_a_parked_halt_written_by_another_version_and_keeps_reading_odd_holds(trader, transactional_db):
    from monitoring.models import HaltPending

    HaltPending.objects.create(request_id="from-a-newer-host", ts=timezone.now(), request={
        "id": "from-a-newer-host", "ts": timezone.now().isoformat(), "source": "panel", "reason": "newer host",
        "hold_until": "2030-01-01T00:00:00", "a_field_we_do_not_know": 1})
    state = kill_switch_state()  # a naive hold must not break the panel
    assert state["halted"] and state["hold_until"] is not None
    assert [e.reason for e in halt_requests_land()] == ["newer host"]
    assert not HaltPending.objects.exists() and KillSwitch.objects.get(pk=1).hold_until is not None


def test_it_sweeps_the_venue_without_waiting_for_a_stalled_disk(trader, market, transactional_db, monkeypatch):
    import monitoring.halt as halt_module

    real_sync = os.fdatasync

    def stalled(fd):  # a hung NFS mount or a suspended device: the sync takes seconds
        time.sleep(3)
        real_sync(fd)

    monkeypatch.setattr(halt_module.os, "fdatasync", stalled)
    rest(trader, market, 3)
    swept: list[float] = []

    class Timed:
        def __getattr__(self, name):
            return getattr(trader, name)

        def cancel_all(self, market=None):
            result = trader.cancel_all(market)
            swept.append(time.monotonic())
            return result

    row_when_local_waited: list[bool] = []
    real_finish = halt_module._LocalWrites.finish

    def finish(self, errors):
        row_when_local_waited.append(KillSwitch.objects.get(pk=1).active)
        return real_finish(self, errors)

    monkeypatch.setattr(halt_module._LocalWrites, "finish", finish)
    started = time.monotonic()
    event = halt(reason="drill: stalled disk", source="command", venue=Timed())
    assert swept[0] - started < 2  # the sweep went first, not after the 3 s sync (a generous bound)
    assert row_when_local_waited == [True]  # other hosts stop at once: the row did not wait for the disk
    assert len(swept) == 2  # and a second sweep after the flag, for what this host sent in between
    assert live(trader) == [] and event.pk is not None and KillSwitch.objects.get(pk=1).active



def test_it_refuses_a_reason_that_is_empty_once_cleaned(transactional_db):
    with pytest.raises(ValueError, match="needs a reason"):
        halt(reason="\u200f\u202e\x00", source="panel")
