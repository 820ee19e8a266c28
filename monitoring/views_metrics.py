"""GET /metrics: the Prometheus scrape endpoint, guarded by a bearer token and/or an allowlist."""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from monitoring.prom import Network, academy_registry, parse_networks


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Serve every Academy metric in the format the scraper asks for (text 0.0.4 or OpenMetrics)."""
    refusal = scrape_refusal(request)
    if refusal is not None:
        return refusal
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = HttpResponse(encoder(academy_registry()), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def scrape_refusal(request: HttpRequest) -> HttpResponse | None:
    """Return the refusal, or None when this request may scrape.

    Token set: the Authorization header must carry it (401 otherwise). Allowlist set: the
    client address must be in it (403). Both set: both must hold. Neither: loopback only.
    """
    token: str = settings.METRICS_TOKEN
    allowed: list[str] = settings.METRICS_ALLOWED_IPS
    if token and not _bearer_matches(request, token):
        response = HttpResponse("a valid bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if allowed and not _address_in(request, _networks(tuple(allowed))):
        return HttpResponse("this address may not scrape\n", status=403, content_type="text/plain")
    if not token and not allowed and not _is_loopback(request):
        return HttpResponse("set METRICS_TOKEN or METRICS_ALLOWED_IPS to scrape from another host\n",
                            status=403, content_type="text/plain")
    return None


def _bearer_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest: the time taken must not tell an attacker how much of the token was right
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@lru_cache(maxsize=4)
def _networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(parse_networks(items))
    except ValueError:
        return ()  # fail closed; `manage.py check` reports the entry (monitoring.E020)


def _client_address(request: HttpRequest) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """REMOTE_ADDR only: X-Forwarded-For is whatever the client says it is."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.5 from a dual-stack socket is 10.0.0.5
    return address


def _address_in(request: HttpRequest, networks: tuple[Network, ...]) -> bool:
    address = _client_address(request)
    return address is not None and any(address in network for network in networks)


def _is_loopback(request: HttpRequest) -> bool:
    address = _client_address(request)
    return address is not None and address.is_loopback
