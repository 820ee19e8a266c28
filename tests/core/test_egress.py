"""The egress filter (agents/core/egress.py) and the strict ids that keep secrets out of tool arguments.

Configured secret values are found plain and encoded (base64 at every alignment, base32, hex,
URL-encoded, reversed, split); secret shapes are found with no configured value; ordinary tool
arguments raise nothing; a Leak never carries the value.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from urllib.parse import quote

import pytest
from pydantic import ValidationError

from agents.core.egress import Leak, find_leaks, find_shapes, needle_set, needles_for, secret_values
from agents.core.tools import CancelAllArgs, GetMarketArgs, PlaceLimitOrderArgs
from agents.venue.strict import InvalidInput, parse_order_id
from agents.venue.strict import parse_agent_identifier as parse_identifier
from agents.venue.strict import parse_agent_slug as parse_slug
from paper_venue.engine import demo_market_states

VENUE_KEY = "lmts_9f8e7d6c5b4a39281706"
SECRETS = {
    "OPENAI_API_KEY": "sk-proj-AbCdEf0123456789AbCdEf0123456789",
    "LIMITLESS_API_KEY": VENUE_KEY,
    "LIMITLESS_PRIVATE_KEY": "0x" + "ab12" * 16,
    "DB_PASSWORD": "hunter2-correct/horse+battery=ok",
    "WEBHOOK_TOKEN": "Zx9Qw8Er7Ty6Ui5Op4As",
}
ORDINARY_ARGS = {
    "market": "btc-above-100k-2026-12-31", "side": "BUY", "price": "0.415", "size": "12.5", "outcome": "YES",
    "order_id": "3f2b6c1e-9a4d-4e7b-8c2a-1b2c3d4e5f60", "paper_order_id": "ord_0000000042",
    "client_order_id": "ac-" + "0123456789abcdef" * 2, "contract": "0x" + "a1b2c3d4e5" * 4,
    "slugs": ["will-elon-musk-tweet-about-dogecoin-2026", "risk-of-recession-in-2026", "lakers-beat-celtics"],
    "note": "Bearer bonds rally; the desk keeps 0.5 of its cash; see https://limitless.exchange/markets/btc-up",
    "limit": 20, "max_age_s": 30.0, "post_only": False, "category": None,
}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def forms_of(secret: str) -> dict[str, Callable[[], str]]:
    raw = secret.encode()
    return {
        "plain": lambda: secret,
        "base64": lambda: b64(raw),
        "base64 unpadded": lambda: b64(raw).rstrip("="),
        "urlsafe base64": lambda: base64.urlsafe_b64encode(b"\xfb\xff" + raw).decode(),  # '-' and '_' in it
        "base32": lambda: base64.b32encode(raw).decode(),
        "base32 lower": lambda: base64.b32encode(raw).decode().lower(),
        "hex lower": lambda: raw.hex(),
        "hex upper": lambda: raw.hex().upper(),
        "url every byte": lambda: "".join(f"%{b:02X}" for b in raw),
        "url every byte lower": lambda: "".join(f"%{b:02x}" for b in raw),
        "reversed": lambda: secret[::-1],
    }


EXPECTED_FORM = {"plain": "plain", "base64": "base64", "base64 unpadded": "base64", "urlsafe base64": "base64",
                 "base32": "base32", "base32 lower": "base32", "hex lower": "hex", "hex upper": "hex",
                 "url every byte": "url", "url every byte lower": "url", "reversed": "reversed"}


@pytest.mark.parametrize("form", EXPECTED_FORM)
@pytest.mark.parametrize("name", ["LIMITLESS_API_KEY", "DB_PASSWORD"])
def test_it_finds_a_configured_value_in_each_form_and_names_its_variable(name: str, form: str) -> None:
    sent = forms_of(SECRETS[name])[form]()
    leaks = find_leaks({"market": "btc-up", "client_order_id": f"x{sent}y"}, SECRETS)
    assert Leak(name, "args.client_order_id", EXPECTED_FORM[form]) in leaks
    assert {leak.name for leak in leaks} == {name}


@pytest.mark.parametrize("before", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("after", [0, 1, 2])
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["standard", "urlsafe"])
def test_it_finds_a_secret_inside_a_longer_base64_blob_at_every_alignment(before: int, after: int,
                                                                         encode: Callable[[bytes], bytes]) -> None:
    blob = encode(b"\xfe\xff\xfa\xfb\xfc\xfd"[:before] + b'{"key": "' + VENUE_KEY.encode() + b'"}' + b"\xff" * after)
    for text in (blob.decode(), blob.decode().rstrip("=")):
        assert find_leaks(f"here: {text}", SECRETS) == [Leak("LIMITLESS_API_KEY", "text", "base64")]


@pytest.mark.parametrize("before", [0, 1, 2])
def test_it_finds_urlsafe_base64_where_it_differs_from_standard_base64(before: int) -> None:
    secret = "k>>>?>~~~?key"  # its base64 has '+' and '/'
    raw = b"\xf0\xf1"[:before] + secret.encode()
    std, safe = b64(raw), base64.urlsafe_b64encode(raw).decode()
    assert std != safe and ("+" in std or "/" in std)
    for sent in (std, safe, safe.rstrip("=")):
        assert find_leaks(sent, {"K": secret}) == [Leak("K", "text", "base64")]


@pytest.mark.parametrize("before", range(5))
def test_it_finds_a_secret_inside_a_longer_base32_blob_at_every_alignment(before: int) -> None:
    blob = base64.b32encode(b"\x01\x02\x03\x04"[:before] + VENUE_KEY.encode() + b"\x09").decode()
    assert find_leaks(blob, SECRETS) == [Leak("LIMITLESS_API_KEY", "text", "base32")]
    assert find_leaks(blob.lower(), SECRETS) == [Leak("LIMITLESS_API_KEY", "text", "base32")]


def test_it_finds_a_value_url_encoded_with_only_its_reserved_characters_escaped() -> None:
    secret = SECRETS["DB_PASSWORD"]
    for sent in (quote(secret, safe=""), quote(secret), quote(secret, safe="").lower()):
        assert "%2B" in sent.upper() and sent != secret
        assert Leak("DB_PASSWORD", "args.q", "url") in find_leaks({"q": f"?p={sent}"}, SECRETS)


@pytest.mark.parametrize("sep", [" ", "\n", "\t", "\u200b", "\u2060", "\ufeff", "\u00ad", "\u200b \u200c", "-", "."])
def test_it_finds_a_value_split_by_whitespace_invisible_characters_or_punctuation(sep: str) -> None:
    split = sep.join(VENUE_KEY[i:i + 3] for i in range(0, len(VENUE_KEY), 3))
    assert find_leaks({"slug": split}, SECRETS) == [Leak("LIMITLESS_API_KEY", "args.slug", "plain")]
    hexed = sep.join(VENUE_KEY.encode().hex()[i:i + 8] for i in range(0, 2 * len(VENUE_KEY), 8))
    assert find_leaks({"slug": hexed}, SECRETS) == [Leak("LIMITLESS_API_KEY", "args.slug", "hex")]


def test_it_finds_a_hex_key_without_its_0x_in_any_case() -> None:
    bare = SECRETS["LIMITLESS_PRIVATE_KEY"][2:].upper()
    assert find_leaks({"note": bare}, SECRETS) == [Leak("LIMITLESS_PRIVATE_KEY", "args.note", "plain")]


SHAPES = {
    "openai_key": "sk-proj-Zq8Wx7Ec6Rv5Tb4Yn3Um2Ik1",
    "anthropic_key": "sk-ant-api03-Qa1Ws2Ed3Rf4Tg5Yh6Uj7-Ik8Ol9",
    "aws_key": "AKIAZ7QWERTYUIOPASDF",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer": "Bearer 9f8e7d6c5b4a3928170615",
    "private_key": "0x" + "5f3c9e1d" * 8,
    "pem_private_key": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\n"
                       "-----END EC PRIVATE KEY-----",
}


@pytest.mark.parametrize(("kind", "shape"), SHAPES.items())
def test_it_finds_each_secret_shape_with_no_value_configured(kind: str, shape: str) -> None:
    assert find_leaks({"reason": f"use {shape} now"}, {}) == [Leak(kind, "args.reason", "plain")]
    assert find_leaks(f"my answer: {shape}", {}) == [Leak(kind, "text", "plain")]


@pytest.mark.parametrize("kind", ["openai_key", "aws_key", "jwt", "private_key"])
def test_it_finds_a_shape_split_by_invisible_characters_or_inside_a_base64_or_hex_blob(kind: str) -> None:
    shape = SHAPES[kind]
    assert (kind, "plain") in find_shapes("\u200b".join(shape))
    assert (kind, "base64") in find_shapes(b64(b":" + shape.encode()))
    assert (kind, "hex") in find_shapes((" " + shape).encode().hex())


def test_it_raises_nothing_for_ordinary_tool_arguments_or_prose() -> None:
    assert find_leaks(ORDINARY_ARGS, SECRETS) == []
    prose = ("Placed a BUY of 10 YES on btc-above-100k-2026-12-31 at 0.42 (order 3f2b6c1e-9a4d-4e7b-8c2a-"
             "1b2c3d4e5f60); exchange 0x" + "a1b2c3d4e5" * 4 + ". SK Hynix (sk-hynix-memory-chips) and bearer "
             "instruments are off topic.")
    assert find_leaks(prose, SECRETS) == []
    assert find_leaks([m.description for m in demo_market_states(0.0)], SECRETS) == []


def test_it_never_puts_the_value_or_a_piece_of_it_in_a_leak() -> None:
    key = SECRETS["LIMITLESS_API_KEY"]
    leaks = find_leaks({key: b64(key.encode()), "nested": [{"deep": key[::-1]}, key.encode().hex()],
                        "shape": SHAPES["openai_key"]}, SECRETS)
    assert {(leak.name, leak.where, leak.form) for leak in leaks} == {
        ("LIMITLESS_API_KEY", "args.<key 0>", "plain"), ("LIMITLESS_API_KEY", "args.<key 0>", "base64"),
        ("LIMITLESS_API_KEY", "args.nested.0.deep", "reversed"), ("LIMITLESS_API_KEY", "args.nested.1", "hex"),
        ("openai_key", "args.shape", "plain"),
    }
    text = repr(leaks)
    for secret in (key, SHAPES["openai_key"]):
        pieces = {secret[i:i + 8] for i in range(len(secret) - 7)}
        assert not any(piece in text for piece in pieces)


def test_it_names_a_configured_key_once_and_an_unconfigured_one_by_its_shape() -> None:
    text = f"I saw {SECRETS['OPENAI_API_KEY']} and {SHAPES['openai_key']}"
    assert find_leaks(text, SECRETS) == [Leak("OPENAI_API_KEY", "text", "plain"), Leak("openai_key", "text", "plain")]
    assert find_leaks(SECRETS["OPENAI_API_KEY"], SECRETS) == [Leak("OPENAI_API_KEY", "text", "plain")]


def test_it_checks_numbers_and_names_list_positions() -> None:
    leaks = find_leaks({"orders": [{"market": "m"}, {"market": "m", "size": 98765432}]}, {"PIN": "98765432"})
    assert leaks == [Leak("PIN", "args.orders.1.size", "plain")]


def test_it_ignores_values_too_short_to_look_for_and_reads_values_from_the_environment() -> None:
    env = {"A": VENUE_KEY, "SHORT": "abc", "EMPTY": ""}
    assert secret_values(["A", "SHORT", "EMPTY", "MISSING"], env) == {"A": VENUE_KEY}
    assert find_leaks({"side": "abc"}, {"SHORT": "abc"}) == []


def test_it_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACADEMY_EGRESS_TEST_KEY", VENUE_KEY)
    assert secret_values(["ACADEMY_EGRESS_TEST_KEY"]) == {"ACADEMY_EGRESS_TEST_KEY": VENUE_KEY}


def test_it_builds_the_needles_once_per_set_of_values_and_checks_fast() -> None:
    items = tuple(sorted(SECRETS.items()))
    assert needle_set(items) is needle_set(items)
    assert all(len(n.text) >= 6 for v in SECRETS.values() for n in needles_for(v))
    find_leaks(ORDINARY_ARGS, SECRETS)  # warm: needles built, invisible-character class compiled
    args = {k: ORDINARY_ARGS[k] for k in ("market", "side", "price", "size", "outcome")}
    start = time.perf_counter()
    for _ in range(200):
        find_leaks(args, SECRETS)
    assert (time.perf_counter() - start) / 200 < 0.001


# ------------------------------------------------------------------------------------ strict ids

REAL_SLUGS = ["btc-above-100k-2026-12-31", "btc-above-dollar9761231-on-may-1-1000-utc-1746090000393", "7348",
              "will-elon-musk-tweet-about-dogecoin-2026", "risk-of-recession-in-2026", "m",
              *(m.slug for m in demo_market_states(0.0))]
SECRET_SLUGS = {
    "openai": "sk-proj-abcdefghij0123456789", "openai lowercased": SHAPES["openai_key"].lower(),
    "private key": SHAPES["private_key"], "address": "0x" + "a1b2c3d4e5" * 4, "0x short": "0x5f3c9e1d5f3c9e1d",
    "long run": "a" * 25, "long hex": "5f3c9e1d" * 6, "key inside": "btc-sk-proj-abcdefghij0123456789",
    "uppercase": "BTC-up", "underscore": "lmts_9f8e7d6c", "dot": "btc.up", "jwt": SHAPES["jwt"],
}


@pytest.mark.parametrize("slug", REAL_SLUGS)
def test_it_accepts_real_slugs(slug: str) -> None:
    assert parse_slug(slug, "slug") == slug
    assert GetMarketArgs.model_validate({"slug": slug}).slug == slug


@pytest.mark.parametrize("slug", SECRET_SLUGS.values(), ids=SECRET_SLUGS.keys())
def test_it_refuses_secret_shaped_slugs_without_echoing_them(slug: str) -> None:
    with pytest.raises(InvalidInput, match="^slug: ") as caught:
        parse_slug(slug, "slug")
    assert slug not in str(caught.value)
    order = {"side": "BUY", "price": "0.5", "size": "1"}
    for model, args in ((GetMarketArgs, {"slug": slug}), (PlaceLimitOrderArgs, {"market": slug, **order}),
                        (CancelAllArgs, {"market": slug})):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(args)
        assert [e["loc"] for e in refused.value.errors()] == [(next(iter(args)),)]
        assert all(slug not in e["msg"] for e in refused.value.errors())


@pytest.mark.parametrize("value", ["ac-" + "0123456789abcdef" * 2, "3f2b6c1e-9a4d-4e7b-8c2a-1b2c3d4e5f60",
                                   "ord_0000000001", "sim-maker-1-1234", "ws_0123abcd", "bidder-1",
                                   "flat-20261202053000-btc-above-100k-next-hour-YES", "fz"])
def test_it_accepts_the_identifiers_academy_and_the_venues_issue(value: str) -> None:
    assert parse_identifier(value, "client_order_id") == value


@pytest.mark.parametrize("value", [SHAPES["openai_key"], SHAPES["anthropic_key"], SHAPES["aws_key"], SHAPES["jwt"],
                                   SHAPES["private_key"], "0x" + "a1b2c3d4e5" * 4, "Zx9Qw8Er7Ty6Ui5Op4As",
                                   "ac-" + "0" * 41, "ord_" + "5f3c9e1d" * 6])
def test_it_refuses_secret_shaped_identifiers_without_echoing_them(value: str) -> None:
    with pytest.raises(InvalidInput, match="^order_id: looks like a key") as caught:
        parse_identifier(value, "order_id")
    assert value not in str(caught.value)


def test_it_takes_order_ids_only_as_the_venues_issue_them() -> None:
    for good in ("3f2b6c1e-9a4d-4e7b-8c2a-1b2c3d4e5f60", "ord_0000000001", "ord_7"):
        assert parse_order_id(good, "order_id") == good
    for bad in ("3F2B6C1E-9A4D-4E7B-8C2A-1B2C3D4E5F60", "xyz", "ord_-1", "ord_12a", SHAPES["openai_key"],
                "3f2b6c1e-9a4d-4e7b-8c2a-1b2c3d4e5f60-" + "ab12" * 8):
        with pytest.raises(InvalidInput, match="^order_id: ") as caught:
            parse_order_id(bad, "order_id")
        assert bad not in str(caught.value)


def test_it_strips_text_to_its_ascii_letters_and_digits_as_the_regex_did():
    import random
    import re

    from agents.core.egress import _alnum_only

    regex = re.compile(r"[^0-9A-Za-z]+")
    rng = random.Random(15)
    for _ in range(5000):  # ASCII, other planes, lone surrogates (a model may emit them)
        text = "".join(chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0x80, 0x3000),
                                       rng.randrange(0xD800, 0xE000), rng.randrange(0x10000, 0x110000)]))
                       for _ in range(rng.randrange(0, 40)))
        assert _alnum_only(text) == regex.sub("", text), repr(text)
