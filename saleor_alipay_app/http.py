"""The one outbound HTTP client per upstream per process.

httpx's API over aiohttp's connection pool (the `httpx-aiohttp` transport): httpx's default
transport relays several times fewer requests per second under concurrency (see
`bench/transport.py`). Clients are long-lived: created in the app's lifespan, closed at exit.
"""

from __future__ import annotations

import time

import httpx
from httpx_aiohttp import AiohttpTransport


def make_http_client(
    *,
    timeout: float = 15.0,
    max_connections: int = 100,
    keepalive_expiry: float = 30.0,
) -> httpx.AsyncClient:
    """A pooled httpx client on the aiohttp transport. Redirects are never followed."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=keepalive_expiry,
    )
    return httpx.AsyncClient(
        transport=AiohttpTransport(limits=limits),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
        trust_env=False,
    )


# -- time budgets -----------------------------------------------------------------------------
# A deadline is a `time.monotonic()` instant: a call may take at most the time left until then.


def deadline_in(seconds: float) -> float:
    return time.monotonic() + seconds


def remaining(deadline: float) -> float:
    return deadline - time.monotonic()
