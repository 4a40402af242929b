"""TRANSACTION_PROCESS_SESSION: where the binding and the payment stand; once bound, charge;
a fresh QR code once the old one expired."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.webhooks.common import (
    WEBHOOK_BUDGET,
    Context,
    failure,
    where_it_stands,
)
from saleor_alipay_app.saleor.payloads import TransactionSession
from saleor_alipay_app.saleor.responses import (
    SessionResponse,
)


async def process_session(
    deps: PaymentDeps, ctx: Context, payload: TransactionSession
) -> SessionResponse:
    deadline = deadline_in(WEBHOOK_BUDGET)
    async with deps.sessions() as session:
        payments = await PaymentsRepository(session).payments_for_transaction(
            ctx.installation_id, payload.transaction.id
        )
    if not payments:
        return failure(
            "This payment was not started. Please start the payment again.", "NO_PAYMENT"
        )
    return await where_it_stands(deps, ctx, payments[-1], payload, deadline)


Payload = TransactionSession


async def answer(deps: PaymentDeps, ctx: Context, payload: TransactionSession) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    response = await process_session(deps, ctx, payload)
    return response.body(saleor_version=ctx.saleor_version)
