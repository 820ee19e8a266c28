"""The strict parser on its own (agents/venue/strict.py): numbers, identifiers, JSON caps."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from agents.core.orders import client_order_id
from agents.venue.strict import (
    InvalidInput,
    TooLarge,
    clean_text,
    load_json,
    parse_decimal,
    parse_identifier,
    parse_int,
    parse_slug,
)
from paper_venue.engine import demo_market_states

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", ["0", "-0", "10", "0.5", "-12.25", "007", "0." + "0" * 60 + "1"])
def test_it_reads_plain_ascii_decimals(text: str) -> None:
    assert parse_decimal(text, "price") == Decimal(text)


@pytest.mark.parametrize("value", ["1_0", "١٠", "１０", "۱۰", "१०", "1e3", "1E-3", " 10", "10 ", "10\n", "+1", ".5",
                                   "5.", "NaN", "sNaN", "Infinity", "-inf", "", "-", "1.2.3", "0x1f", "1" * 65,
                                   True, False, None, [], float("nan"), float("inf"), Decimal("NaN"), 10**40])
def test_it_refuses_everything_else_naming_the_field(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_decimal(value, "size")
    assert caught.value.field == "size" and str(caught.value).startswith("size: ")


def test_it_parses_integers_from_ascii_digits_only() -> None:
    assert parse_int("42", "limit", low=1, high=100) == 42 and parse_int(7, "n", low=1, high=9) == 7
    for value in ("4_2", "٤٢", "²", " 42", "42\n", "4e1", "", "101", True, 4.0, "9" * 5000):
        with pytest.raises(InvalidInput, match="^limit: "):
            parse_int(value, "limit", low=1, high=100)


def test_it_accepts_every_identifier_academy_generates() -> None:
    slugs = [m.slug for m in demo_market_states(0.0)]
    ids = [client_order_id("12-1764653400000000", 3, 4), "sim-maker-1-1234", "ord_0000000001", "ws_0123abcd"]
    ids += [f"flat-20261202053000-{slug}-{outcome}"[:128] for slug in slugs for outcome in ("YES", "NO")]
    assert [parse_identifier(i, "client_order_id") for i in ids] == ids
    assert [parse_slug(s, "market") for s in slugs] == slugs


@pytest.mark.parametrize("value", ["a\x00", "a\u202eb", "a\u200b", "é", "a b", "a/b", "", "x" * 129, 5, None])
def test_it_refuses_identifiers_outside_the_alphabet(value: object) -> None:
    with pytest.raises(InvalidInput, match="^client_order_id: "):
        parse_identifier(value, "client_order_id")


def test_it_counts_depth_outside_strings_only() -> None:
    assert load_json('{"a": "[[[[[[[[\\"{{{{{{{{\\\\"}', max_bytes=100, max_depth=1) == {"a": '[[[[[[[["{{{{{{{{\\'}
    assert load_json("[" * 5 + "]" * 5, max_bytes=100, max_depth=5) == [[[[[]]]]]
    with pytest.raises(InvalidInput, match="^doc: is nested deeper than 4 levels"):
        load_json("[" * 5 + "]" * 5, max_bytes=100, max_depth=4, field="doc")


def test_it_refuses_a_100k_level_document_without_recursing() -> None:
    """With the recursion limit at 60, json.loads itself could not go 60 levels deep: the depth
    scan must refuse the document before the parser ever sees it."""
    code = ("import sys; from agents.venue.strict import load_json, InvalidInput\n"
            "sys.setrecursionlimit(60)\n"
            "try:\n    load_json('[' * 100_000 + ']' * 100_000, max_bytes=10**6)\n"
            "except InvalidInput as exc:\n    print(exc)\n")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "body: is nested deeper than 32 levels", (out.stdout, out.stderr)


def test_it_caps_size_and_refuses_what_cannot_be_stored() -> None:
    with pytest.raises(TooLarge, match="^body: is too large"):
        load_json(b"[" + b"1," * 100 + b"1]", max_bytes=100)
    for raw, message in ((b"\xff{}", "is not UTF-8"), ("\ufeff{}", "is not valid JSON"), ("[NaN]", "NaN"),
                         ("[1" + "0" * 50 + "]", "more than 40 digits"), ('["\\udc00"]', "surrogate")):  # fmt: skip
        with pytest.raises(InvalidInput, match=message):
            load_json(raw, max_bytes=1000)
    data = load_json('{"p": 0.5, "n": 3, "e": 1e3, "emoji": "\\ud83d\\ude00"}', max_bytes=1000)
    assert data["p"] == Decimal("0.5") and type(data["p"]) is Decimal and data["n"] == 3 and data["emoji"] == "😀"
    with pytest.raises(InvalidInput, match="^e: must be a plain decimal"):
        parse_decimal(data["e"], "e")


def test_it_removes_control_characters_from_free_text() -> None:
    assert clean_text("a\x00b\x1bc\td\ne\x7f", max_chars=100) == "abc\td\ne"
    assert clean_text("x" * 10, max_chars=3) == "xxx"
