"""The agent's tool arguments are parsed as strictly as the venue parses orders (issue 12, item 6):
a price or size the model wrote as "1_0", "١٠" or "1e3" is a tool error, never a different order."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agents.core.tools import Prepared

from .conftest import Harness, demo_spec

ORDER = {"market": "btc-up", "side": "BUY", "price": "0.4", "size": "1"}
# Each is a valid price (0.4) or size (1 or 10) to Python's Decimal, and none is a plain ASCII decimal.
BAD_PRICES = ["0.4_0", "٠.٤", "０.４", "4e-1", "4E-1", " 0.4", "0.4\n", "+0.4", ".4", "0.4\u200b"]
BAD_SIZES = ["1_0", "١", "١٠", "１", "1e0", "1E0", " 1", "1\n", "+1", "1.", "NaN", "Infinity", True, "0x1"]


@pytest.mark.parametrize(("field", "value"), [("price", v) for v in BAD_PRICES] + [("size", v) for v in BAD_SIZES])
def test_it_refuses_non_plain_numbers_in_order_arguments(h: Harness, field: str, value: object) -> None:
    for args in ({**ORDER, field: value}, json.dumps({**ORDER, field: value})):
        error = h.toolbox(demo_spec()).prepare("place_limit_order", args)
        assert isinstance(error, str) and error.startswith(f"invalid arguments for place_limit_order: {field}: "), error


def test_it_refuses_exponent_literals_deep_nesting_and_huge_arguments(h: Harness) -> None:
    box = h.toolbox(demo_spec())
    literal = '{"market": "btc-up", "side": "BUY", "price": "0.4", "size": 1e1}'
    assert "size: must be a plain decimal (no exponent)" in str(box.prepare("place_limit_order", literal))
    deep = '{"market": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert "arguments: is too large" in str(box.prepare("place_limit_order", deep))
    nested = '{"market": ' + "[" * 1000 + "]" * 1000 + "}"
    assert "arguments: is nested deeper than" in str(box.prepare("place_limit_order", nested))
    for bad_id in ("ord\u202e1", "ord\x001", "x" * 129):
        error = box.prepare("cancel_order", {"order_id": bad_id})
        assert isinstance(error, str) and "order_id: " in error, error
    error = box.prepare("check_freshness", {"slug": "btc-up", "max_age_s": "1_0"})
    assert isinstance(error, str) and "max_age_s: " in error, error


def test_it_still_takes_plain_strings_and_json_numbers(h: Harness) -> None:
    box = h.toolbox(demo_spec())
    as_text = '{"market": "btc-up", "side": "BUY", "price": 0.4, "size": 1}'
    for args in (ORDER, {**ORDER, "price": 0.4, "size": 1}, as_text):
        prepared = box.prepare("place_limit_order", args)
        assert isinstance(prepared, Prepared), prepared
        assert (prepared.args.price, prepared.args.size) == (Decimal("0.4"), Decimal(1))  # type: ignore[attr-defined]
    assert isinstance(box.prepare("check_freshness", {"slug": "btc-up", "max_age_s": 30}), Prepared)
