"""The storefront's status stream: server-sent events that tell a checkout page where its QR
payment (or an account page where its wallet binding) stands, so that it need not poll
Saleor's `transactionProcess` (each answer of which Saleor keeps as an event).

`GET /storefront/bindings/{bindingId}/events`. The binding id (`authState`, 24 random bytes) is
the only credential, as the checkout id is Saleor's: the stream tells no more than its holder
already saw in the `transactionInitialize` answer (the state, the QR code and its expiry).

Events (`event: status`, `data:` JSON with `state`):

- `waiting`: the QR code (`qrCodeValue`, `qrCodeSvg`, `expiresAt`), or `scanned: true` once the
  shopper approved and the wallet is being charged;
- `expired`: the code expired; the storefront calls `transactionProcess` once for a fresh one
  (whose `waiting` then follows on this stream) or
  `paymentMethodProcessTokenization` when saving a wallet;
- `paid` (checkout) or `saved` (account page): final;
- `failed` with a `code`: final; `transactionProcess` gives the shopper's message.

Each stream reads the state every `POLL_SECONDS` (two small queries), sends it only when it
changed, a heartbeat comment every `HEARTBEAT_SECONDS`, and ends on a final state or after
`MAX_LIFETIME` (EventSource then reconnects by itself). A process serves at most
`MAX_STREAMS` streams, and `MAX_STREAMS_PER_BINDING` per binding.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from saleor_alipay_app.agreements.binding import STATUS_STREAM_PATH, qr_svg
from saleor_alipay_app.agreements.models import BindingSession, BindingStatus
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.payments.deps import PaymentDeps, services_of
from saleor_alipay_app.payments.models import PaymentStatus
from saleor_alipay_app.payments.repository import PaymentsRepository

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
MAX_LIFETIME = 20 * 60.0
MAX_STREAMS = 1000
MAX_STREAMS_PER_BINDING = 4
# EventSource's reconnection delay after the stream ends without a final state.
RETRY_MS = 3000

router = APIRouter(tags=["storefront"])


@dataclass(frozen=True)
class StreamState:
    state: str
    final: bool
    data: dict[str, Any]

    def event(self) -> str:
        return f"event: status\ndata: {json.dumps({'state': self.state, **self.data})}\n\n"


def _qr(binding: BindingSession) -> StreamState:
    if binding.status is BindingStatus.PENDING and binding.expires_at > utcnow():
        return StreamState(
            "waiting",
            False,
            {
                "qrCodeValue": binding.qr_code_value,
                "qrCodeSvg": qr_svg(binding.qr_code_value),
                "expiresAt": binding.expires_at.isoformat(),
            },
        )
    if binding.status in (BindingStatus.PENDING, BindingStatus.EXPIRED):
        return StreamState("expired", False, {})
    if binding.status is BindingStatus.FAILED:
        return StreamState("failed", True, {"code": "BINDING_FAILED"})
    return StreamState("waiting", False, {"scanned": True})


async def current_state(deps: PaymentDeps, binding_id: str) -> StreamState | None:
    """Where the binding ``binding_id`` and, for a checkout, its payment stand; None for an
    unknown id. A checkout's stream follows the payment to its renewed QR codes."""
    async with deps.sessions() as session:
        bindings = AgreementRepository(session)
        binding = await bindings.binding(binding_id)
        if binding is None:
            return None
        if binding.saleor_transaction_id is None:
            if binding.status is BindingStatus.BOUND:
                return StreamState("saved", True, {})
            state = _qr(binding)
            # A tokenization renewal starts a new binding: the storefront follows its new id.
            if binding.status is BindingStatus.EXPIRED:
                return StreamState("expired", True, {})
            return state
        payments = await PaymentsRepository(session).payments_for_transaction(
            binding.installation_id, binding.saleor_transaction_id
        )
        if not payments:
            return _qr(binding)
        payment = payments[-1]
        match payment.status:
            case PaymentStatus.SUCCEEDED:
                return StreamState("paid", True, {})
            case PaymentStatus.FAILED | PaymentStatus.CANCELLED:
                return StreamState("failed", True, {"code": payment.result_code or "FAILED"})
            case PaymentStatus.PROCESSING:
                return StreamState("waiting", False, {"scanned": True})
            case PaymentStatus.AWAITING_BINDING:
                if payment.binding_session_id not in (None, binding.id):
                    assert payment.binding_session_id is not None
                    current = await bindings.binding_by_id(payment.binding_session_id)
                    if current is not None:
                        binding = current
                return _qr(binding)


class StreamLimits:
    """The process's open streams, in all and per binding."""

    def __init__(self) -> None:
        self.per_binding: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.per_binding.values())

    def admit(self, binding_id: str) -> bool:
        if self.total >= MAX_STREAMS or self.per_binding[binding_id] >= MAX_STREAMS_PER_BINDING:
            return False
        self.per_binding[binding_id] += 1
        return True

    def release(self, binding_id: str) -> None:
        self.per_binding[binding_id] -= 1
        if self.per_binding[binding_id] <= 0:
            del self.per_binding[binding_id]


LIMITS = StreamLimits()
CORS = {"Access-Control-Allow-Origin": "*"}


async def status_events(
    deps: PaymentDeps, binding_id: str, first: StreamState, request: Request
) -> AsyncIterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n\n"
        sent = first
        yield first.event()
        started = last_write = time.monotonic()
        while not sent.final and time.monotonic() - started < MAX_LIFETIME:
            await asyncio.sleep(POLL_SECONDS)
            if await request.is_disconnected():
                return
            state = await current_state(deps, binding_id)
            if state is None:
                return
            if state != sent:
                sent = state
                last_write = time.monotonic()
                yield state.event()
            elif time.monotonic() - last_write >= HEARTBEAT_SECONDS:
                last_write = time.monotonic()
                yield ": heartbeat\n\n"
    finally:
        LIMITS.release(binding_id)


@router.get(STATUS_STREAM_PATH, response_model=None)
async def binding_events(binding_id: str, request: Request) -> Response:
    if not binding_id.startswith("bind_") or len(binding_id) > 64:
        return JSONResponse({"code": "NOT_FOUND"}, status_code=404, headers=CORS)
    deps = services_of(request).payments
    first = await current_state(deps, binding_id)
    if first is None:
        return JSONResponse({"code": "NOT_FOUND"}, status_code=404, headers=CORS)
    if not LIMITS.admit(binding_id):
        return JSONResponse(
            {"code": "TOO_MANY_STREAMS"},
            status_code=429,
            headers={**CORS, "Retry-After": "10"},
        )
    return StreamingResponse(
        status_events(deps, binding_id, first, request),
        media_type="text/event-stream",
        headers={
            **CORS,
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        },
    )
