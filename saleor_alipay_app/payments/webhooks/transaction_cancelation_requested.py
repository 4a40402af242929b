"""TRANSACTION_CANCELATION_REQUESTED: cancel a payment whose outcome is not final yet."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.antom.results import merchant_message
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import PaymentStatus
from saleor_alipay_app.payments.service import (
    ACTION_BUDGET,
    REFUNDABLE_ACTIONS,
    cancel_at_antom,
    settle,
    transaction_payments,
)
from saleor_alipay_app.payments.webhooks.common import Context
from saleor_alipay_app.saleor.payloads import TransactionActionRequest
from saleor_alipay_app.saleor.responses import ActionResponse, ActionResult


async def request_cancel(
    deps: PaymentDeps, installation_id: int, payload: TransactionActionRequest
) -> ActionResponse:
    deadline = deadline_in(ACTION_BUDGET)
    payments = await transaction_payments(deps, installation_id, payload.transaction.id)
    if not payments:
        return ActionResponse(
            ActionResult.CANCEL_FAILURE, message="No payment was started on this transaction."
        )
    payment = payments[-1]
    assert payment.id is not None
    psp = payment.payment_request_id
    match payment.status:
        case PaymentStatus.SUCCEEDED:
            return ActionResponse(
                ActionResult.CANCEL_FAILURE,
                psp_reference=psp,
                message="The payment is complete: refund it instead of cancelling.",
                actions=REFUNDABLE_ACTIONS,
            )
        case PaymentStatus.FAILED | PaymentStatus.CANCELLED:
            return ActionResponse(ActionResult.CANCEL_SUCCESS, psp_reference=psp, actions=[])
        case PaymentStatus.AWAITING_BINDING:
            done = await settle(deps, payment.id, PaymentStatus.CANCELLED, code="CANCELLED")
            if done.status is PaymentStatus.CANCELLED:
                return ActionResponse(ActionResult.CANCEL_SUCCESS, psp_reference=psp, actions=[])
            return await request_cancel(deps, installation_id, payload)
        case PaymentStatus.PROCESSING:
            after = await cancel_at_antom(deps, payment.id, deadline=deadline)
            if after.status is PaymentStatus.CANCELLED:
                return ActionResponse(ActionResult.CANCEL_SUCCESS, psp_reference=psp, actions=[])
            if after.status is PaymentStatus.PROCESSING and after.result_code in (
                None,
                "PAYMENT_IN_PROCESS",
                "UNKNOWN_EXCEPTION",
            ):
                return ActionResponse(ActionResult.ASYNC, psp_reference=psp)
            if after.status is PaymentStatus.PROCESSING:
                return ActionResponse(
                    ActionResult.CANCEL_FAILURE,
                    psp_reference=psp,
                    message=merchant_message(after.result_code or "UNKNOWN"),
                )
            return ActionResponse(
                ActionResult.CANCEL_FAILURE,
                psp_reference=psp,
                message=f"The payment already ended as {after.status.value}.",
            )


Payload = TransactionActionRequest


async def answer(
    deps: PaymentDeps, ctx: Context, payload: TransactionActionRequest
) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    response = await request_cancel(deps, ctx.installation_id, payload)
    return response.body()
