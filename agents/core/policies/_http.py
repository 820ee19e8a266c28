"""Shared retry loop for the model providers' HTTP modules (each owns its client and timeouts)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from agents.core.policies.base import PolicyError

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
MAX_RETRY_AFTER_S = 10.0


def post_json(client: httpx.Client, url: str, *, headers: Mapping[str, str], body: dict[str, Any], retries: int,
              sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """POST and return the JSON reply; retry transient failures with backoff; PolicyError otherwise."""
    for attempt in range(retries + 1):
        last = attempt == retries
        try:
            resp = client.post(url, headers=dict(headers), json=body)
        except httpx.TransportError as exc:
            if last:
                raise PolicyError(f"POST {url} failed: {type(exc).__name__}: {exc}") from exc
            sleep(_backoff(attempt, None))
            continue
        if resp.status_code in RETRY_STATUS and not last:
            sleep(_backoff(attempt, resp.headers.get("retry-after")))
            continue
        return _decode(url, resp)
    raise AssertionError("unreachable")  # pragma: no cover


def _decode(url: str, resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code >= 400:
        raise PolicyError(f"POST {url} returned {resp.status_code}: {resp.text[:500]}")
    try:
        data = resp.json()
    except ValueError as exc:
        raise PolicyError(f"POST {url} returned non-JSON: {resp.text[:200]}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"POST {url} returned a JSON {type(data).__name__}, expected an object")
    return data


def _backoff(attempt: int, retry_after: str | None) -> float:
    if retry_after:
        try:
            return min(float(retry_after), MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    return min(0.5 * 2**attempt, MAX_RETRY_AFTER_S)


def make_client(*, timeout_s: float, transport: httpx.BaseTransport | None) -> httpx.Client:
    # No redirects: an API key must never follow a redirect to another host.
    return httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)), transport=transport,
                        follow_redirects=False)


class HttpPolicy:
    """What both model-provider policies share: the frozen model, sampling settings, one client."""

    kind = ""
    billable = True

    def __init__(self, *, base_url: str, model: str, api_key: str, temperature: float = 0.0, seed: int | None = None,
                 max_tokens: int | None = 1024, timeout_s: float = 60.0, retries: int = 2,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        from agents.core.spec import check_model_frozen

        self.model = check_model_frozen(model)
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.retries = retries
        self._sleep = sleep
        self._client = make_client(timeout_s=timeout_s, transport=transport)

    def _post(self, path: str, headers: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return post_json(self._client, f"{self.base_url}{path}", headers=headers, body=body, retries=self.retries,
                         sleep=self._sleep)
