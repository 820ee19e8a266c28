"""What the model-provider policies share: our httpx client, our retry loop around the official SDKs' calls.

The official `openai` and `anthropic` clients write the requests; we keep the rest. Their own retries are off
(max_retries=0) so the number of attempts and every wait stay ours and go through the injectable `sleep`;
they send through our httpx client (no redirects, our timeouts, an injectable transport); and we validate the
raw reply JSON ourselves, because the SDKs' reply objects accept a reply without `usage`, which would leave
the token budget unenforceable.

What the SDKs would otherwise take from the process environment is taken back here or in each policy's `_connect`:
their custom-header, organization and project variables (dropped), their *_LOG switch (loggers raised back to
WARNING), and proxy variables for a plain-http loopback base URL (ignored).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from agents.core.policies.base import PolicyError

log = logging.getLogger("academy.policies")

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
MAX_RETRY_AFTER_S = 10.0


@dataclass(frozen=True)
class SdkErrors:
    """One official client's exception classes (openai and anthropic name and shape them alike)."""

    base: type[Exception]  # OpenAIError / AnthropicError: anything else the SDK raises
    connection: type[Exception]  # APIConnectionError, and its subclass APITimeoutError: transient
    status: type[Exception]  # APIStatusError: a non-2xx reply, carrying `.response`


def call_with_retries(send: Callable[[], httpx.Response], *, errors: SdkErrors, retries: int,
                      sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Make one SDK call and return the reply's JSON; retry transient failures with backoff; PolicyError otherwise.

    1. A connection failure or timeout, or a status in RETRY_STATUS, is retried up to `retries` times.
    2. Any other non-2xx reply (a 302 included: redirects are never followed) ends with a PolicyError
       naming the status; the reply's text goes in the message for the operator (the loop redacts it).
    """
    for attempt in range(retries + 1):
        last = attempt == retries
        try:
            resp = send()
        except errors.connection as exc:
            if last:
                raise PolicyError(f"{_where(exc)} failed: {_cause(exc)}") from exc
            sleep(backoff(attempt, None))
            continue
        except errors.status as exc:
            resp = exc.response  # type: ignore[attr-defined]
            if resp.status_code in RETRY_STATUS and not last:
                sleep(backoff(attempt, resp.headers.get("retry-after")))
                continue
            raise PolicyError(f"{_where(exc)} returned {resp.status_code}: {resp.text[:500]}") from exc
        except errors.base as exc:
            raise PolicyError(f"model call failed: {type(exc).__name__}: {exc}") from exc
        return _decode(resp)
    raise AssertionError("unreachable")  # pragma: no cover


def _where(exc: Exception) -> str:
    request = getattr(exc, "request", None)
    return f"{request.method} {request.url}" if isinstance(request, httpx.Request) else "model call"


def _cause(exc: Exception) -> str:
    """The transport's own error (ConnectError, ReadTimeout...): the SDK's message alone says little."""
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}"


def _decode(resp: httpx.Response) -> dict[str, Any]:
    where = f"{resp.request.method} {resp.request.url}"
    try:
        data = resp.json()
    except ValueError as exc:
        raise PolicyError(f"{where} returned non-JSON: {resp.text[:200]}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{where} returned a JSON {type(data).__name__}, expected an object")
    return data


def backoff(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait: the server's Retry-After (in seconds) when it gives a usable one, else 0.5 * 2^n; at most 10."""
    if retry_after:
        try:
            wait = float(retry_after)
        except ValueError:
            wait = math.nan
        if math.isfinite(wait):
            return min(max(wait, 0.0), MAX_RETRY_AFTER_S)
    return min(0.5 * 2**attempt, MAX_RETRY_AFTER_S)


def make_timeout(timeout_s: float) -> httpx.Timeout:
    return httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))


def make_client(*, base_url: str, timeout: httpx.Timeout, transport: httpx.BaseTransport | None) -> httpx.Client:
    """Our httpx client for one base URL.

    No redirects: an API key must never follow a redirect to another host. Plain http is allowed only for loopback
    (settings refuse it elsewhere) because the key then never leaves the host; honouring HTTP_PROXY there would
    carry it, in cleartext, to the proxy. So the environment (proxies, certificate variables) is trusted only for
    https, where a corporate proxy in front of api.openai.com is legitimate and sees only a CONNECT tunnel.
    """
    trust_env = httpx.URL(base_url).scheme == "https"
    return httpx.Client(timeout=timeout, transport=transport, follow_redirects=False, trust_env=trust_env)


def quiet_sdk_loggers(*names: str) -> None:
    """Raise these loggers back to at least WARNING; never lower one an operator set stricter.

    At import the SDKs read OPENAI_LOG / ANTHROPIC_LOG and, for "debug" or "info", set their own logger and httpx's
    to that level, overriding the WARNING Django's LOGGING gave them: at DEBUG they log every request body, which
    is the whole conversation. The effective level is checked, so a logger left NOTSET under a verbose root is
    raised too.
    """
    for name in names:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


_warned: set[str] = set()
_warned_lock = threading.Lock()


def log_warnings_once(caught: list[warnings.WarningMessage]) -> None:
    """Log each distinct warning an SDK call raised, once per process, at WARNING on "academy.policies".

    The anthropic SDK warns (DeprecationWarning) when the model is deprecated. Python's default filters hide
    DeprecationWarning outside __main__, so operators would never see it; under `-W error` it would escape the
    policy as a raw exception. Logged instead, and never raised.
    """
    for w in caught:
        message = f"{w.category.__name__}: {w.message}"
        with _warned_lock:
            if message in _warned:
                continue
            _warned.add(message)
        log.warning("model SDK warning: %s", message)


class HttpPolicy:
    """What both model-provider policies share: the frozen model, sampling settings, one client."""

    kind = ""
    billable = True

    def __init__(self, *, base_url: str, model: str, api_key: str, temperature: float = 0.0, seed: int | None = None,
                 max_tokens: int | None = 1024, timeout_s: float = 60.0, retries: int = 2,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        from agents.core.spec import check_model_frozen

        self.model = check_model_frozen(model)
        if not api_key:  # refused here, not at the first call of a run (openai's client refuses it too)
            raise ValueError(f"policy {self.kind!r} needs an API key")
        self.base_url = base_url.rstrip("/")
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.retries = retries
        self._sleep = sleep
        self._timeout = make_timeout(timeout_s)
        self._http = make_client(base_url=self.base_url, timeout=self._timeout, transport=transport)
        self._errors = self._connect(api_key)

    def _connect(self, api_key: str) -> SdkErrors:
        """Build the official client on `self._http` (the key goes only there); return its exception classes."""
        raise NotImplementedError

    def _call(self, send: Callable[[], httpx.Response]) -> dict[str, Any]:
        # catch_warnings swaps process-wide state: a warning another thread raises meanwhile is caught and logged
        # here instead of shown, which loses nothing.
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                return call_with_retries(send, errors=self._errors, retries=self.retries, sleep=self._sleep)
        finally:
            log_warnings_once(caught)

    def close(self) -> None:
        self._http.close()
