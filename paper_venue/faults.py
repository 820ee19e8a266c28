"""Fault injection for the paper venue: the in-process state, the HTTP middleware and a test helper.

The service owns one `FaultState`; `FaultMiddleware` applies its HTTP faults to every
request except /healthz and /_faults/*. `Faults(base_url, token)` is the Python helper
tests use to drive the /_faults control API of a running venue (see docs/venue.md).
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

FAULTS_HEADER = "X-Faults-Token"
EXEMPT_PREFIXES = ("/_faults", "/healthz")


@dataclass
class FaultState:
    """Active HTTP faults, plus what the reset control must undo."""

    seed: int = 0
    latency_ms: int = 0
    error_rate: float = 0.0  # fraction of requests answered with error_status before reaching the app
    error_status: int = 503
    fail_next: int = 0  # the next N matching requests fail before reaching the app
    drop_responses: int = 0  # the next N matching requests are processed, then answered 503 (reply lost)
    path_prefix: str = ""  # faults apply only to paths starting with this ("" = all)
    hang: bool = False
    stream_cut: bool = False  # the Limitless Socket.IO stream refuses every connection (a cut network path)
    planted: dict[tuple[str, str], str] = field(default_factory=dict)  # (slug, field) -> original text
    _release: asyncio.Event | None = None
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def snapshot(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "error_status": self.error_status,
            "fail_next": self.fail_next,
            "drop_responses": self.drop_responses,
            "path_prefix": self.path_prefix,
            "hang": self.hang,
            "stream_cut": self.stream_cut,
            "planted": [{"market": m, "field": f} for (m, f) in sorted(self.planted)],
        }

    def start_hang(self) -> None:
        self.hang = True
        self._release = asyncio.Event()

    def release(self) -> None:
        """Let every hung request continue and stop hanging new ones."""
        self.hang = False
        if self._release is not None:
            self._release.set()
        self._release = None

    def clear_http(self) -> None:
        self.latency_ms, self.error_rate, self.error_status = 0, 0.0, 503
        self.fail_next, self.drop_responses, self.path_prefix = 0, 0, ""
        self.release()

    def applies(self, path: str) -> bool:
        return not path.startswith(EXEMPT_PREFIXES) and path.startswith(self.path_prefix)

    def should_fail(self) -> bool:
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        return self.error_rate > 0 and self._rng.random() < self.error_rate

    def should_drop_response(self) -> bool:
        if self.drop_responses > 0:
            self.drop_responses -= 1
            return True
        return False


class FaultMiddleware:
    """Pure ASGI middleware: latency, hangs, failed requests and lost responses."""

    def __init__(self, app: Any, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        state = self.state
        if scope["type"] != "http" or not state.applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        if state.latency_ms:
            await asyncio.sleep(state.latency_ms / 1000)
        if state.hang and state._release is not None:
            await state._release.wait()
        if state.should_fail():
            await _send_error(send, state.error_status, "injected fault: request failed")
            return
        if state.should_drop_response():
            await self.app(scope, receive, _swallow)  # the work happens; the reply is lost
            await _send_error(send, 503, "injected fault: response lost after processing")
            return
        await self.app(scope, receive, send)


async def _swallow(message: dict[str, Any]) -> None:
    return None


async def _send_error(send: Any, status: int, message: str) -> None:
    body = json.dumps({"statusCode": status, "message": message, "error": "Injected Fault"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Faults:
    """Drive a running venue's /_faults control API (one method per control)."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url, headers={FAULTS_HEADER: token}, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        clean = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in (body or {}).items() if v is not None}
        response = self._http.post(path, json=clean)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        response = self._http.get("/_faults")
        response.raise_for_status()
        return dict(response.json())

    def latency(self, ms: int, path_prefix: str = "") -> Any:
        return self._post("/_faults/http", {"latency_ms": ms, "path_prefix": path_prefix})

    def errors(self, rate: float, status: int = 503, path_prefix: str = "") -> Any:
        return self._post("/_faults/http", {"error_rate": rate, "error_status": status, "path_prefix": path_prefix})

    def fail_next(self, n: int, status: int = 503, path_prefix: str = "") -> Any:
        return self._post("/_faults/http", {"fail_next": n, "error_status": status, "path_prefix": path_prefix})

    def drop_responses(self, n: int, path_prefix: str = "") -> Any:
        return self._post("/_faults/http", {"drop_responses": n, "path_prefix": path_prefix})

    def hang(self, path_prefix: str = "") -> Any:
        return self._post("/_faults/hang", {"path_prefix": path_prefix})

    def release(self) -> Any:
        return self._post("/_faults/release")

    def drop_websockets(self) -> int:
        return int(self._post("/_faults/ws/drop")["dropped"])

    def cut_stream(self, cut: bool = True) -> int:
        """Cut the Limitless stream (drop its connections and refuse new ones) until called with False."""
        return int(self._post("/_faults/ws/cut", {"cut": cut})["dropped"])

    def price_shock(self, market: str, price: Decimal | str) -> Any:
        return self._post(f"/_faults/markets/{market}/shock", {"price": price})

    def pause(self, market: str) -> Any:
        return self._post(f"/_faults/markets/{market}/status", {"status": "paused"})

    def close_market(self, market: str) -> Any:
        return self._post(f"/_faults/markets/{market}/status", {"status": "closed"})

    def resume(self, market: str) -> Any:
        return self._post(f"/_faults/markets/{market}/status", {"status": "open"})

    def resolve(self, market: str, outcome: str) -> Any:
        return self._post(f"/_faults/markets/{market}/resolve", {"outcome": outcome})

    def plant(self, market: str, field_name: str, text: str, mode: str = "replace") -> Any:
        return self._post(f"/_faults/markets/{market}/text", {"field": field_name, "text": text, "mode": mode})

    def chain_drift(
        self,
        account: str,
        usdc: Decimal | str | None = None,
        market: str | None = None,
        outcome: str | None = None,
        shares: Decimal | str | None = None,
    ) -> Any:
        body = {"account": account, "usdc": usdc, "market": market, "outcome": outcome, "shares": shares}
        return self._post("/_faults/chain/drift", body)

    def settle_now(self) -> Any:
        return self._post("/_faults/chain/settle-now")

    def settlement_lag(self, seconds: float) -> Any:
        return self._post("/_faults/chain/lag", {"seconds": seconds})

    def create_market(self, slug: str, *, simulated: bool = False, **fields: Any) -> Any:
        return self._post("/_faults/markets", {"slug": slug, "simulated": simulated, **fields})

    def account(self, name: str, api_key: str, usdc: Decimal | str = "10000", **limitless: str) -> Any:
        """Create an account (or add `usdc` to an existing one). `limitless` may give its wallet
        (`address`) and an HMAC token (`hmac_token_id`, `hmac_secret`) for the Limitless surface."""
        return self._post("/_faults/accounts", {"name": name, "api_key": api_key, "usdc": usdc, **limitless})

    def limitless(self, **switches: Any) -> Any:
        """Switch the Limitless surface: maintenance ("post_only", "cancel_only", "disabled", "" to end),
        rate_limit ({max_in_flight, min_interval_ms, retry_after_s}) or rate_limit_off=True."""
        return self._post("/_faults/limitless", switches)

    def tick(self, n: int = 1) -> Any:
        return self._post("/_faults/tick", {"n": n})

    def reset(self) -> Any:
        return self._post("/_faults/reset")
