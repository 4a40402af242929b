"""The simulated Antom: every flow on one state, its background work, and the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, assert_never

from .authorizations import AuthorizationFlows
from .config import ApiCall, SandboxConfig
from .core import AUTH_CODE_TTL, AUTH_SESSION_TTL, CallContext, Merchant, SandboxError
from .customs import CustomsFlows
from .payments import PaymentFlows
from .protocol import AntomFailure, Body

__all__ = [
    "AUTH_CODE_TTL",
    "AUTH_SESSION_TTL",
    "CallContext",
    "Merchant",
    "Sandbox",
    "SandboxError",
]


class Sandbox(AuthorizationFlows, PaymentFlows, CustomsFlows):
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
    # dispatch
    # =========================================================================================

    def handle(self, call: ApiCall, ctx: CallContext, body: Body) -> dict[str, Any]:
        """Run one API call (raises :class:`AntomFailure` for a failed ``result``)."""
        match call:
            case ApiCall.CONSULT:
                return self.consult(ctx, body)
            case ApiCall.APPLY_TOKEN:
                return self.apply_token(ctx, body)
            case ApiCall.REVOKE:
                return self.revoke(ctx, body)
            case ApiCall.PAY:
                return self.pay(ctx, body)
            case ApiCall.INQUIRY_PAYMENT:
                return self.inquiry_payment(ctx, body)
            case ApiCall.CANCEL:
                return self.cancel(ctx, body)
            case ApiCall.REFUND:
                return self.refund(ctx, body)
            case ApiCall.INQUIRY_REFUND:
                return self.inquiry_refund(ctx, body)
            case ApiCall.DECLARE:
                return self.declare(ctx, body)
            case ApiCall.INQUIRY_DECLARATION:
                return self.inquiry_declarations(ctx, body)
            case ApiCall.NOTIFY_AUTHORIZATION | ApiCall.NOTIFY_PAYMENT | ApiCall.NOTIFY_REFUND:
                raise AntomFailure("NO_INTERFACE_DEF", message="notifications are sent, not called")
            case _:
                assert_never(call)
