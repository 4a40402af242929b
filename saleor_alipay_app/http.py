"""The one outbound HTTP client per upstream per process.

httpx's API over aiohttp's connection pool (the `httpx-aiohttp` transport): httpx's default
transport relays several times fewer requests per second under concurrency (see
`bench/transport.py`). Clients are long-lived: created in the app's lifespan, closed at exit.
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import HttpxAiohttpClient


def make_http_client(
    *,
    timeout: float = 10.0,
    max_connections: int = 200,
    max_keepalive_connections: int = 50,
) -> httpx.AsyncClient:
    """A pooled httpx client on the aiohttp transport. Redirects are never followed."""
    return HttpxAiohttpClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
        ),
        follow_redirects=False,
        trust_env=False,
    )
