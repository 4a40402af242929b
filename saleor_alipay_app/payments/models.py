"""Tables of the payment flows: channel configurations, agreements, binding sessions, payments,
refunds, the Antom notification inbox and the outbox of reports to Saleor.

Money is stored twice on purpose: ``amount`` (the Saleor decimal, exact) and ``amount_minor``
(Antom's integer in minor units); they are written together from one `Amount`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from saleor_alipay_app.db import JSONText, StrEnumType, UTCDateTime, utcnow


class AgreementStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"  # ended by us (shopper, staff or guest cleanup)
    INVALID = "INVALID"  # Antom said INVALID_ACCESS_TOKEN or TOKEN_CANCELED
    EXPIRED = "EXPIRED"  # refresh token expired

    @classmethod
    def final_statuses(cls) -> frozenset[AgreementStatus]:
        """Statuses that never change again."""
        return frozenset({cls.REVOKED, cls.INVALID, cls.EXPIRED})

    @classmethod
    def open_statuses(cls) -> frozenset[AgreementStatus]:
        """Statuses that can still change."""
        return frozenset({cls.ACTIVE})

    @property
    def is_final(self) -> bool:
        return self in self.final_statuses()


class BindingPurpose(StrEnum):
    TRANSACTION = "TRANSACTION"  # bind, then pay a Saleor transaction
    TOKENIZATION = "TOKENIZATION"  # bind only (save a wallet from the account page)


class BindingStatus(StrEnum):
    PENDING = "PENDING"  # QR code shown, waiting for the shopper
    AUTHORIZED = "AUTHORIZED"  # auth code received, token exchange under way
    BOUND = "BOUND"  # agreement stored
    FAILED = "FAILED"  # declined, code refused, or token exchange failed
    EXPIRED = "EXPIRED"  # QR code expired without authorization

    @classmethod
    def final_statuses(cls) -> frozenset[BindingStatus]:
        """Statuses that never change again."""
        return frozenset({cls.BOUND, cls.FAILED, cls.EXPIRED})

    @classmethod
    def open_statuses(cls) -> frozenset[BindingStatus]:
        """Statuses that can still change."""
        return frozenset({cls.PENDING, cls.AUTHORIZED})

    @property
    def is_final(self) -> bool:
        return self in self.final_statuses()


class PaymentStatus(StrEnum):
    AWAITING_BINDING = "AWAITING_BINDING"  # no agreement yet: QR code shown
    PROCESSING = "PROCESSING"  # pay sent; outcome not final (U, timeout, 5xx)
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @classmethod
    def final_statuses(cls) -> frozenset[PaymentStatus]:
        """Statuses that never change again."""
        return frozenset({cls.SUCCEEDED, cls.FAILED, cls.CANCELLED})

    @classmethod
    def open_statuses(cls) -> frozenset[PaymentStatus]:
        """Statuses that can still change."""
        return frozenset({cls.AWAITING_BINDING, cls.PROCESSING})

    @property
    def is_final(self) -> bool:
        return self in self.final_statuses()


class RefundStatus(StrEnum):
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @classmethod
    def final_statuses(cls) -> frozenset[RefundStatus]:
        """Statuses that never change again."""
        return frozenset({cls.SUCCEEDED, cls.FAILED})

    @classmethod
    def open_statuses(cls) -> frozenset[RefundStatus]:
        """Statuses that can still change."""
        return frozenset({cls.PROCESSING})

    @property
    def is_final(self) -> bool:
        return self in self.final_statuses()


class NotificationKind(StrEnum):
    AUTHORIZATION = "AUTHORIZATION"
    PAYMENT = "PAYMENT"
    REFUND = "REFUND"


class ReportStatus(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"  # Saleor refused it for good (logged for an operator)

    @classmethod
    def final_statuses(cls) -> frozenset[ReportStatus]:
        """Statuses that never change again."""
        return frozenset({cls.DONE, cls.FAILED})

    @classmethod
    def open_statuses(cls) -> frozenset[ReportStatus]:
        """Statuses that can still change."""
        return frozenset({cls.PENDING})

    @property
    def is_final(self) -> bool:
        return self in self.final_statuses()


def _fk(target: str, *, nullable: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable),
    )


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


def _money() -> Any:
    return Field(sa_column=Column(Numeric(20, 3), nullable=False))


class ChannelConfig(SQLModel, table=True):
    """Antom credentials of one Saleor channel of one installation."""

    __tablename__ = "channel_config"
    __table_args__ = (UniqueConstraint("installation_id", "channel_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    channel_slug: str = Field(max_length=255)
    # Public, random: names the configuration in Antom notification URLs.
    public_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    client_id: str = Field(max_length=128)
    merchant_private_key_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    antom_public_key: str = Field(sa_column=Column(Text, nullable=False))
    region: str = Field(max_length=32)
    base_url: str = Field(max_length=512)
    sandbox: bool = Field(sa_column=Column(Boolean, nullable=False))
    enabled_wallets: list[str] = Field(sa_column=Column(JSONText, nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Agreement(SQLModel, table=True):
    """A bound wallet (a Saleor stored payment method): Antom's access token for one shopper."""

    __tablename__ = "agreement"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    installation_id: int = _fk("installation.id")
    channel_config_id: int = _fk("channel_config.id")
    channel_slug: str = Field(max_length=255)
    saleor_user_id: str | None = Field(default=None, max_length=255, index=True)
    customer_email: str | None = Field(default=None, max_length=320)
    guest: bool = Field(sa_column=Column(Boolean, nullable=False))
    wallet: str = Field(max_length=64)
    access_token_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    # SHA-256 of the access token: finds the agreement named by a TOKEN_CANCELED notification.
    access_token_sha256: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    access_token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    refresh_token_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    refresh_token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    user_login_id: str | None = Field(default=None, max_length=128)
    status: AgreementStatus = Field(
        sa_column=Column(StrEnumType(AgreementStatus, 16), nullable=False, index=True)
    )
    status_reason: str | None = Field(default=None, max_length=256)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class BindingSession(SQLModel, table=True):
    """One QR code: Antom's `authState`, what it is for, and where it stands."""

    __tablename__ = "binding_session"

    id: int | None = Field(default=None, primary_key=True)
    auth_state: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    installation_id: int = _fk("installation.id")
    channel_config_id: int = _fk("channel_config.id")
    channel_slug: str = Field(max_length=255)
    purpose: BindingPurpose = Field(
        sa_column=Column(StrEnumType(BindingPurpose, 16), nullable=False)
    )
    saleor_user_id: str | None = Field(default=None, max_length=255)
    customer_email: str | None = Field(default=None, max_length=320)
    saleor_transaction_id: str | None = Field(default=None, max_length=255, index=True)
    wallet: str = Field(max_length=64)
    qr_code_value: str = Field(sa_column=Column(Text, nullable=False))
    auth_urls: dict[str, str] = Field(sa_column=Column(JSONText, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: BindingStatus = Field(sa_column=Column(StrEnumType(BindingStatus, 16), nullable=False))
    failure_reason: str | None = Field(default=None, max_length=256)
    agreement_id: int | None = _fk("agreement.id", nullable=True)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Payment(SQLModel, table=True):
    """One attempt to charge a Saleor transaction through Antom.

    ``payment_request_id`` is derived from the Saleor transaction and the attempt number and is
    stored (unique) before Antom is called, so a retry or a concurrent duplicate can never pay
    twice.
    """

    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("installation_id", "saleor_transaction_id", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    channel_config_id: int = _fk("channel_config.id")
    channel_slug: str = Field(max_length=255)
    saleor_transaction_id: str = Field(max_length=255, index=True)
    saleor_idempotency_key: str | None = Field(default=None, max_length=255)
    saleor_user_id: str | None = Field(default=None, max_length=255)
    attempt: int = Field(sa_column=Column(Integer, nullable=False))
    payment_request_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    antom_payment_id: str | None = Field(default=None, max_length=64, index=True)
    agreement_id: int | None = _fk("agreement.id", nullable=True)
    binding_session_id: int | None = _fk("binding_session.id", nullable=True)
    wallet: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    amount: Decimal = _money()
    amount_minor: int = Field(sa_column=Column(Numeric(20, 0), nullable=False))
    status: PaymentStatus = Field(
        sa_column=Column(StrEnumType(PaymentStatus, 24), nullable=False, index=True)
    )
    result_code: str | None = Field(default=None, max_length=64)
    result_message: str | None = Field(default=None, max_length=256)
    paid_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    next_inquiry_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    inquiry_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    deadline_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Refund(SQLModel, table=True):
    __tablename__ = "refund"

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = _fk("payment.id")
    installation_id: int = _fk("installation.id")
    # Identifies Saleor's request so that its retries of the same webhook refund once.
    saleor_request_key: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    refund_request_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    antom_refund_id: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    amount: Decimal = _money()
    amount_minor: int = Field(sa_column=Column(Numeric(20, 0), nullable=False))
    status: RefundStatus = Field(
        sa_column=Column(StrEnumType(RefundStatus, 16), nullable=False, index=True)
    )
    result_code: str | None = Field(default=None, max_length=64)
    result_message: str | None = Field(default=None, max_length=256)
    next_inquiry_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    inquiry_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Notification(SQLModel, table=True):
    """Antom's notifications, verified and stored under a unique natural key before use."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    channel_config_id: int = _fk("channel_config.id")
    kind: NotificationKind = Field(
        sa_column=Column(StrEnumType(NotificationKind, 16), nullable=False)
    )
    natural_key: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    # The raw body, encrypted: authorization notifications carry auth codes and tokens.
    body_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = _created()
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    deliveries: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    last_error: str | None = Field(default=None, max_length=512)


class SaleorReport(SQLModel, table=True):
    """Outbox of `transactionEventReport` calls: written with the state change they report,
    sent until Saleor confirms; the unique key makes each report happen once."""

    __tablename__ = "saleor_report"

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    report_key: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    saleor_transaction_id: str = Field(max_length=255)
    event_type: str = Field(max_length=32)
    psp_reference: str = Field(max_length=128)
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(20, 3)))
    message: str | None = Field(default=None, max_length=512)
    available_actions: list[str] | None = Field(default=None, sa_column=Column(JSONText))
    status: ReportStatus = Field(
        sa_column=Column(StrEnumType(ReportStatus, 16), nullable=False, index=True)
    )
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, max_length=512)
    created_at: datetime = _created()
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class HistorySubject(StrEnum):
    PAYMENT = "PAYMENT"
    REFUND = "REFUND"
    BINDING = "BINDING"
    AGREEMENT = "AGREEMENT"
    REPORT = "REPORT"
    DECLARATION = "DECLARATION"


class History(SQLModel, table=True):
    """Every state a payment, refund, binding, agreement or report went through, in order,
    for the people who follow payments (dashboard pages and the CLI)."""

    __tablename__ = "history"

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    subject: HistorySubject = Field(
        sa_column=Column(StrEnumType(HistorySubject, 16), nullable=False)
    )
    subject_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    reference: str = Field(max_length=255, index=True)
    status: str = Field(max_length=32)
    detail: str | None = Field(default=None, max_length=512)
    created_at: datetime = _created()
