"""Shared fixtures: the fixed cast (an operator, an approver, a user with no access) and the
real paper venue process with its fault controls, fresh accounts and markets."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Permission

from agents.venue.client import HttpVenue
from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue, running_venue


def _user(django_user_model, username: str, *, staff: bool = False, perms: tuple[str, ...] = ()):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def operator(django_user_model):
    """Staff with the kill switch and every view permission: the person on call."""
    return django_user_model.objects.create_superuser(username="operator", password="pw-operator")


@pytest.fixture
def approver(django_user_model):
    """Can approve trades, cannot touch the kill switch."""
    return _user(django_user_model, "approver", perms=("approve_trade",))


@pytest.fixture
def nobody(django_user_model):
    """Logged in, no permissions, not staff."""
    return _user(django_user_model, "nobody")


# --- fault tests: always run (CI runs them); a developer may skip them, and the run says so ---


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--skip-faults", action="store_true",
                     help="skip the slow fault tests (marked `fault`); CI never passes this")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--skip-faults"):
        return
    skip = pytest.mark.skip(reason="fault test skipped by --skip-faults (CI runs it)")
    for item in items:
        if "fault" in item.keywords:
            item.add_marker(skip)


# --- the paper venue: a real process, one per test session (per xdist worker) ---

_counter = itertools.count(1)

# Short heartbeats so the missed-heartbeat test is quick; a long settlement lag so a test
# sees the lag deterministically and settles with the control instead of sleeping.
VENUE_ENV = {
    "VENUE_HEARTBEAT_INTERVAL": "0.2",
    "VENUE_HEARTBEAT_TIMEOUT": "1.0",
    "VENUE_SETTLE_LAG": "3600",
    "VENUE_SEED": "7",
}


@pytest.fixture(scope="session")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    """One real venue process for the session (per xdist worker)."""
    with running_venue(tmp_path_factory.mktemp("venue"), **VENUE_ENV) as running:
        yield running


@pytest.fixture
def faults(venue: RunningVenue) -> Iterator[Faults]:
    """The control API; every fault is reset after the test so tests stay independent."""
    helper = Faults(venue.url, venue.faults_token)
    yield helper
    helper.reset()
    helper.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


@pytest.fixture
def make_trader(venue: RunningVenue, faults: Faults) -> Iterator[Callable[..., HttpVenue]]:
    """Create a fresh funded account and return an HttpVenue for it (closed after the test)."""
    clients: list[HttpVenue] = []

    def make(usdc: str = "10000", **kwargs: object) -> HttpVenue:
        name = unique("trader")
        key = f"key-{name}-0123456789"
        faults.account(name, key, usdc)
        client = HttpVenue(venue.url, key, **kwargs)  # type: ignore[arg-type]
        client.account_name = name  # type: ignore[attr-defined]
        client.api_key = key  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def market(faults: Faults) -> str:
    """A fresh market with no simulated counterparties, so the book holds only the test's orders."""
    slug = unique("test-market")
    faults.create_market(slug, title=f"Test {slug}")
    return slug




@pytest.fixture(autouse=True)
def kill_switch_row(request):
    """Migrations create the one kill-switch row; transactional tests flush it. Put it back.

    (A missing row reads as halted, fail-closed, which would stop every run in the next test.)
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not ({"db", "transactional_db"} & set(request.fixturenames)):
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    request.getfixturevalue("transactional_db" if transactional else "db")
    from monitoring.models import KillSwitch, kill_switch_writer

    with kill_switch_writer():
        KillSwitch.objects.get_or_create(pk=1)


@pytest.fixture(autouse=True)
def no_operator_files():
    """Each test starts without a kill-switch flag file, a waiting halt request (halt slot) or
    override.json (a halt in one test must not stop the runs of the next), and leaves none behind."""
    from django.conf import settings

    from agents.core import haltslot

    paths = [settings.DATA_DIR / "kill_switch.flag", settings.DATA_DIR / "override.json"]
    slot = haltslot.slot_path(settings.DATA_DIR)
    for path in paths:
        path.unlink(missing_ok=True)
    slot.write_bytes(b" " * haltslot.SIZE)  # allocated and empty: no halt request waiting
    yield
    for path in paths:
        path.unlink(missing_ok=True)
    slot.write_bytes(b" " * haltslot.SIZE)


@pytest.fixture
def fresh_venue(tmp_path_factory) -> Iterator[tuple[RunningVenue, HttpVenue]]:
    """A venue process of its own with untouched demo books (for tests that need real spreads:
    on the shared venue, other tests' quotes narrow them), and a client for its demo account."""
    with running_venue(tmp_path_factory.mktemp("fresh-venue"), VENUE_SEED="11") as running:
        client = HttpVenue(running.url, running.api_key)
        yield running, client
        client.close()
