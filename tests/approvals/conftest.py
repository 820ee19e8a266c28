"""Approvals fixtures: an agent with room under its hard caps, requests whose client order id is the one
place_order_safe derives, and the placement task run inline against a real paper-venue account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from agents.core.orders import client_order_id
from agents.core.risk import order_notional
from agents.models import AgentConfig, Run
from agents.services import order_key
from agents.venue.schemas import Side
from approvals.models import ApprovalRequest
from tests.factories import AgentConfigFactory, ApprovalRequestFactory, RunFactory


@pytest.fixture(autouse=True)
def no_flag() -> Iterator[None]:
    """halt() writes the kill-switch flag file into the shared data dir: never leak it to the next test."""
    flag = settings.DATA_DIR / "kill_switch.flag"
    flag.unlink(missing_ok=True)
    yield
    flag.unlink(missing_ok=True)


@pytest.fixture
def approver2(django_user_model):
    """A second, distinct person with the approve_trade permission."""
    user = django_user_model.objects.create_user(username="approver2", password="pw-approver2")
    user.user_permissions.add(Permission.objects.get(codename="approve_trade"))
    return user


@pytest.fixture
def agent() -> AgentConfig:
    return AgentConfigFactory(known_market_types=["test"], max_order_notional=Decimal("100"),
                              max_market_exposure=Decimal("200"), approval_notional=Decimal("10"),
                              second_approval_notional=Decimal("40"))


MakeRequest = Callable[..., ApprovalRequest]


@pytest.fixture
def make_request(agent: AgentConfig) -> MakeRequest:
    """A pending request as a run records it: same (run, step, call_index) -> client order id derivation."""

    def make(*, market: str = "btc-above-100k-hourly", price: str = "0.550", size: str = "30", run: Run | None = None,
             step: int = 1, call_index: int = 0, **fields: Any) -> ApprovalRequest:
        run = run or RunFactory(agent=agent)
        notional = order_notional(Side.BUY, Decimal(price), Decimal(size))
        return ApprovalRequestFactory(
            run=run, agent=run.agent, step=step, call_index=call_index,
            client_order_id=client_order_id(order_key(run), step, call_index), market=market, market_type="test",
            side="BUY", price=Decimal(price), size=Decimal(size), notional=notional, **fields,
        )

    return make


@pytest.fixture
def place_inline(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], list[int]]:
    """Make the on-commit enqueue run the placement task at once, against the given venue account."""
    from approvals import services

    def use(venue: Any) -> list[int]:
        enqueued: list[int] = []

        def run_now(func: str, request_id: int, **_: Any) -> None:
            assert func == "approvals.tasks.approval_place_task"
            enqueued.append(request_id)
            services.approval_place(request_id=request_id, venue=venue)

        monkeypatch.setattr(services, "async_task", run_now)
        return enqueued

    return use
