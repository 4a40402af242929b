"""Antom's notifications: verified by the HTTP edge, stored here under a unique natural key
(the inbox) before anything acts on them, and processed idempotently. A payment notification is
stored in the same transaction as its effect: both are kept or, if that transaction fails,
neither, and Antom (unacknowledged) sends it again.

A notification is acknowledged only when its outcome is durable here and Saleor has been told
(`NotificationResult.acknowledge`); otherwise Antom sends it again and nothing is lost.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from saleor_alipay_app.agreements.binding import handle_authorization
from saleor_alipay_app.agreements.models import BindingPurpose
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.antom.models import (
    AuthorizationNotifyType,
    NotifyAuthorization,
    NotifyPayment,
    NotifyRefund,
    PaymentNotifyType,
)
from saleor_alipay_app.antom.models import RefundStatus as AntomRefundStatus
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.errors import PaymentError
from saleor_alipay_app.faults import crash_point
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import (
    Notification,
    NotificationKind,
    PaymentStatus,
    RefundStatus,
    ReportStatus,
    SaleorReport,
)
from saleor_alipay_app.payments.qr_payments import complete_binding
from saleor_alipay_app.payments.refunds import refund_report_key, settle_refund
from saleor_alipay_app.payments.reporting import SEND_LEASE, record_outcome
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import amount_of, final_report_key, settle_in

log = logging.getLogger(__name__)

NOTIFICATION_BODY_PURPOSE = "notification.body"


@dataclass(frozen=True)
class NotificationResult:
    acknowledge: bool
    reason: str = ""


def natural_key(
    config: ChannelConfig, notification: NotifyAuthorization | NotifyPayment | NotifyRefund
) -> str:
    match notification:
        case NotifyAuthorization():
            kind = notification.authorization_notify_type.value
            subject = (
                notification.auth_state
                or hashlib.sha256((notification.access_token or "").encode()).hexdigest()
            )
            return f"{config.public_id}:auth:{kind}:{subject}"
        case NotifyPayment():
            status = notification.result.result_status
            return (
                f"{config.public_id}:pay:{notification.payment_request_id}:"
                f"{notification.notify_type.value}:{status}:{notification.result.result_code}"
            )
        case NotifyRefund():
            return (
                f"{config.public_id}:refund:{notification.refund_request_id}:"
                f"{notification.refund_status.value}"
            )


async def record(
    deps: PaymentDeps,
    config: ChannelConfig,
    kind: NotificationKind,
    key: str,
    raw_body: bytes,
) -> Notification:
    """Store the notification (or count a repeat delivery); returns the inbox row."""
    async with transaction(deps.sessions) as session:
        return await _store(PaymentsRepository(session), deps, config, kind, key, raw_body)


async def _store(
    repo: PaymentsRepository,
    deps: PaymentDeps,
    config: ChannelConfig,
    kind: NotificationKind,
    key: str,
    raw_body: bytes,
) -> Notification:
    """`record` in the caller's transaction."""
    assert config.id is not None
    row = Notification(
        installation_id=config.installation_id,
        channel_config_id=config.id,
        kind=kind,
        natural_key=key[:255],
        body_encrypted=deps.keys.encrypt(
            raw_body.decode("utf-8", "replace"), NOTIFICATION_BODY_PURPOSE
        ),
        received_at=utcnow(),
    )
    if not await repo.insert(row):
        existing = await repo.count_notification_delivery(key[:255])
        assert existing is not None
        row = existing
    return row


def _mark(row: Notification, result: NotificationResult) -> None:
    """Processed, or why not yet (the row is saved with the caller's transaction)."""
    if result.acknowledge:
        row.processed_at = row.processed_at or utcnow()
        row.last_error = None
    else:
        row.last_error = result.reason[:512]


async def _finish(deps: PaymentDeps, notification_id: int | None, error: str | None) -> None:
    async with transaction(deps.sessions) as session:
        row = await session.get(Notification, notification_id)
        if row is None:
            return
        if error is None:
            row.processed_at = row.processed_at or utcnow()
            row.last_error = None
        else:
            row.last_error = error[:512]
        session.add(row)


async def process(
    deps: PaymentDeps,
    config: ChannelConfig,
    kind: NotificationKind,
    notification: NotifyAuthorization | NotifyPayment | NotifyRefund,
    raw_body: bytes,
    *,
    base_url: str,
    deadline: float,
) -> NotificationResult:
    if isinstance(notification, NotifyPayment):
        return await _process_payment(deps, config, notification, raw_body)
    row = await record(deps, config, kind, natural_key(config, notification), raw_body)
    try:
        result = await _act(deps, config, notification, base_url=base_url, deadline=deadline)
    except PaymentError as exc:
        result = NotificationResult(False, exc.merchant_message)
    await _finish(deps, row.id, None if result.acknowledge else result.reason)
    return result


async def _act(
    deps: PaymentDeps,
    config: ChannelConfig,
    notification: NotifyAuthorization | NotifyRefund,
    *,
    base_url: str,
    deadline: float,
) -> NotificationResult:
    match notification:
        case NotifyAuthorization():
            binding = await handle_authorization(deps, config, notification, deadline=deadline)
            if binding is not None:
                await complete_binding(
                    deps, binding.auth_state, base_url=base_url, deadline=deadline
                )
            if notification.authorization_notify_type is AuthorizationNotifyType.AUTHCODE_CREATED:
                return await _binding_reported(deps, notification.auth_state or "")
            return NotificationResult(True)
        case NotifyRefund():
            return await _refund(deps, config, notification)


async def _binding_reported(deps: PaymentDeps, auth_state: str) -> NotificationResult:
    """After an authorization: for a checkout, ack once the payment's report reached Saleor."""
    async with deps.sessions() as session:
        repo = PaymentsRepository(session)
        binding = await AgreementRepository(repo.session).binding(auth_state)
        if binding is None or binding.purpose is not BindingPurpose.TRANSACTION:
            return NotificationResult(True)
        payments = await repo.payments_for_transaction(
            binding.installation_id, binding.saleor_transaction_id or ""
        )
    if not payments:
        return NotificationResult(True)
    payment = payments[-1]
    if not payment.status.is_final:
        # Durable here; the sweeper follows the unknown outcome and reports it.
        return NotificationResult(True)
    if await deps.reporter.send_keys([final_report_key(payment)]):
        return NotificationResult(True)
    return NotificationResult(False, "Saleor has not confirmed the payment report yet")


async def _process_payment(
    deps: PaymentDeps, config: ChannelConfig, notification: NotifyPayment, raw_body: bytes
) -> NotificationResult:
    """A payment notification in at most two transactions. The first stores it in the inbox with
    its effect (the payment settled once, its report queued) and, when Saleor already has the
    report, marks it processed. Otherwise the report goes to Saleor, and the second transaction
    stores Saleor's answer and the notification's state."""
    key = natural_key(config, notification)
    async with transaction(deps.sessions) as session:
        repo = PaymentsRepository(session)
        row = await _store(repo, deps, config, NotificationKind.PAYMENT, key, raw_body)
        crash_point("notification.stored")
        result, report = await _settle_payment(repo, config, notification)
        if report is not None:
            assert report.id is not None
            now = utcnow()
            if not await repo.claim_report(report.id, now, now + SEND_LEASE):
                # A concurrent delivery of this notification (or a sweeper) is telling Saleor;
                # the outcome is stored and its report will reach Saleor without us.
                result, report = NotificationResult(True, "report sent by another delivery"), None
        if report is None:
            assert result is not None
            _mark(row, result)
            session.add(row)
            return result
        installation = await InstallationRepository(session).get(report.installation_id)
    crash_point("notification.settled")
    outcome = await deps.reporter.post(report, installation)
    result = (
        NotificationResult(True)
        if outcome.status is ReportStatus.DONE
        else NotificationResult(False, "Saleor has not confirmed the payment report yet")
    )
    async with transaction(deps.sessions) as session:
        assert report.id is not None
        await record_outcome(session, report.id, outcome)
        stored = await session.get(Notification, row.id)
        if stored is not None:
            _mark(stored, result)
            session.add(stored)
    return result


async def _settle_payment(
    repo: PaymentsRepository, config: ChannelConfig, notification: NotifyPayment
) -> tuple[NotificationResult | None, SaleorReport | None]:
    """The notification's effect, in the caller's transaction: (the answer to Antom, None), or
    (None, the payment's report still to send to Saleor)."""
    payment = await repo.payment_by_request_id(notification.payment_request_id)
    if payment is None or payment.channel_config_id != config.id or payment.id is None:
        log.warning("payment notification for an unknown payment")
        return NotificationResult(True, "unknown payment"), None
    if notification.payment_amount != amount_of(payment):
        log.error(
            "payment notification amount differs from the payment",
            extra={"payment": payment.payment_request_id},
        )
        return NotificationResult(True, "amount mismatch; ignored"), None
    if notification.notify_type is PaymentNotifyType.PAYMENT_PENDING:
        return NotificationResult(True), None
    payment_id = payment.id
    status = notification.result.result_status
    if status == "S":
        payment, _ = await settle_in(
            repo,
            payment_id,
            PaymentStatus.SUCCEEDED,
            code="SUCCESS",
            antom_payment_id=notification.payment_id,
            paid_at=notification.payment_time or utcnow(),
        )
    elif status == "F":
        payment, _ = await settle_in(
            repo,
            payment_id,
            PaymentStatus.FAILED,
            code=notification.result.result_code,
            message=notification.result.result_message,
            antom_payment_id=notification.payment_id,
        )
    else:
        return NotificationResult(True), None
    if not payment.status.is_final:
        return NotificationResult(False, "payment state did not move"), None
    report = await repo.report_by_key(final_report_key(payment))
    if report is None:
        return NotificationResult(False, "Saleor has not confirmed the payment report yet"), None
    if report.status is ReportStatus.DONE:
        return NotificationResult(True), None
    return None, report


async def _refund(
    deps: PaymentDeps, config: ChannelConfig, notification: NotifyRefund
) -> NotificationResult:
    async with deps.sessions() as session:
        repo = PaymentsRepository(session)
        refund = await repo.refund_by_request_id(notification.refund_request_id)
        payment = await repo.payment(refund.payment_id) if refund is not None else None
    if refund is None or payment is None or payment.channel_config_id != config.id:
        log.warning("refund notification for an unknown refund")
        return NotificationResult(True, "unknown refund")
    if notification.refund_amount.value != int(refund.amount_minor):
        log.error("refund notification amount differs", extra={"refund": refund.refund_request_id})
        return NotificationResult(True, "amount mismatch; ignored")
    if notification.refund_status is AntomRefundStatus.SUCCESS:
        refund = await settle_refund(
            deps,
            refund.refund_request_id,
            RefundStatus.SUCCEEDED,
            "SUCCESS",
            antom_refund_id=notification.refund_id,
        )
    elif notification.refund_status is AntomRefundStatus.FAIL:
        refund = await settle_refund(
            deps,
            refund.refund_request_id,
            RefundStatus.FAILED,
            notification.result.result_code,
            message=notification.result.result_message,
            antom_refund_id=notification.refund_id,
        )
    else:
        return NotificationResult(True)
    if await deps.reporter.send_keys([refund_report_key(refund, payment.saleor_transaction_id)]):
        return NotificationResult(True)
    return NotificationResult(False, "Saleor has not confirmed the refund report yet")
