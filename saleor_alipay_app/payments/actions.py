"""Staff actions from the Saleor dashboard: refund, cancel and charge.

Saleor waits 18 s and retries these only on HTTP 5xx; a timeout becomes a failure at once. So
Antom gets a short budget: a quick final answer goes back in the sync form, anything slower in
the async form (`{"pspReference": ...}`) and the outcome follows through
`transactionEventReport` (from the notification or the sweeper).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from decimal import Decimal

from saleor_alipay_app.agreements.service import usable
from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import InquiryRefundRequest, RefundRequest
from saleor_alipay_app.antom.models import RefundStatus as AntomRefundStatus
from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.antom.results import Outcome, merchant_message, shopper_message
from saleor_alipay_app.antom.wallets import Wallet, WalletLimitError, check_refund
from saleor_alipay_app.channels.service import notification_path
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import (
    HistorySubject,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from saleor_alipay_app.payments.reporting import enqueue_report, report_key
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import (
    REFUNDABLE_ACTIONS,
    amount_of,
    cancel_at_antom,
    create_payment,
    deadline_in,
    major_amount,
    send_pay,
    settle,
)
from saleor_alipay_app.saleor.payloads import TransactionActionRequest
from saleor_alipay_app.saleor.responses import ActionResponse, ActionResult

log = logging.getLogger(__name__)

ACTION_BUDGET = 8.0
REFUND_INQUIRY_BACKOFF = timedelta(seconds=5)


async def _payments(deps: PaymentDeps, installation_id: int, transaction_id: str) -> list[Payment]:
    async with deps.sessions() as session:
        return await PaymentsRepository(session).payments_for_transaction(
            installation_id, transaction_id
        )


def _paid(payments: list[Payment]) -> Payment | None:
    paid = [p for p in payments if p.status is PaymentStatus.SUCCEEDED]
    return paid[-1] if paid else None


# -- refunds -----------------------------------------------------------------------------------


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


def refund_amount(refund: Refund) -> Decimal:
    """The refund's amount with exactly its currency's digits."""
    return Amount(refund.currency, int(refund.amount_minor)).to_decimal()


def refund_response(refund: Refund, *, more_refundable: bool = True) -> ActionResponse:
    match refund.status:
        case RefundStatus.SUCCEEDED:
            return ActionResponse(
                ActionResult.REFUND_SUCCESS,
                psp_reference=refund.refund_request_id,
                amount=refund_amount(refund),
                # Once everything is refunded, the dashboard offers no further refund.
                actions=REFUNDABLE_ACTIONS if more_refundable else [],
            )
        case RefundStatus.FAILED:
            return ActionResponse(
                ActionResult.REFUND_FAILURE,
                psp_reference=refund.refund_request_id,
                amount=refund_amount(refund),
                message=refund_failure_message(refund),
            )
        case RefundStatus.PROCESSING:
            return ActionResponse(ActionResult.ASYNC, psp_reference=refund.refund_request_id)


def refund_failure_message(refund: Refund) -> str:
    code = refund.result_code or "UNKNOWN"
    return f"{merchant_message(code)} ({code})"


def _refused(message: str) -> ActionResponse:
    return ActionResponse(ActionResult.REFUND_FAILURE, message=message)


async def request_refund(
    deps: PaymentDeps, installation_id: int, base_url: str, payload: TransactionActionRequest
) -> ActionResponse:
    deadline = deadline_in(ACTION_BUDGET)
    key = refund_request_key(installation_id, payload)
    async with deps.sessions() as session:
        existing = await PaymentsRepository(session).refund_by_request_key(key)
    if existing is not None:
        return refund_response(existing)
    payment = _paid(await _payments(deps, installation_id, payload.transaction.id))
    if payment is None or payment.id is None:
        return _refused("Nothing was charged on this transaction, so nothing can be refunded.")
    try:
        amount = Amount.from_decimal(payload.action.amount, payload.action.currency)
    except AmountError as exc:
        return _refused(f"The refund amount cannot be refunded exactly: {exc}")
    if amount.currency != payment.currency:
        return _refused(f"Refunds must be in {payment.currency}, the payment's currency.")
    if amount.value <= 0:
        return _refused("A refund must be for more than zero.")
    async with transaction(deps.sessions) as session:
        repo = PaymentsRepository(session)
        locked = await repo.payment_for_update(payment.id)
        assert locked is not None
        refunds = await repo.refunds_for_payment(payment.id)
        taken = sum(
            (Decimal(r.amount_minor) for r in refunds if r.status is not RefundStatus.FAILED),
            Decimal(0),
        )
        left = Amount(payment.currency, int(Decimal(payment.amount_minor) - taken))
        if amount > left:
            return _refused(
                f"The refund of {amount.to_decimal()} {amount.currency} is more than what "
                f"remains refundable ({left.to_decimal()} {left.currency})."
            )
        try:
            check_refund(Wallet(payment.wallet), amount, payment.paid_at or utcnow(), utcnow())
        except WalletLimitError as exc:
            return _refused(exc.merchant_message)
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
            repo.add_history(
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
            return ActionResponse(
                ActionResult.REFUND_FAILURE,
                message="Another refund of this payment is being created; try again.",
            )
    refund = await send_refund(deps, refund, payment, base_url=base_url, deadline=deadline)
    return refund_response(refund, more_refundable=amount < left)


async def send_refund(
    deps: PaymentDeps, refund: Refund, payment: Payment, *, base_url: str, deadline: float
) -> Refund:
    async with deps.sessions() as session:
        config = await PaymentsRepository(session).config(payment.channel_config_id)
    assert config is not None
    assert payment.antom_payment_id is not None, "a paid payment has Antom's paymentId"
    client = deps.antom.for_config(config)
    request = RefundRequest(
        refund_request_id=refund.refund_request_id,
        payment_id=payment.antom_payment_id,
        refund_amount=Amount(refund.currency, int(refund.amount_minor)),
        refund_notify_url=base_url + notification_path(config, "refund"),
    )
    try:
        response = await client.refund(request, deadline=deadline)
    except AntomUnavailable:
        return refund
    match response.outcome:
        case Outcome.SUCCESS:
            return await settle_refund(
                deps, refund.refund_request_id, RefundStatus.SUCCEEDED, "SUCCESS",
                antom_refund_id=response.model.refund_id, delay_report=True,
            )  # fmt: skip
        case Outcome.FAILURE | Outcome.RETRY_NEW_REQUEST if not response.verified:
            # An unsigned failure proves nothing on a money call (API.md §8): answer in the
            # async form and let the signed inquiry (sweeper) decide.
            return refund
        case Outcome.FAILURE | Outcome.RETRY_NEW_REQUEST:
            return await settle_refund(
                deps, refund.refund_request_id, RefundStatus.FAILED, response.result_code,
                message=response.model.result.result_message, delay_report=True,
            )  # fmt: skip
        case Outcome.UNKNOWN_INQUIRE | Outcome.RETRY_SAME_REQUEST:
            return refund


async def settle_refund(
    deps: PaymentDeps,
    refund_request_id: str,
    status: RefundStatus,
    code: str,
    *,
    message: str | None = None,
    antom_refund_id: str | None = None,
    delay_report: bool = False,
) -> Refund:
    """Store a refund's final outcome once and queue its report to Saleor."""
    async with transaction(deps.sessions) as session:
        repo = PaymentsRepository(session)
        refund = await repo.refund_by_request_id(refund_request_id)
        assert refund is not None
        if refund.status is not RefundStatus.PROCESSING:
            return refund
        payment = await repo.payment(refund.payment_id)
        assert payment is not None
        refund.status = status
        refund.result_code = code[:64]
        refund.result_message = message[:256] if message else None
        refund.antom_refund_id = antom_refund_id or refund.antom_refund_id
        refund.next_inquiry_at = None
        refund.updated_at = utcnow()
        session.add(refund)
        repo.add_history(
            installation_id=refund.installation_id,
            subject=HistorySubject.REFUND,
            subject_id=refund.id,
            reference=refund.refund_request_id,
            status=status.value,
            detail=code,
        )
        event = "REFUND_SUCCESS" if status is RefundStatus.SUCCEEDED else "REFUND_FAILURE"
        key = await enqueue_report(
            repo,
            installation_id=refund.installation_id,
            transaction_id=payment.saleor_transaction_id,
            event_type=event,
            psp_reference=refund.refund_request_id,
            amount=refund_amount(refund),
            message=None if status is RefundStatus.SUCCEEDED else refund_failure_message(refund),
        )
        if delay_report:
            report = await repo.report_by_key(key)
            if report is not None:
                report.next_attempt_at = utcnow() + deps.confirm_delay
                session.add(report)
    if not delay_report:
        await deps.reporter.send_keys([key])
    return refund


def refund_report_key(refund: Refund, transaction_id: str) -> str:
    event = "REFUND_SUCCESS" if refund.status is RefundStatus.SUCCEEDED else "REFUND_FAILURE"
    return report_key(transaction_id, event, refund.refund_request_id)


async def inquire_refund(deps: PaymentDeps, refund_id: int, *, deadline: float) -> Refund:
    async with deps.sessions() as session:
        repo = PaymentsRepository(session)
        refund = await repo.refund(refund_id)
        assert refund is not None
        payment = await repo.payment(refund.payment_id)
        assert payment is not None
        config = await repo.config(payment.channel_config_id)
    assert config is not None
    if refund.status is not RefundStatus.PROCESSING:
        return refund
    client = deps.antom.for_config(config)
    try:
        response = await client.inquiry_refund(
            InquiryRefundRequest(refund_request_id=refund.refund_request_id), deadline=deadline
        )
    except AntomUnavailable:
        return refund
    if response.outcome is not Outcome.SUCCESS:
        if response.result_code == "ORDER_NOT_EXIST" and refund.inquiry_count >= 3:
            # Still absent after three inquiries: the refund was never created (API.md §7.10).
            return await settle_refund(
                deps, refund.refund_request_id, RefundStatus.FAILED, "ORDER_NOT_EXIST"
            )
        return refund
    match response.model.refund_status:
        case AntomRefundStatus.SUCCESS:
            return await settle_refund(
                deps, refund.refund_request_id, RefundStatus.SUCCEEDED, "SUCCESS",
                antom_refund_id=response.model.refund_id,
            )  # fmt: skip
        case AntomRefundStatus.FAIL:
            return await settle_refund(
                deps, refund.refund_request_id, RefundStatus.FAILED, "FAIL",
                antom_refund_id=response.model.refund_id,
            )  # fmt: skip
        case AntomRefundStatus.PROCESSING | None:
            return refund


# -- cancel ------------------------------------------------------------------------------------


async def request_cancel(
    deps: PaymentDeps, installation_id: int, payload: TransactionActionRequest
) -> ActionResponse:
    deadline = deadline_in(ACTION_BUDGET)
    payments = await _payments(deps, installation_id, payload.transaction.id)
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


# -- charge ------------------------------------------------------------------------------------


async def request_charge(
    deps: PaymentDeps, installation_id: int, base_url: str, payload: TransactionActionRequest
) -> ActionResponse:
    """Staff "charge": the payment is already captured when it succeeded; after a failed one, a
    new attempt charges the same agreement (merchant-initiated) if it is still active."""
    deadline = deadline_in(ACTION_BUDGET)
    payments = await _payments(deps, installation_id, payload.transaction.id)
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
            await repo.agreement(latest.agreement_id) if latest.agreement_id is not None else None
        )
        config = await repo.config(latest.channel_config_id)
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
            wallet=latest.wallet,
            amount=amount,
            status=PaymentStatus.PROCESSING,
            agreement_id=agreement.id,
            attempt=latest.attempt + 1,
        )
    assert payment.id is not None
    if created:
        payment = await send_pay(deps, payment.id, base_url=base_url, deadline=deadline)
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
