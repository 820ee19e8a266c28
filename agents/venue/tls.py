"""One TLS context per process for every venue and RPC client.

httpx builds a fresh SSLContext for each Client and loads the whole CA bundle into it: about 60 ms of
CPU, paid by every run that opens a venue client (a third of a rules-policy run's CPU, issue 15).
A context is safe to share between clients and threads; verification stays on, with the same
bundle httpx would load (certifi).
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
