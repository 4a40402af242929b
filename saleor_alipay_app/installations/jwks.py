"""Saleor's signing keys (JWKS) per installation, fetched again only when a signature names a key
id the kept JWKS does not have.

A signature that fails under a known key id is a forgery or a corrupted body, never a reason to
ask Saleor: it cannot use up a fetch that a genuine rotation needs. For an unknown key id, one
fetch per installation runs at a time and every request waiting meanwhile takes its answer
(single flight); fetches are at least `REFETCH_INTERVAL` apart, and a request that comes sooner
waits for the next one rather than being refused; a key id that Saleor's JWKS did not have is
refused without asking again for `UNKNOWN_KID_TTL`. A stream of made-up key ids therefore costs
Saleor at most one fetch per interval, and a key that Saleor really rotated in is always fetched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from saleor_alipay_app.saleor.client import SaleorClient, SaleorError
from saleor_alipay_app.saleor.jws import public_keys

log = logging.getLogger(__name__)

REFETCH_INTERVAL = 2.0
UNKNOWN_KID_TTL = 30.0
_MAX_REMEMBERED = 10_000


class SigningKeys:
    """The JWKS fetches of one process, per installation (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        # installation id -> (monotonic time the last fetch started, its JWKS or None)
        self._fetched: dict[int, tuple[float, dict[str, Any] | None]] = {}
        # (installation id, kid) -> monotonic time until which the kid is known to be absent
        self._absent: dict[tuple[int, str], float] = {}
        self.fetches = 0

    async def jwks_with(
        self, saleor: SaleorClient, installation_id: int, api_url: str, kid: str
    ) -> dict[str, Any] | None:
        """Saleor's current JWKS if it has ``kid``, else None (fetched as the docstring says)."""
        asked_at = self._clock()
        if self._absent.get((installation_id, kid), 0.0) > asked_at:
            return None
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            last = self._fetched.get(installation_id)
            if last is not None and last[0] >= asked_at:
                jwks = last[1]  # fetched after this request came: its answer serves it too
            else:
                if last is not None:
                    pause = last[0] + REFETCH_INTERVAL - self._clock()
                    if pause > 0:
                        await asyncio.sleep(pause)
                started = self._clock()
                self.fetches += 1
                try:
                    jwks = await saleor.fetch_jwks(api_url)
                except SaleorError as exc:
                    log.warning("JWKS refetch failed for %s: %s", api_url, exc)
                    jwks = None
                self._fetched[installation_id] = (started, jwks)
        if jwks is None:
            return None
        if kid not in public_keys(jwks):
            self._remember_absent(installation_id, kid)
            return None
        return jwks

    def _remember_absent(self, installation_id: int, kid: str) -> None:
        now = self._clock()
        if len(self._absent) >= _MAX_REMEMBERED:
            self._absent = {k: until for k, until in self._absent.items() if until > now}
            if len(self._absent) >= _MAX_REMEMBERED:
                self._absent.clear()
        self._absent[(installation_id, kid)] = now + UNKNOWN_KID_TTL
