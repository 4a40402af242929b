"""TRANSACTION_CHARGE_REQUESTED: charges are taken at once, so a charge request reports where the
payment stands."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import usable
from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.antom.results import shopper_message
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.db import transaction
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import PaymentStatus
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import (
    ACTION_BUDGET,
    REFUNDABLE_ACTIONS,
    amount_of,
    create_payment,
    major_amount,
    send_pay,
    transaction_payments,
)
from saleor_alipay_app.payments.webhooks.common import Context
from saleor_alipay_app.saleor.payloads import TransactionActionRequest
from saleor_alipay_app.saleor.responses import ActionResponse, ActionResult


async def request_charge(
    deps: PaymentDeps, installation_id: int, base_url: str, payload: TransactionActionRequest
) -> ActionResponse:
    """Staff "charge": the payment is already captured when it succeeded; after a failed one, a
    new attempt charges the same agreement (merchant-initiated) if it is still active."""
    deadline = deadline_in(ACTION_BUDGET)
    payments = await transaction_payments(deps, installation_id, payload.transaction.id)
    if not payments:
        return ActionResponse(
            ActionResult.CHARGE_FAILURE,
            message="No wallet agreement is attached to this transaction.",
        )
    latest = payments[-1]
    assert latest.id is not None
    match latest.status:
        case PaymentStatus.SUCCEEDED:
            return ActionResponse(
                ActionResult.CHARGE_SUCCESS,
                psp_reference=latest.payment_request_id,
                amount=major_amount(latest),
                actions=REFUNDABLE_ACTIONS,
            )
        case PaymentStatus.PROCESSING:
            return ActionResponse(ActionResult.ASYNC, psp_reference=latest.payment_request_id)
        case PaymentStatus.AWAITING_BINDING:
            return ActionResponse(
                ActionResult.CHARGE_FAILURE,
                psp_reference=latest.payment_request_id,
                message="The shopper has not linked a wallet yet.",
            )
        case PaymentStatus.FAILED | PaymentStatus.CANCELLED:
            pass
    async with deps.sessions() as session:
        repo = PaymentsRepository(session)
        agreement = (
            await AgreementRepository(repo.session).agreement(latest.agreement_id)
            if latest.agreement_id is not None
            else None
        )
        config = await ChannelConfigRepository(repo.session).config(latest.channel_config_id)
    if agreement is None or config is None or not usable(agreement):
        return ActionResponse(
            ActionResult.CHARGE_FAILURE,
            message="The shopper's wallet agreement is no longer active; ask them to pay again.",
        )
    try:
        amount = Amount.from_decimal(payload.action.amount, payload.action.currency)
    except AmountError as exc:
        return ActionResponse(ActionResult.CHARGE_FAILURE, message=str(exc))
    if amount.value <= 0 or amount > amount_of(latest):
        return ActionResponse(
            ActionResult.CHARGE_FAILURE,
            message="The amount to charge must be more than zero and at most the order amount.",
        )
    async with transaction(deps.sessions) as session:
        payment, created = await create_payment(
            PaymentsRepository(session),
            installation_id=installation_id,
            config=config,
            transaction_id=latest.saleor_transaction_id,
            idempotency_key=None,
            user_id=latest.saleor_user_id,
            checkout_id=latest.saleor_checkout_id,
            order_id=(
                payload.transaction.order.id
                if payload.transaction.order is not None
                else latest.saleor_order_id
            ),
            wallet=latest.wallet,
            amount=amount,
            status=PaymentStatus.PROCESSING,
            agreement_id=agreement.id,
            attempt=latest.attempt + 1,
        )
    assert payment.id is not None
    if created:
        payment = await send_pay(
            deps, payment, agreement, config, base_url=base_url, deadline=deadline
        )
    psp = payment.payment_request_id
    match payment.status:
        case PaymentStatus.SUCCEEDED:
            return ActionResponse(
                ActionResult.CHARGE_SUCCESS,
                psp_reference=psp,
                amount=major_amount(payment),
                actions=REFUNDABLE_ACTIONS,
            )
        case PaymentStatus.FAILED | PaymentStatus.CANCELLED:
            return ActionResponse(
                ActionResult.CHARGE_FAILURE,
                psp_reference=psp,
                message=shopper_message(payment.result_code or "UNKNOWN"),
            )
        case PaymentStatus.PROCESSING | PaymentStatus.AWAITING_BINDING:
            return ActionResponse(ActionResult.ASYNC, psp_reference=psp)


Payload = TransactionActionRequest


async def answer(
    deps: PaymentDeps, ctx: Context, payload: TransactionActionRequest
) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    response = await request_charge(deps, ctx.installation_id, ctx.base_url, payload)
    return response.body()
