"""The sandbox's state: what the simulated Antom remembers between calls.

Plain pydantic models so that the SQLite store can keep each record as one JSON document.
Amounts are kept as currency + integer minor units (``antom.money.Amount`` on the way in and out).
Payment and refund statuses are Antom's own enums (``antom.models``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from saleor_alipay_app.antom.models import PaymentStatus, RefundStatus
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.wallets import Wallet

from .config import ApiCall

__all__ = [
    "AuthSession",
    "AuthStatus",
    "Binding",
    "BindingStatus",
    "Declaration",
    "DeclaredFields",
    "Money",
    "Notification",
    "NotificationAttempt",
    "NotificationStatus",
    "Payment",
    "Refund",
    "SandboxPaymentStatus",
    "SettlementQuote",
    "StoredMerchant",
]


class Money(BaseModel):
    currency: str
    value: int

    @classmethod
    def of(cls, amount: Amount) -> Money:
        return cls(currency=amount.currency, value=amount.value)

    def amount(self) -> Amount:
        return Amount(self.currency, self.value)

    def to_api(self) -> dict[str, str]:
        return {"currency": self.currency, "value": str(self.value)}


class SettlementQuote(BaseModel):
    """A locked FX quote: the payment currency converted into the settlement currency."""

    quote_id: str
    currency_pair: str
    price: str
    start_time: datetime
    expiry_time: datetime
    gross_settlement: Money


class StoredMerchant(BaseModel):
    client_id: str
    public_key_pem: str | None = None
    auth_notify_url: str | None = None
    payment_notify_url: str | None = None
    refund_notify_url: str | None = None
    merchant_id: str
    key_version: int = 1
    wallets: list[Wallet] | None = None


class AuthStatus(StrEnum):
    CREATED = "CREATED"  # consulted, QR shown, shopper has not answered
    APPROVED = "APPROVED"  # shopper approved, authCode issued
    DECLINED = "DECLINED"  # shopper declined
    TOKEN_ISSUED = "TOKEN_ISSUED"  # noqa: S105 - authCode exchanged for a token


class AuthSession(BaseModel):
    auth_id: str
    client_id: str
    auth_state: str
    wallet: Wallet
    scopes: list[str]
    auth_redirect_url: str
    auth_notify_url: str | None = None
    terminal_type: str
    created_at: datetime
    status: AuthStatus = AuthStatus.CREATED
    auth_code: str | None = None
    auth_code_issued_at: datetime | None = None
    auth_code_used: bool = False
    user_login_id: str | None = None
    binding_id: str | None = None
    auth_url: str


class BindingStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"  # merchant called revoke
    CANCELED = "CANCELED"  # shopper unbound in the wallet (TOKEN_CANCELED sent)
    INVALIDATED = "INVALIDATED"  # killed by the INVALID_ACCESS_TOKEN scenario


class Binding(BaseModel):
    binding_id: str
    client_id: str
    wallet: Wallet
    auth_state: str
    user_login_id: str
    user_id: str
    access_token: str
    access_token_expiry: datetime
    refresh_token: str | None = None
    refresh_token_expiry: datetime | None = None
    status: BindingStatus = BindingStatus.ACTIVE
    created_at: datetime
    ended_at: datetime | None = None
    auth_notify_url: str | None = None


# Antom's payment statuses as the sandbox uses them: it never reports PENDING.
SandboxPaymentStatus = Literal[
    PaymentStatus.SUCCESS, PaymentStatus.FAIL, PaymentStatus.PROCESSING, PaymentStatus.CANCELLED
]


class Payment(BaseModel):
    payment_id: str
    payment_request_id: str
    client_id: str
    wallet: Wallet
    binding_id: str | None = None
    user_login_id: str | None = None
    amount: Money
    settlement_currency: str
    quote: SettlementQuote | None = None
    reference_order_id: str
    order_description: str
    reference_merchant_id: str = ""
    fingerprint: dict[str, str]
    status: SandboxPaymentStatus
    result_code: str
    result_message: str
    create_time: datetime
    expiry_time: datetime
    payment_time: datetime | None = None
    cancel_id: str | None = None
    cancel_time: datetime | None = None
    notify_url: str | None = None
    # scheduled work (sandbox clock): when PROCESSING ends and how, when a failure is notified
    finalize_at: datetime | None = None
    finalize_code: str | None = None
    fail_notify_at: datetime | None = None
    # how many `pay` requests named this paymentRequestId (the first one and every repeat);
    # shown by GET /sandbox/api/payments so that tests can prove a payment was sent once
    pay_requests: int = 1


class Refund(BaseModel):
    refund_id: str
    refund_request_id: str
    client_id: str
    payment_id: str
    amount: Money
    reference_refund_id: str | None = None
    refund_reason: str | None = None
    status: RefundStatus
    result_code: str
    result_message: str
    create_time: datetime
    refund_time: datetime | None = None
    notify_url: str | None = None
    quote: SettlementQuote | None = None
    finalize_at: datetime | None = None


class NotificationStatus(StrEnum):
    PENDING = "PENDING"  # attempts left, not acknowledged yet
    DELIVERED = "DELIVERED"  # the merchant acknowledged
    GAVE_UP = "GAVE_UP"  # every attempt of the schedule failed
    NO_URL = "NO_URL"  # neither the request nor the merchant settings name a URL


class NotificationAttempt(BaseModel):
    number: int
    at: datetime
    outcome: str  # ACKNOWLEDGED | NOT_ACKNOWLEDGED | ERROR | DROPPED
    http_status: int | None = None
    response_body: str | None = None
    error: str | None = None


class Notification(BaseModel):
    notification_id: str
    client_id: str
    kind: ApiCall
    url: str | None
    body: str
    reference: str
    status: NotificationStatus = NotificationStatus.PENDING
    created_at: datetime
    drop_first: int = 0
    next_attempt_epoch: float | None = None  # wall clock (time.time()) of the next attempt
    attempts: list[NotificationAttempt] = Field(default_factory=list)


class DeclaredFields(BaseModel):
    """What a declare request states; a re-sent one (a correction) states it all again."""

    payment_id: str
    amount: Money
    customs_code: str
    region: str
    merchant_customs_code: str
    merchant_customs_name: str
    split_order: bool
    suborder_id: str | None = None
    certificate_type: str | None = None
    certificate_no: str | None = None
    holder_name: str | None = None


class Declaration(DeclaredFields):
    declaration_request_id: str
    client_id: str
    customs_payment_id: str
    customs_order_id: str
    clearing_transaction_id: str
    created_at: datetime
    last_call_at: datetime
    last_request: str  # canonical JSON of the last accepted request body
