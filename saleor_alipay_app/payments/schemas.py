"""Views: what people (dashboard and CLI) may see of payments, refunds, history, reports and
notifications. Never a token or a key; amounts with their currency's digits."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

from saleor_alipay_app.agreements.service import wallet_name
from saleor_alipay_app.antom.money import AmountError, minor_digits
from saleor_alipay_app.crypto import CryptoError, KeyRing
from saleor_alipay_app.db import iso_time
from saleor_alipay_app.payments.models import (
    Notification,
    NotificationKind,
    Payment,
    Refund,
    SaleorReport,
)
from saleor_alipay_app.payments.notifications import NOTIFICATION_BODY_PURPOSE


def money_text(value: Decimal | None, currency: str | None = None) -> str | None:
    """A decimal string with the currency's digits (``123.45``, IDR ``10000.00``, JPY ``1200``)."""
    if value is None:
        return None
    if currency is not None:
        with contextlib.suppress(AmountError, ArithmeticError):
            value = value.quantize(Decimal(1).scaleb(-minor_digits(currency)))
    return format(value, "f")


def payment_view(
    payment: Payment, *, agreement_id: str | None = None, refunded: Decimal | None = None
) -> dict[str, Any]:
    return {
        "paymentRequestId": payment.payment_request_id,
        "paymentId": payment.antom_payment_id,
        "transactionId": payment.saleor_transaction_id,
        # Saleor's global ids of the order (null until Saleor names it) and of the checkout the
        # transaction was started on: the dashboard opens the order's page.
        "orderId": payment.saleor_order_id,
        "checkoutId": payment.saleor_checkout_id,
        "attempt": payment.attempt,
        "channel": payment.channel_slug,
        "customerId": payment.saleor_user_id,
        "agreementId": agreement_id,
        "wallet": payment.wallet,
        "walletName": wallet_name(payment.wallet),
        "amount": money_text(payment.amount, payment.currency),
        "currency": payment.currency,
        "refundedAmount": money_text(
            refunded if refunded is not None else Decimal(0), payment.currency
        ),
        "status": payment.status.value,
        "resultCode": payment.result_code,
        "resultMessage": payment.result_message,
        "inquiries": payment.inquiry_count,
        "nextInquiryAt": iso_time(payment.next_inquiry_at),
        "createdAt": iso_time(payment.created_at),
        "updatedAt": iso_time(payment.updated_at),
        "paidAt": iso_time(payment.paid_at),
    }


def refund_view(refund: Refund, payment: Payment) -> dict[str, Any]:
    return {
        "refundRequestId": refund.refund_request_id,
        "refundId": refund.antom_refund_id,
        "paymentRequestId": payment.payment_request_id,
        "transactionId": payment.saleor_transaction_id,
        "channel": payment.channel_slug,
        "wallet": payment.wallet,
        "amount": money_text(refund.amount, refund.currency),
        "currency": refund.currency,
        "status": refund.status.value,
        "resultCode": refund.result_code,
        "resultMessage": refund.result_message,
        "createdAt": iso_time(refund.created_at),
        "updatedAt": iso_time(refund.updated_at),
    }


def report_view(report: SaleorReport, currency: str | None = None) -> dict[str, Any]:
    return {
        "eventType": report.event_type,
        "pspReference": report.psp_reference,
        "amount": money_text(report.amount, currency),
        "message": report.message,
        "status": report.status.value,
        "attempts": report.attempts,
        "lastError": report.last_error,
        "createdAt": iso_time(report.created_at),
        "sentAt": iso_time(report.sent_at),
    }


# Fields of a notification body shown to people; authorization notifications carry auth codes
# and access tokens, so only their type and authState are shown.
_SAFE_FIELDS: dict[NotificationKind, tuple[str, ...]] = {
    NotificationKind.AUTHORIZATION: ("authorizationNotifyType", "authState", "reason"),
    NotificationKind.PAYMENT: (
        "notifyType",
        "result",
        "paymentRequestId",
        "paymentId",
        "paymentAmount",
        "paymentTime",
    ),
    NotificationKind.REFUND: (
        "notifyType",
        "result",
        "refundStatus",
        "refundRequestId",
        "refundId",
        "refundAmount",
        "refundTime",
    ),
}


def notification_view(notification: Notification, keys: KeyRing) -> dict[str, Any]:
    body: dict[str, Any] = {}
    try:
        raw = json.loads(keys.decrypt(notification.body_encrypted, NOTIFICATION_BODY_PURPOSE))
    except (CryptoError, ValueError):
        raw = None
    if isinstance(raw, dict):
        body = {k: raw[k] for k in _SAFE_FIELDS[notification.kind] if k in raw}
    return {
        "kind": notification.kind.value,
        "receivedAt": iso_time(notification.received_at),
        "processedAt": iso_time(notification.processed_at),
        "deliveries": notification.deliveries,
        "lastError": notification.last_error,
        "body": body,
    }
