"""TRANSACTION_REFUND_REQUESTED: a full or partial refund of a paid transaction."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.antom.wallets import Wallet, WalletLimitError, check_refund
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Refund, RefundStatus
from saleor_alipay_app.payments.refunds import REFUND_INQUIRY_BACKOFF, refund_response, send_refund
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import ACTION_BUDGET, paid_payment, transaction_payments
from saleor_alipay_app.payments.webhooks.common import Context
from saleor_alipay_app.saleor.payloads import TransactionActionRequest
from saleor_alipay_app.saleor.responses import ActionResponse, ActionResult


def refund_request_key(installation_id: int, payload: TransactionActionRequest) -> str:
    """Identifies Saleor's request across its retries of the same delivery."""
    parts = [
        str(installation_id),
        payload.transaction.id,
        payload.issued_at or "",
        format(payload.action.amount, "f"),
        payload.granted_refund.id if payload.granted_refund else "",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _refused(message: str, key: str) -> ActionResponse:
    """A refusal before anything reached Antom. It carries a pspReference of its own, derived from
    Saleor's request (the same on Saleor's retries of it): without one, Saleor merges a second
    refused refund of the transaction into the first, and the later request shows no result."""
    return ActionResponse(
        ActionResult.REFUND_FAILURE, psp_reference=f"refusal-{key[:24]}", message=message
    )


async def request_refund(
    deps: PaymentDeps, installation_id: int, base_url: str, payload: TransactionActionRequest
) -> ActionResponse:
    deadline = deadline_in(ACTION_BUDGET)
    key = refund_request_key(installation_id, payload)
    async with deps.sessions() as session:
        existing = await PaymentsRepository(session).refund_by_request_key(key)
    if existing is not None:
        return refund_response(existing)
    payment = paid_payment(
        await transaction_payments(deps, installation_id, payload.transaction.id)
    )
    if payment is None or payment.id is None:
        return _refused("Nothing was charged on this transaction, so nothing can be refunded.", key)
    try:
        amount = Amount.from_decimal(payload.action.amount, payload.action.currency)
    except AmountError as exc:
        return _refused(f"The refund amount cannot be refunded exactly: {exc}", key)
    if amount.currency != payment.currency:
        return _refused(f"Refunds must be in {payment.currency}, the payment's currency.", key)
    if amount.value <= 0:
        return _refused("A refund must be for more than zero.", key)
    async with transaction(deps.sessions) as session:
        repo = PaymentsRepository(session)
        locked = await repo.payment_for_update(payment.id)
        assert locked is not None
        order = payload.transaction.order
        if order is not None and locked.saleor_order_id is None:
            # A refund is asked on an order: the dashboard links the payment to it.
            await repo.note_order(installation_id, payment.saleor_transaction_id, order.id)
        refunds = await repo.refunds_for_payment(payment.id)
        taken = sum(
            (Decimal(r.amount_minor) for r in refunds if r.status is not RefundStatus.FAILED),
            Decimal(0),
        )
        left = Amount(payment.currency, int(Decimal(payment.amount_minor) - taken))
        if amount > left:
            return _refused(
                f"The refund of {amount.to_decimal()} {amount.currency} is more than what "
                f"remains refundable ({left.to_decimal()} {left.currency}).",
                key,
            )
        try:
            check_refund(Wallet(payment.wallet), amount, payment.paid_at or utcnow(), utcnow())
        except WalletLimitError as exc:
            return _refused(exc.merchant_message, key)
        now = utcnow()
        refund = Refund(
            payment_id=payment.id,
            installation_id=installation_id,
            saleor_request_key=key,
            refund_request_id=f"{payment.payment_request_id}-r{len(refunds) + 1}",
            currency=amount.currency,
            amount=amount.to_decimal(),
            amount_minor=amount.value,
            status=RefundStatus.PROCESSING,
            next_inquiry_at=now + REFUND_INQUIRY_BACKOFF,
            created_at=now,
            updated_at=now,
        )
        inserted = await repo.insert(refund)
        if inserted:
            HistoryRepository(repo.session).add(
                installation_id=installation_id,
                subject=HistorySubject.REFUND,
                subject_id=refund.id,
                reference=refund.refund_request_id,
                status=RefundStatus.PROCESSING.value,
                detail=f"{amount.to_decimal()} {amount.currency} requested by Saleor",
            )
        if not inserted:
            raced = await repo.refund_by_request_key(key)
            if raced is not None:
                return refund_response(raced)
            return _refused("Another refund of this payment is being created; try again.", key)
    refund = await send_refund(deps, refund, payment, base_url=base_url, deadline=deadline)
    return refund_response(refund, more_refundable=amount < left)


Payload = TransactionActionRequest


async def answer(
    deps: PaymentDeps, ctx: Context, payload: TransactionActionRequest
) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    response = await request_refund(deps, ctx.installation_id, ctx.base_url, payload)
    return response.body()
