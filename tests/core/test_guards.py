"""The stop check fails closed: anything it cannot compute counts as tripped."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agents.core.guards import NO_OVERRIDE, Guards, Override, combine, guards_for_data_dir, override_from_text
from agents.core.spec import HardLimits


def test_it_is_clear_with_no_flag_and_no_override(tmp_path: Path) -> None:
    reading = guards_for_data_dir(tmp_path)()
    assert reading.stop is None and reading.override.note == ""


def test_it_trips_on_the_flag_file_even_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "kill_switch.flag").symlink_to(tmp_path / "nowhere")
    assert guards_for_data_dir(tmp_path)().stop.kind == "kill_switch"


def test_it_trips_on_the_db_state(tmp_path: Path) -> None:
    stop = guards_for_data_dir(tmp_path, db_state=lambda: "halted by operator")().stop
    assert stop.kind == "kill_switch" and "halted by operator" in stop.reason


def test_it_trips_when_the_db_state_cannot_be_read(tmp_path: Path) -> None:
    def down() -> str | None:
        raise ConnectionError("db gone")

    stop = guards_for_data_dir(tmp_path, db_state=down)().stop
    assert stop.kind == "kill_switch" and "guard could not be computed" in stop.reason and "db gone" in stop.reason


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"pause": "yes"}', '{"pause": false, "limits": {"max_order_notional": "-1"}}',
     '{"pauze": true}', '{"limits": {"max_leverage": 3}}'],
)
def test_it_trips_on_a_malformed_override(tmp_path: Path, content: str) -> None:
    (tmp_path / "override.json").write_text(content)
    stop = guards_for_data_dir(tmp_path)().stop
    assert stop is not None and stop.kind == "kill_switch" and "override file malformed" in stop.reason


def test_it_trips_when_the_override_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "override.json").mkdir()  # a directory: read fails with an OSError
    assert "unreadable" in guards_for_data_dir(tmp_path)().stop.reason


def test_it_pauses_and_keeps_the_note(tmp_path: Path) -> None:
    (tmp_path / "override.json").write_text('{"pause": true, "note": "fomc at 2pm"}')
    reading = guards_for_data_dir(tmp_path)()
    assert reading.stop.kind == "paused" and "fomc at 2pm" in reading.stop.reason


def test_it_tightens_but_never_loosens(tmp_path: Path) -> None:
    (tmp_path / "override.json").write_text(
        '{"limits": {"max_order_notional": "2", "max_daily_notional": "1e9", "max_open_positions": 1}}')
    reading = Guards(flag_path=None, override_path=tmp_path / "override.json")()
    limits = reading.override.tighten(HardLimits(max_order_notional=Decimal("10"), max_daily_notional=Decimal("100"),
                                                 max_open_positions=5, max_market_exposure=Decimal("25")))
    assert (limits.max_order_notional, limits.max_daily_notional, limits.max_open_positions,
            limits.max_market_exposure) == (Decimal("2"), Decimal("100"), 1, Decimal("25"))


def test_it_trips_when_the_flag_file_cannot_be_checked(tmp_path, monkeypatch):
    """os.path.exists answers False on a permission or I/O error: that must never read as "no flag"."""
    import os as os_module

    from agents.core.guards import guards_for_data_dir

    real_lstat = os_module.lstat

    def broken(path, *args, **kwargs):
        if str(path).endswith("kill_switch.flag"):
            raise PermissionError(13, "Permission denied")
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os_module, "lstat", broken)
    reading = guards_for_data_dir(tmp_path)()
    assert reading.stop is not None and reading.stop.kind == "kill_switch"


# --- the desk's override (the database, every host) and this host's file (issue 15) -------------


def test_a_desk_pause_stops_the_agents_of_a_host_with_no_file(tmp_path: Path) -> None:
    desk = override_from_text('{"pause": true, "note": "fomc"}')
    stop = guards_for_data_dir(tmp_path, desk_override=lambda: desk)().stop
    assert stop.kind == "paused" and stop.reason == "paused by the desk override: fomc"


def test_this_hosts_file_can_only_tighten_the_desks_override(tmp_path: Path) -> None:
    desk = override_from_text('{"limits": {"max_order_notional": "10", "max_open_positions": 4}, "note": "desk"}')
    (tmp_path / "override.json").write_text(
        '{"limits": {"max_order_notional": "50", "max_daily_notional": "30"}, "note": "host"}')
    reading = guards_for_data_dir(tmp_path, desk_override=lambda: desk)()
    limits = reading.override.limits
    assert reading.stop is None
    assert (limits.max_order_notional, limits.max_daily_notional, limits.max_open_positions) == (
        Decimal("10"), Decimal("30"), 4)  # the desk's 10 stands against the file's looser 50
    assert reading.override.note == "desk\nhost"
    (tmp_path / "override.json").write_text('{"pause": true}')  # a host may still pause itself
    assert guards_for_data_dir(tmp_path, desk_override=lambda: desk)().stop.kind == "paused"
    assert combine(desk, NO_OVERRIDE) is desk


def test_it_trips_when_the_desks_override_cannot_be_read(tmp_path: Path) -> None:
    def down() -> Override:
        raise ConnectionError("database is locked")

    stop = guards_for_data_dir(tmp_path, desk_override=down)().stop
    assert stop.kind == "kill_switch" and "database is locked" in stop.reason
