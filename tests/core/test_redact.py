"""Secrets never reach a trace: each key shape, env values, keys and nested values."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from agents.core.redact import Redactor

SECRETS = {
    "openai_key": "sk-proj-AbCdEf0123456789AbCdEf0123456789",
    "anthropic_key": "sk-ant-api03-AbCdEf0123456789_AbCdEf-0123",
    "aws_key": "AKIAIOSFODNN7EXAMPLE",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "private_key": "0x" + "ab12" * 16,
}


@pytest.mark.parametrize(("kind", "secret"), SECRETS.items())
def test_it_redacts_each_key_shape(kind: str, secret: str) -> None:
    out = Redactor().redact({"msg": f"using {secret} now", "nested": [{"deep": secret}]})
    assert secret not in str(out)
    assert out["msg"] == f"using [REDACTED:{kind}] now" and out["nested"][0]["deep"] == f"[REDACTED:{kind}]"


def test_it_redacts_bearer_tokens() -> None:
    out = Redactor().redact({"headers": "Authorization: Bearer abc.DEF-123_xyz=="})
    assert "abc.DEF" not in out["headers"] and "[REDACTED:bearer]" in out["headers"]


def test_it_redacts_configured_env_values_in_keys_and_values() -> None:
    env = {"VENUE_TOKEN": "plain-looking-value-42", "SHORT": "abc", "UNLISTED": "not-a-secret-at-all"}
    r = Redactor(["VENUE_TOKEN", "SHORT", "MISSING"], environ=env)
    out = r.redact({"plain-looking-value-42": ["x plain-looking-value-42 y"], "s": "abc", "u": "not-a-secret-at-all"})
    assert out == {"[REDACTED:env]": ["x [REDACTED:env] y"], "s": "abc", "u": "not-a-secret-at-all"}


def test_it_redacts_values_under_secret_key_names_and_numeric_env_secrets() -> None:
    r = Redactor(["PIN"], environ={"PIN": "98765432"})
    out = r.redact({"api_key": "whatever", "Authorization": "x", "password": 12, "max_tokens": 5, "n": 98765432})
    assert out == {"api_key": "[REDACTED:key_name]", "Authorization": "[REDACTED:key_name]",
                   "password": "[REDACTED:key_name]", "max_tokens": 5, "n": "[REDACTED:env]"}


def test_it_turns_money_into_strings_and_keeps_the_rest() -> None:
    out = Redactor().redact({"px": Decimal("0.415"), "t": (1, 2), "ok": None})
    assert out == {"px": "0.415", "t": [1, 2], "ok": None}


# ------------------------------------------------------------------------------------ encoded forms

VENUE_KEY = "lmts_9f8e7d6c5b4a39281706"


def _encoded(secret: str) -> dict[str, tuple[str, str]]:
    """name: (the secret so encoded, the mask it gets)."""
    raw = secret.encode()
    return {
        "base64": (base64.b64encode(raw).decode(), "env:base64"),
        "base64 in a blob": (base64.b64encode(b'{"k": "' + raw + b'"}').decode(), "env:base64"),
        "urlsafe base64": (base64.urlsafe_b64encode(b"\xfb" + raw).decode().rstrip("="), "env:base64"),
        "base32": (base64.b32encode(raw).decode().lower(), "env:base32"),
        "hex": (raw.hex().upper(), "env:hex"),
        "url": ("".join(f"%{b:02x}" for b in raw), "env:url"),
        "reversed": (secret[::-1], "env:reversed"),
        "split by zero-width spaces": ("\u200b".join(secret), "env"),
        "split by spaces": (" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), "env"),
    }


@pytest.mark.parametrize("form", _encoded(VENUE_KEY))
def test_it_masks_a_configured_value_in_every_encoded_form(form: str) -> None:
    sent, kind = _encoded(VENUE_KEY)[form]
    out = Redactor(["LIMITLESS_API_KEY"], environ={"LIMITLESS_API_KEY": VENUE_KEY}).redact({"msg": f"see {sent} end"})
    assert out == {"msg": f"see [REDACTED:{kind}] end"}


def test_it_names_the_encoding_in_the_mask_and_reads_a_rotated_value_at_once() -> None:
    env = {"K": VENUE_KEY}
    r = Redactor(["K"], environ=env)
    assert r.text(VENUE_KEY.encode().hex()) == "[REDACTED:env:hex]"
    assert r.text(VENUE_KEY[::-1]) == "[REDACTED:env:reversed]"
    env["K"] = "rotated-value-0123456789"
    assert r.text(VENUE_KEY) == VENUE_KEY and r.text("rotated-value-0123456789") == "[REDACTED:env]"


def test_it_masks_an_encoded_secret_in_keys_and_numbers_too() -> None:
    r = Redactor(["K", "PIN"], environ={"K": VENUE_KEY, "PIN": "98765432"})
    out = r.redact({base64.b64encode(VENUE_KEY.encode()).decode(): 1, "n": 23456789, "m": 1234})
    assert out == {"[REDACTED:env:base64]": 1, "n": "[REDACTED:env]", "m": 1234}  # n: the PIN reversed


@pytest.mark.parametrize("end", ["\n-----END RSA PRIVATE KEY-----", ""])
def test_it_masks_a_pem_private_key_block_whole(end: str) -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq98\nqLkN0Zr3tU" + end
    out = Redactor().redact({"text": f"key:\n{block}"})
    assert out == {"text": "key:\n[REDACTED:pem_private_key]"}


def test_it_leaves_words_that_merely_contain_sk_alone() -> None:
    slugs = ["will-elon-musk-tweet-about-dogecoin-2026", "risk-of-recession-in-2026-q4", "task-force-report-2026"]
    assert Redactor().redact(slugs) == slugs
    assert Redactor().text("key:sk-proj-AbCdEf0123456789AbCd") == "key:[REDACTED:openai_key]"
