"""Refunds: one Antom refund per refund row (its refundRequestId stored first), settled from the
answer, a notification or an inquiry; unknown outcomes are inquired, never believed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import InquiryRefundRequest, RefundRequest
from saleor_alipay_app.antom.models import RefundStatus as AntomRefundStatus
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.results import Outcome, merchant_message
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.channels.service import notification_path
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.faults import crash_point
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Payment, Refund, RefundStatus
from saleor_alipay_app.payments.reporting import enqueue_report, report_key
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import REFUNDABLE_ACTIONS, transaction_name
from saleor_alipay_app.saleor.responses import ActionResponse, ActionResult

REFUND_INQUIRY_BACKOFF = timedelta(seconds=5)


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


async def send_refund(
    deps: PaymentDeps, refund: Refund, payment: Payment, *, base_url: str, deadline: float
) -> Refund:
    async with deps.sessions() as session:
        config = await ChannelConfigRepository(session).config(payment.channel_config_id)
    assert config is not None
    assert payment.antom_payment_id is not None, "a paid payment has Antom's paymentId"
    crash_point("refund.claimed")
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
    crash_point("refund.answered")
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
        HistoryRepository(repo.session).add(
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
            transaction_name=transaction_name(payment),
            send_after=deps.confirm_delay if delay_report else None,
        )
    crash_point("refund.settled")
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
        config = await ChannelConfigRepository(repo.session).config(payment.channel_config_id)
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
