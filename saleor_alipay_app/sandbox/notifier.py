"""Antom → merchant notifications: signed POSTs, re-sent on Antom's schedule until acknowledged.

A notification is acknowledged only by HTTP 200 with a JSON body equal to
``{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}``
(compared as parsed JSON). Each attempt is signed afresh (new ``request-time``) over the path
of the notify URL, and logged with its outcome; the log is what ``GET
/sandbox/api/notifications`` shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.signing import sign, signature_header

from .clock import SandboxClock, fmt_time
from .config import ApiCall, SandboxConfig, Scenario
from .models import Notification, NotificationAttempt, NotificationStatus
from .protocol import ACK_BODY, dump_json
from .scenarios import ScenarioBook
from .store import Store

__all__ = ["Notifier"]

log = logging.getLogger(__name__)

_RESPONSE_LOG_LIMIT = 2000
_CONNECTIONS = 100  # open at once, and kept open between notifications


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (building one costs tens of milliseconds)."""
    return ssl.create_default_context()


class Notifier:
    def __init__(
        self,
        config: SandboxConfig,
        store: Store,
        clock: SandboxClock,
        scenarios: ScenarioBook,
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._scenarios = scenarios
        self._private_key: rsa.RSAPrivateKey = config.antom_private_key
        self._client: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._counter = len(store.notifications)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        # aiohttp's pool (bench/sandbox.py): httpx's default transport cost about half the
        # sandbox's CPU under load, and past 20 kept connections it reconnected per notification
        seconds = self._config.notify_timeout_seconds
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=_CONNECTIONS, ssl=_tls_context()),
            timeout=aiohttp.ClientTimeout(
                total=None, connect=seconds, sock_connect=seconds, sock_read=seconds
            ),
        )
        for notification in self._store.notifications.values():
            if notification.status is NotificationStatus.PENDING:
                self._spawn(notification)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
            self._client = None

    # -- sending -----------------------------------------------------------------------------

    def emit(
        self,
        *,
        client_id: str,
        kind: ApiCall,
        url: str | None,
        body: dict[str, Any],
        reference: str,
        header_scenarios: list[Scenario] | None = None,
    ) -> Notification:
        """Record a notification and start delivering it in the background."""
        self._counter += 1
        notification_id = f"ntf_{self._counter:06d}"
        while notification_id in self._store.notifications:
            self._counter += 1
            notification_id = f"ntf_{self._counter:06d}"
        drop_first = (
            self._config.notify_fail_attempts
            if header_scenarios is not None and Scenario.NOTIFY_FAIL in header_scenarios
            else 0
        )
        notification = Notification(
            notification_id=notification_id,
            client_id=client_id,
            kind=kind,
            url=url,
            body=dump_json(body),
            reference=reference,
            created_at=self._clock.now(),
            drop_first=drop_first,
            status=NotificationStatus.PENDING if url else NotificationStatus.NO_URL,
            next_attempt_epoch=time.time() if url else None,
        )
        self._store.put_notification(notification)
        if url:
            self._spawn(notification)
        return notification

    def _spawn(self, notification: Notification) -> None:
        if self._client is None:
            raise RuntimeError("the notifier is not started (run the app with its lifespan)")
        task = asyncio.create_task(
            self._deliver(notification), name=f"sandbox-notify-{notification.notification_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("notification delivery crashed", exc_info=task.exception())

    def _pauses(self) -> list[float]:
        """Seconds to wait before each attempt: the first is immediate, then the schedule."""
        factor = self._config.notify_schedule_factor
        return [0.0] + [seconds * factor for seconds in self._config.notify_schedule]

    async def _deliver(self, notification: Notification) -> None:
        pauses = self._pauses()
        while len(notification.attempts) < len(pauses):
            if notification.next_attempt_epoch is not None:
                delay = notification.next_attempt_epoch - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            attempt = await self._attempt(notification)
            notification.attempts.append(attempt)
            done = len(notification.attempts)
            if attempt.outcome == "ACKNOWLEDGED":
                notification.status = NotificationStatus.DELIVERED
                notification.next_attempt_epoch = None
            elif done >= len(pauses):
                notification.status = NotificationStatus.GAVE_UP
                notification.next_attempt_epoch = None
            else:
                notification.next_attempt_epoch = time.time() + pauses[done]
            self._store.put_notification(notification)
            if notification.status is not NotificationStatus.PENDING:
                return

    def _dropped(self, notification: Notification) -> bool:
        if len(notification.attempts) < notification.drop_first:
            return True
        return self._scenarios.take(notification.kind) is Scenario.NOTIFY_FAIL

    async def _attempt(self, notification: Notification) -> NotificationAttempt:
        number = len(notification.attempts) + 1
        at = self._clock.now()
        if self._dropped(notification):
            return NotificationAttempt(number=number, at=at, outcome="DROPPED")
        url = notification.url
        client = self._client
        assert url is not None
        assert client is not None
        request_time = fmt_time(at)
        value = sign(
            self._private_key,
            path=urlsplit(url).path or "/",
            client_id=notification.client_id,
            request_time=request_time,
            body=notification.body,
        )
        headers = {
            "content-type": "application/json; charset=UTF-8",
            "client-id": notification.client_id,
            "request-time": request_time,
            "signature": signature_header(value),
        }
        try:
            async with client.post(
                url,
                data=notification.body.encode("utf-8"),
                headers=headers,
                allow_redirects=False,
            ) as response:
                status = response.status
                text = _decoded(await response.read(), response.charset)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return NotificationAttempt(number=number, at=at, outcome="ERROR", error=_error(exc))
        outcome = "ACKNOWLEDGED" if _is_ack(status, text) else "NOT_ACKNOWLEDGED"
        return NotificationAttempt(
            number=number,
            at=at,
            outcome=outcome,
            http_status=status,
            response_body=text[:_RESPONSE_LOG_LIMIT],
        )


def _decoded(body: bytes, charset: str | None) -> str:
    """The answer as text: its charset, else UTF-8; undecodable bytes replaced."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _error(exc: BaseException) -> str:
    """The delivery log's name for a failed attempt (the names it has always shown)."""
    match exc:
        case aiohttp.ConnectionTimeoutError():
            return "ConnectTimeout"
        case aiohttp.SocketTimeoutError() | TimeoutError():
            return "ReadTimeout"
        case aiohttp.ClientConnectorError():
            return "ConnectError"
        case aiohttp.ServerDisconnectedError():
            return "RemoteProtocolError"
        case aiohttp.ClientPayloadError():
            return "ReadError"
        case aiohttp.InvalidURL() | aiohttp.NonHttpUrlClientError():
            return "UnsupportedProtocol"
        case _:
            return type(exc).__name__


def _is_ack(status: int, text: str) -> bool:
    if status != 200:
        return False
    try:
        return bool(json.loads(text) == ACK_BODY)
    except json.JSONDecodeError:
        return False
