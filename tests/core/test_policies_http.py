"""OpenAI-compatible and Anthropic policies against local fake servers on a real socket."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import uuid
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from agents.core.policies import AnthropicPolicy, OpenAIPolicy, _http
from agents.core.policies._http import backoff, quiet_sdk_loggers
from agents.core.policies.base import Message, PolicyContext, PolicyError, PolicyStep

from .conftest import Harness, demo_spec
from .fake_llm import anthropic_reply, openai_reply, serve

KEY = "sk-test-OPENAIFAKE0123456789abcdef"
ANT_KEY = "sk-ant-test-FAKE0123456789abcdef"
OA_MODEL = "gpt-4o-2024-08-06"
ANT_MODEL = "claude-3-5-sonnet-20241022"
PRICES = {OA_MODEL: (Decimal("2.5"), Decimal("10")), ANT_MODEL: (Decimal("3"), Decimal("15"))}


def test_it_runs_a_tool_calling_round_trip_over_the_openai_wire(h: Harness) -> None:
    with serve(openai_reply) as srv:
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, temperature=0.2, seed=42)
        result = h.run(demo_spec(policy="openai", model=OA_MODEL), policy, prices=PRICES)
    assert result.outcome == "completed" and result.final_message == "balance seen: True"
    assert (result.steps, result.tool_calls, result.tokens_in, result.tokens_out) == (2, 1, 240, 60)
    assert result.cost_usd == Decimal("0.0012") and len(result.model_latencies_ms) == 2
    first, second = srv.requests
    assert first.path == "/v1/chat/completions" and first.headers["authorization"] == f"Bearer {KEY}"
    assert (first.body["model"], first.body["temperature"], first.body["seed"]) == (OA_MODEL, 0.2, 42)
    assert first.body["tools"][0]["type"] == "function" and "parameters" in first.body["tools"][0]["function"]
    assistant, tool = second.body["messages"][-2:]
    assert assistant["tool_calls"][0] == {"id": "call_abc", "type": "function",
                                          "function": {"name": "get_balance", "arguments": "{}"}}
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_abc"
    assert json.loads(tool["content"])["result"]["available"] == "1000"
    request = h.events("model_request")[0]["data"]
    assert (request["temperature"], request["seed"], request["model"]) == (0.2, 42, OA_MODEL)


def test_it_runs_a_tool_use_round_trip_over_the_anthropic_wire(h: Harness) -> None:
    with serve(anthropic_reply) as srv:
        policy = AnthropicPolicy(base_url=srv.url, model=ANT_MODEL, api_key=ANT_KEY, seed=7)
        result = h.run(demo_spec(policy="anthropic", model=ANT_MODEL), policy, prices=PRICES)
    assert result.outcome == "completed" and result.final_message == "balance seen: True"
    assert (result.tokens_in, result.tokens_out, result.cost_usd) == (400, 100, Decimal("0.0027"))
    first, second = srv.requests
    assert first.path == "/v1/messages"
    assert first.headers["x-api-key"] == ANT_KEY and first.headers["anthropic-version"] == "2023-06-01"
    assert "untrusted data" in first.body["system"] and "seed" not in first.body
    assert {"name", "description", "input_schema"} == set(first.body["tools"][0])
    roles = [m["role"] for m in second.body["messages"]]
    assert roles == ["user", "assistant", "user"]  # strictly alternating
    assert second.body["messages"][1]["content"][1] == {"type": "tool_use", "id": "toolu_01",
                                                        "name": "get_balance", "input": {}}
    result_block = second.body["messages"][2]["content"][0]
    assert result_block["type"] == "tool_result" and result_block["tool_use_id"] == "toolu_01"
    assert h.events("run_start")[0]["data"]["seed"] == 7  # recorded though not sent


def test_it_retries_transient_errors_then_succeeds() -> None:
    sleeps: list[float] = []
    with serve(openai_reply) as srv:
        srv.fail_first = [(503, "{}"), (429, "{}")]
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, retries=2, sleep=sleeps.append)
        step = policy.next_step(PolicyContext(messages=[Message("user", "hi")], tools=[], step=0, now=None))
    assert step.tool_calls[0].name == "get_balance" and len(srv.requests) == 3 and sleeps == [0.5, 1.0]


def test_it_ends_the_run_cleanly_on_an_auth_error_without_leaking_the_key(h: Harness) -> None:
    with serve(openai_reply) as srv:
        srv.fail_first = [(401, json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}}))]
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, retries=0)
        result = h.run(demo_spec(policy="openai", model=OA_MODEL), policy, prices=PRICES)
    assert result.outcome == "error" and "401" in result.halt_reason
    assert KEY not in json.dumps(h.recorder.events) and "[REDACTED:openai_key]" in json.dumps(h.recorder.events)


def test_it_rejects_malformed_replies_and_aliases() -> None:
    def no_usage(body: dict) -> dict:
        reply = openai_reply(body)
        del reply["usage"]
        return reply

    with serve(no_usage) as srv:
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, retries=0)
        with pytest.raises(PolicyError, match="usage"):
            policy.next_step(PolicyContext(messages=[Message("user", "hi")], tools=[], step=0, now=None))
    with pytest.raises(ValueError, match="alias"):
        AnthropicPolicy(model="claude-3-5-sonnet-latest", api_key="x")


def test_it_accepts_an_injected_transport() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=openai_reply(json.loads(request.content)))

    policy = OpenAIPolicy(base_url="http://model.invalid/v1", model=OA_MODEL, api_key=KEY,
                          transport=httpx.MockTransport(handler))
    step = policy.next_step(PolicyContext(messages=[Message("user", "hi")], tools=[], step=0, now=None))
    assert step.usage.input_tokens == 120


def test_it_builds_the_policy_the_spec_names() -> None:
    from agents.core.policies import RulesPolicy, build_policy

    rules = build_policy(demo_spec(seed=3))
    assert isinstance(rules, RulesPolicy) and (rules.seed, rules.model) == (3, "rules-v1")
    oa = build_policy(demo_spec(policy="openai", model=OA_MODEL, temperature=0.3), api_key=KEY, base_url="http://x/v1")
    assert isinstance(oa, OpenAIPolicy) and (oa.model, oa.temperature, oa.base_url) == (OA_MODEL, 0.3, "http://x/v1")
    with pytest.raises(ValueError, match="API key"):
        build_policy(demo_spec(policy="anthropic", model=ANT_MODEL))


def ask(policy: OpenAIPolicy | AnthropicPolicy) -> PolicyStep:
    return policy.next_step(PolicyContext(messages=[Message("user", "hi")], tools=[], step=0, now=None))


def make(provider: str, base_url: str, **kw: Any) -> OpenAIPolicy | AnthropicPolicy:
    """A policy of either provider at `base_url`, the fake server's root (the OpenAI wire adds its /v1)."""
    if provider == "openai":
        return OpenAIPolicy(base_url=base_url + "/v1", model=OA_MODEL, api_key=KEY, **kw)
    return AnthropicPolicy(base_url=base_url, model=ANT_MODEL, api_key=ANT_KEY, **kw)


REPLIES = {"openai": openai_reply, "anthropic": anthropic_reply}


def test_it_retries_anthropic_overloaded_honouring_retry_after_capped() -> None:
    sleeps: list[float] = []
    overloaded = json.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    with serve(anthropic_reply) as srv:
        srv.fail_first = [(529, overloaded, {"retry-after": "3"}), (529, overloaded, {"retry-after": "120"})]
        step = ask(make("anthropic", srv.url, retries=2, sleep=sleeps.append))
    assert step.tool_calls[0].name == "get_balance" and step.usage.input_tokens == 200
    assert sleeps == [3.0, 10.0] and len(srv.requests) == 3  # the server's 3 s, then its 120 s capped at 10


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_it_keeps_the_sdks_own_retries_off(provider: str) -> None:
    sleeps: list[float] = []
    with serve(REPLIES[provider]) as srv:
        srv.fail_first = [(503, "{}")] * 10
        with pytest.raises(PolicyError, match="returned 503"):
            ask(make(provider, srv.url, retries=2, sleep=sleeps.append))
    assert len(srv.requests) == 3 and sleeps == [0.5, 1.0]  # ours: retries + 1 attempts, our waits only
    assert {r.headers["x-stainless-retry-count"] for r in srv.requests} == {"0"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_it_gives_up_with_a_policy_error_when_the_connection_is_refused(provider: str) -> None:
    sleeps: list[float] = []
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused, and no one else gets it
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        with pytest.raises(PolicyError, match="ConnectError") as caught:
            ask(make(provider, url, retries=2, sleep=sleeps.append))
    assert sleeps == [0.5, 1.0] and url in str(caught.value)


def test_it_retries_a_read_timeout_as_transient() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=openai_reply(json.loads(request.content)))

    sleeps: list[float] = []
    policy = OpenAIPolicy(base_url="http://model.invalid/v1", model=OA_MODEL, api_key=KEY,
                          transport=httpx.MockTransport(handler), sleep=sleeps.append)
    assert ask(policy).usage.output_tokens == 30 and len(calls) == 2 and sleeps == [0.5]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("status", [302, 307])
def test_it_never_follows_a_redirect_so_the_key_stays_home(provider: str, status: int) -> None:
    with serve(REPLIES[provider]) as elsewhere, serve(REPLIES[provider]) as srv:
        path = "/v1/chat/completions" if provider == "openai" else "/v1/messages"
        srv.fail_first = [(status, "{}", {"location": elsewhere.url + path})]
        with pytest.raises(PolicyError, match=f"returned {status}"):
            ask(make(provider, srv.url, retries=2, sleep=lambda s: None))
    assert len(srv.requests) == 1 and elsewhere.requests == []  # not retried, and nothing reached the other host


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_it_fails_closed_on_a_reply_without_usage(provider: str) -> None:
    def no_usage(body: dict) -> dict:
        reply = REPLIES[provider](body)
        del reply["usage"]
        return reply

    with serve(no_usage) as srv, pytest.raises(PolicyError, match="usage"):
        ask(make(provider, srv.url, retries=2))
    assert len(srv.requests) == 1  # a malformed reply is not transient


def test_it_speaks_through_the_official_clients() -> None:
    import anthropic
    import openai

    with serve(openai_reply) as oa, serve(anthropic_reply) as ant:
        ask(make("openai", oa.url))
        ask(make("anthropic", ant.url))
    (oa_seen,), (ant_seen,) = oa.requests, ant.requests
    assert oa_seen.headers["user-agent"] == f"OpenAI/Python {openai.__version__}"
    assert ant_seen.headers["user-agent"] == f"Anthropic/Python {anthropic.__version__}"
    assert oa_seen.headers["x-stainless-lang"] == ant_seen.headers["x-stainless-lang"] == "python"
    assert ant_seen.headers["anthropic-version"] == "2023-06-01" and ant_seen.headers["x-api-key"] == ANT_KEY


@pytest.mark.parametrize("base", ["/openai/v1", "/openai/v1/"])
def test_it_reaches_an_openai_compatible_server_under_a_path_prefix(base: str) -> None:
    with serve(openai_reply) as srv:
        policy = OpenAIPolicy(base_url=srv.url + base, model="llama-3.1-8b-instruct-q4-v1", api_key="local-key")
        step = ask(policy)
    assert step.tool_calls[0].id == "call_abc" and [r.path for r in srv.requests] == ["/openai/v1/chat/completions"]
    assert srv.requests[0].headers["authorization"] == "Bearer local-key"


def test_it_refuses_an_empty_api_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        OpenAIPolicy(base_url="http://x/v1", model=OA_MODEL, api_key="")


@pytest.mark.parametrize(("header", "wait"), [("2.5", 2.5), ("0", 0.0), ("-5", 0.0), ("600", 10.0), ("nan", 0.5),
                                              ("inf", 0.5), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.5), (None, 0.5)])
def test_it_reads_retry_after_as_bounded_seconds(header: str | None, wait: float) -> None:
    assert backoff(0, header) == wait


def test_it_takes_keys_and_urls_from_its_arguments_not_the_sdks_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/elsewhere")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/elsewhere")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "ambient-token-0123456789")
    with serve(openai_reply) as oa, serve(anthropic_reply) as ant:
        ask(make("openai", oa.url))
        ask(make("anthropic", ant.url))
    assert oa.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert ant.requests[0].headers["x-api-key"] == ANT_KEY
    assert "authorization" not in ant.requests[0].headers  # the ambient token was not sent beside our key


@pytest.mark.parametrize("name", ["Authorization", "authorization"])
def test_openai_sends_our_key_alone_whatever_the_sdks_environment_adds(monkeypatch: pytest.MonkeyPatch,
                                                                        name: str) -> None:
    # The SDK merges OPENAI_CUSTOM_HEADERS after its auth header: same case replaced our key, lower case doubled it.
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", f"{name}: Bearer sk-AMBIENT\nX-Ambient: 1")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-ambient")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_ambient")
    with serve(openai_reply) as srv:
        ask(make("openai", srv.url))
    (seen,) = srv.requests
    assert seen.all("authorization") == [f"Bearer {KEY}"]
    assert not {"openai-organization", "openai-project", "x-ambient"} & set(seen.headers)  # not even to a local vLLM


@pytest.mark.parametrize("name", ["X-Api-Key", "x-api-key"])
def test_anthropic_sends_our_key_alone_whatever_the_sdks_environment_adds(monkeypatch: pytest.MonkeyPatch,
                                                                           name: str) -> None:
    headers = [f"{name}: sk-ant-AMBIENT", "Authorization: Bearer ambient", "anthropic-version: 2099-01-01",
               "X-Ambient: 1"]
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", "\n".join(headers))
    with serve(anthropic_reply) as srv:
        ask(make("anthropic", srv.url))
    (seen,) = srv.requests
    assert seen.all("x-api-key") == [ANT_KEY] and seen.all("authorization") == []
    assert seen.all("anthropic-version") == ["2023-06-01"] and "x-ambient" not in seen.headers


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_it_sends_to_a_loopback_http_server_directly_never_through_the_proxy(monkeypatch: pytest.MonkeyPatch,
                                                                             provider: str) -> None:
    with serve(REPLIES[provider]) as proxy, serve(REPLIES[provider]) as srv:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        ask(make(provider, srv.url, retries=0))
    assert len(srv.requests) == 1 and proxy.requests == []  # the key never went, in cleartext, to the proxy


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_it_still_goes_through_the_proxy_for_https(monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    with serve(REPLIES[provider]) as proxy:
        for name in ("HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        with pytest.raises(PolicyError):  # the fake proxy refuses the tunnel
            ask(make(provider, "https://model.invalid", retries=0))
    (seen,) = proxy.requests
    assert (seen.method, seen.path) == ("CONNECT", "model.invalid:443")  # a tunnel: the proxy never sees the key
    assert KEY not in str(seen.header_lines) and ANT_KEY not in str(seen.header_lines)


LOG_PROBE = textwrap.dedent("""
    import logging, sys
    import django
    django.setup()
    from agents.core.policies import AnthropicPolicy, OpenAIPolicy
    from agents.core.policies.base import Message, PolicyContext
    from tests.core.fake_llm import anthropic_reply, openai_reply, serve
    ctx = PolicyContext(messages=[Message("user", sys.argv[1])], tools=[], step=0, now=None)
    with serve(openai_reply) as oa, serve(anthropic_reply) as ant:
        OpenAIPolicy(base_url=oa.url + "/v1", model="gpt-4o-2024-08-06", api_key="sk-probe-01").next_step(ctx)
        AnthropicPolicy(base_url=ant.url, model="claude-3-5-sonnet-20241022", api_key="sk-ant-probe-01").next_step(ctx)
    levels = (logging.getLogger(n).getEffectiveLevel() for n in ("openai", "anthropic", "httpx"))
    print(" ".join(logging.getLevelName(level) for level in levels))
""")


def test_the_sdks_log_switches_do_not_log_the_conversation() -> None:
    # A fresh process: OPENAI_LOG / ANTHROPIC_LOG act when the SDK is first imported, which in this process
    # may already have happened. Django's settings have configured the loggers by then, as in a worker.
    marker = f"conversation-marker-{uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY") and not k.endswith("_proxy")}
    env |= {"DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true", "OPENAI_LOG": "debug",
            "ANTHROPIC_LOG": "debug", "LOG_LEVEL": "DEBUG", "PYTHONPATH": str(Path(settings.BASE_DIR))}
    done = subprocess.run([sys.executable, "-c", LOG_PROBE, marker], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    assert marker not in done.stderr and marker not in done.stdout
    assert done.stdout.split() == ["WARNING", "WARNING", "WARNING"]  # openai, anthropic, httpx


def test_it_only_ever_raises_a_logger_to_warning() -> None:
    lenient, strict, unset = (f"academy-test-{uuid.uuid4().hex}" for _ in range(3))
    logging.getLogger(lenient).setLevel(logging.DEBUG)
    logging.getLogger(strict).setLevel(logging.ERROR)
    logging.getLogger(unset).parent = logging.getLogger(lenient)  # NOTSET, inheriting DEBUG
    quiet_sdk_loggers(lenient, strict, unset)
    assert [logging.getLogger(n).getEffectiveLevel() for n in (lenient, strict, unset)] == [
        logging.WARNING, logging.ERROR, logging.WARNING]


def test_it_logs_an_sdk_deprecation_warning_once_and_never_raises_it(monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(_http, "_warned", set())  # once per process: forget what other tests logged
    caplog.set_level(logging.WARNING, logger="academy.policies")
    with serve(anthropic_reply) as srv, warnings.catch_warnings():
        warnings.simplefilter("error")  # as under `python -W error`: a warning that escaped would raise here
        policy = AnthropicPolicy(base_url=srv.url, model="claude-3-5-haiku-20241022", api_key=ANT_KEY)
        first, second = ask(policy), ask(policy)
    assert first.tool_calls[0].name == second.tool_calls[0].name == "get_balance" and len(srv.requests) == 2
    logged = [r for r in caplog.records if r.name == "academy.policies"]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    assert "claude-3-5-haiku-20241022" in logged[0].getMessage() and "deprecated" in logged[0].getMessage()
