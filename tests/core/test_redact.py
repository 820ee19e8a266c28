"""Secrets never reach a trace: each key shape, env values, keys and nested values."""

from __future__ import annotations

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
