"""The load driver the benchmarks share: prepared (signed) requests POSTed once each, a given
number at a time, with aiohttp (a dependency of the app), timed one by one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Prepared:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Driven:
    latencies_ms: list[float]  # of the answers ``ok`` accepted
    errors: int
    started: float  # time.perf_counter()
    ended: float


async def drive(
    requests: list[Prepared],
    concurrency: int,
    max_seconds: float,
    ok: Callable[[int, bytes], bool],
) -> Driven:
    """POST each request once, ``concurrency`` at a time, until done or ``max_seconds``; an
    answer counts when ``ok(status, body)``, anything else (or no answer) is an error."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        stop_at = started + max_seconds

        async def worker() -> None:
            nonlocal errors
            while queue and time.perf_counter() < stop_at:
                item = queue.pop()
                t0 = time.perf_counter()
                try:
                    async with session.post(item.url, data=item.body, headers=item.headers) as r:
                        good = ok(r.status, await r.read())
                except (aiohttp.ClientError, TimeoutError):
                    good = False
                if good:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        ended = time.perf_counter()
    return Driven(latencies, errors, started, ended)
