"""The simulated Antom: every flow on one state, its background work, and the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from .authorizations import AUTH_CODE_TTL, AUTH_SESSION_TTL, AuthorizationFlows
from .config import ApiCall, SandboxConfig
from .core import CallContext, Merchant, SandboxError
from .customs import CustomsFlows
from .models import Payment, Refund
from .payments import PaymentFlows
from .protocol import AntomFailure, Body
from .refunds import RefundFlows

__all__ = [
    "AUTH_CODE_TTL",
    "AUTH_SESSION_TTL",
    "HANDLERS",
    "CallContext",
    "Merchant",
    "Sandbox",
    "SandboxError",
]


class Sandbox(AuthorizationFlows, PaymentFlows, RefundFlows, CustomsFlows):
    """One simulated Antom: call ``start`` and ``stop`` around serving it."""

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(config)
        self._scheduler: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.store.start()
        await self.notifier.start()
        self._scheduler = asyncio.create_task(self._run_scheduler(), name="sandbox-scheduler")

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
            self._scheduler = None
        await self.notifier.stop()
        await self.store.close()

    async def _run_scheduler(self) -> None:
        while True:
            self._wake.clear()
            self.settle_due()
            due = self._next_due()
            timeout = None if due is None else max(0.0, (due - self.clock.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    # =========================================================================================
    # scheduled work
    # =========================================================================================

    def _pending(self) -> Iterator[tuple[datetime, Payment | Refund]]:
        yield from self._scheduled_payments()
        yield from self._scheduled_refunds()

    def _next_due(self) -> datetime | None:
        return min((due for due, _ in self._pending()), default=None)

    def settle_due(self) -> None:
        """Finish every in-process payment or refund whose time has come, and notify."""
        now = self.clock.now()
        due = [record for at, record in self._pending() if at <= now]
        for record in due:
            if isinstance(record, Payment):
                self._settle_payment(record, now)
            else:
                self._settle_refund(record, now)

    # =========================================================================================
    # dispatch
    # =========================================================================================

    def handle(self, call: ApiCall, ctx: CallContext, body: Body) -> dict[str, Any]:
        """Run one API call (raises :class:`AntomFailure` for a failed ``result``)."""
        handler = HANDLERS.get(call)
        if handler is None:
            raise AntomFailure("NO_INTERFACE_DEF", message="notifications are sent, not called")
        return handler(self, ctx, body)


# The flow that answers each API call (notifications are sent, never called).
HANDLERS: Final[Mapping[ApiCall, Callable[[Sandbox, CallContext, Body], dict[str, Any]]]] = {
    ApiCall.CONSULT: Sandbox.consult,
    ApiCall.APPLY_TOKEN: Sandbox.apply_token,
    ApiCall.REVOKE: Sandbox.revoke,
    ApiCall.PAY: Sandbox.pay,
    ApiCall.INQUIRY_PAYMENT: Sandbox.inquiry_payment,
    ApiCall.CANCEL: Sandbox.cancel,
    ApiCall.REFUND: Sandbox.refund,
    ApiCall.INQUIRY_REFUND: Sandbox.inquiry_refund,
    ApiCall.DECLARE: Sandbox.declare,
    ApiCall.INQUIRY_DECLARATION: Sandbox.inquiry_declarations,
}
