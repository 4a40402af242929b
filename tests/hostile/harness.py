"""The harness of the hostile-input tests (issue 11): the whole stack started once per test
module in an event loop of its own thread, the property every door must keep, and the
Hypothesis profiles.

The property (`Hostile.exchange`): a request is answered within 15 s over a connection that
stays up; the answer is never a 5xx; a 4xx is one the door declares, in the door's error shape,
and nothing was stored for it (the row count of every table of the app is unchanged).

Hypothesis tests are plain functions: each example hands its coroutine to the stack's loop
(`Hostile.run`) and waits for it. Profiles (`HYPOTHESIS_PROFILE`): ``default`` runs a few hundred
examples in all (derandomized: the same ones every run), ``slow`` thirty times as many (over
10,000, CI's slow job), ``explore`` as many as ``slow`` with a random seed, to look further.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from saleor_alipay_app.config import Environment, Settings
from saleor_alipay_app.crypto import generate_key
from saleor_alipay_app.models import metadata
from tests.conftest import POSTGRES, create_postgres_database, drop_postgres_database
from tests.support.stack import Stack, app_services, sandbox_state, started_stack

T = TypeVar("T")

ANSWER_WITHIN = 15.0
# The 4xx statuses the app's doors declare (errors.py, FastAPI's validation, the sandbox's).
DECLARED_4XX = frozenset({400, 401, 403, 404, 409, 413, 422})

_COMMON = {
    "deadline": None,  # the 15 s bound is enforced on each request instead
    "database": None,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
}
settings.register_profile("default", derandomize=True, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("slow", derandomize=True, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("explore", derandomize=False, **_COMMON)  # type: ignore[arg-type]
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)
SCALE = 1 if PROFILE == "default" else 30


def examples(default: int) -> settings:
    """The settings of one door's test: ``default`` examples, thirty times as many when slow."""
    return settings(max_examples=default * SCALE)


class LoopThread:
    """An event loop running in a daemon thread; `run` waits for a coroutine in it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class Refusal(AssertionError):
    """The property did not hold."""


@dataclass
class Hostile:
    stack: Stack
    loop: LoopThread
    facts: dict[str, Any]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run(coro)

    async def row_counts(self) -> dict[str, int]:
        tables = [t for t in metadata.sorted_tables]
        query = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
        async with app_services(self.stack).sessions() as session:
            row = (await session.execute(query)).one()
        return {t.name: int(n) for t, n in zip(tables, row, strict=True)}

    async def exchange(
        self,
        door: str,
        send: Callable[[], Awaitable[httpx.Response]],
        *,
        error_shape: Callable[[Any], bool],
        declared: frozenset[int] = DECLARED_4XX,
        stored_ok: bool = False,
    ) -> httpx.Response:
        """Send one hostile request and check the property; returns the answer."""
        # Reports to Saleor that an earlier request left to send after its answer are no
        # part of this one.
        await app_services(self.stack).payments.reporter.drain()
        before = await self.row_counts()
        try:
            response = await asyncio.wait_for(send(), ANSWER_WITHIN)
        except TimeoutError:
            raise Refusal(f"{door}: no answer within {ANSWER_WITHIN} s") from None
        except httpx.HTTPError as exc:
            raise Refusal(f"{door}: the connection failed: {exc!r}") from None
        status = response.status_code
        if status >= 500:
            raise Refusal(f"{door}: answered {status}: {response.text[:500]}")
        if status >= 400:
            if status not in declared:
                raise Refusal(f"{door}: answered an undeclared {status}: {response.text[:300]}")
            try:
                body = response.json()
            except ValueError:
                raise Refusal(
                    f"{door}: a {status} that is not JSON: {response.text[:300]}"
                ) from None
            if not error_shape(body):
                raise Refusal(f"{door}: a {status} not in the door's error shape: {body!r:.300}")
            after = await self.row_counts()
            if after != before and not stored_ok:
                changed = {k: (before[k], after[k]) for k in after if after[k] != before[k]}
                raise Refusal(f"{door}: refused with {status} but stored rows: {changed}")
        return response


def app_error_shape(body: Any) -> bool:
    """``{"error": {"code", "message"}}`` (``success: false`` alongside, except in the payload
    refusals of the webhooks)."""
    error = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and body.get("success", False) is False
    )


def antom_refusal_shape(body: Any) -> bool:
    """Antom's own refusal: ``{"result": {"resultCode", "resultStatus": "F", ...}}``."""
    result = body.get("result") if isinstance(body, dict) else None
    return isinstance(result, dict) and result.get("resultStatus") == "F"


def detail_shape(body: Any) -> bool:
    """The sandbox control API's refusals: FastAPI's ``{"detail": ...}``."""
    return isinstance(body, dict) and "detail" in body


def hostile_settings(database_url: str) -> Settings:
    return Settings(
        app_env=Environment.DEVELOPMENT,
        database_url=database_url,
        encryption_key=generate_key(),
        allowed_saleor_api_urls="http://127.0.0.1:*/graphql/",
        log_level="WARNING",
        saleor_call_timeout=5.0,
    )


def silence_sandbox_notifications(stack: Stack) -> None:
    """The sandbox records its notifications but no longer delivers them: nothing writes to the
    app's database except the request under test (the sweeper is idle too)."""
    notifier = sandbox_state(stack).notifier
    notifier._spawn = lambda _notification: None


async def settled(stack: Stack) -> None:
    """Wait until the sandbox has delivered every notification of the preparation and the app
    has sent its reports: nothing the preparation started writes during the examples."""
    store = sandbox_state(stack).store
    await stack.wait_for(
        lambda: all(n.status.value != "PENDING" for n in store.notifications.values()),
        what="the sandbox's notifications delivered",
    )
    await app_services(stack).payments.reporter.drain()


@contextlib.contextmanager
def hostile_stack(
    tmp: Path, prepare: Callable[[Hostile], Awaitable[None]] | None = None
) -> Iterator[Hostile]:
    """The stack for one test module, with ``prepare`` run on it (real payments, agreements...)
    before the sandbox's notifications are silenced."""
    loop = LoopThread()
    plain_url = loop.run(create_postgres_database()) if POSTGRES else ""
    url = (
        plain_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        if POSTGRES
        else f"sqlite+aiosqlite:///{tmp / 'app.db'}"
    )
    exits = contextlib.AsyncExitStack()
    try:
        stack = loop.run(
            exits.enter_async_context(
                started_stack(hostile_settings(url), tmp, sweeper_interval=3600)
            )
        )
        hostile = Hostile(stack, loop, {})
        if prepare is not None:
            loop.run(prepare(hostile))
            loop.run(settled(stack))
        silence_sandbox_notifications(stack)
        yield hostile
    finally:
        loop.run(exits.aclose())
        if POSTGRES:
            loop.run(drop_postgres_database(plain_url))
        loop.close()
