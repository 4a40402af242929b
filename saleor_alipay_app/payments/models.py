"""Tables of the payment flows: payments, refunds, the Antom notification inbox and the outbox of
reports to Saleor.

Money is stored twice on purpose: ``amount`` (the Saleor decimal, exact) and ``amount_minor``
(Antom's integer in minor units); they are written together from one `Amount`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from saleor_alipay_app.db import (
    JSONText,
    StrEnumType,
    UTCDateTime,
    created_at_field,
    foreign_key,
)


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


def _money() -> Any:
    return Field(sa_column=Column(Numeric(20, 3), nullable=False))


class Payment(SQLModel, table=True):
    """One attempt to charge a Saleor transaction through Antom.

    ``payment_request_id`` is derived from the Saleor transaction and the attempt number and is
    stored (unique) before Antom is called, so a retry or a concurrent duplicate can never pay
    twice.
    """

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("installation_id", "saleor_transaction_id", "attempt"),
        # The Overview's groups by day, currency, wallet, status and result code, read from the
        # index alone (bench/overview.py).
        Index(
            "ix_payment_overview",
            "installation_id",
            "created_at",
            "status",
            "wallet",
            "currency",
            "result_code",
            "amount",
        ),
        # The Overview's payments without an outcome, oldest first.
        Index("ix_payment_status_since", "status", "installation_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = foreign_key("installation.id")
    channel_config_id: int = foreign_key("channel_config.id")
    channel_slug: str = Field(max_length=255)
    saleor_transaction_id: str = Field(max_length=255, index=True)
    saleor_idempotency_key: str | None = Field(default=None, max_length=255)
    saleor_user_id: str | None = Field(default=None, max_length=255)
    # Where the transaction belongs in Saleor: the checkout or order it was started on, and the
    # order once Saleor names it (a staff action's payload, or Saleor asked for the dashboard).
    saleor_checkout_id: str | None = Field(default=None, max_length=255)
    saleor_order_id: str | None = Field(default=None, max_length=255)
    attempt: int = Field(sa_column=Column(Integer, nullable=False))
    payment_request_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    antom_payment_id: str | None = Field(default=None, max_length=64, index=True)
    agreement_id: int | None = foreign_key("agreement.id", nullable=True)
    binding_session_id: int | None = foreign_key("binding_session.id", nullable=True)
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
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Refund(SQLModel, table=True):
    __tablename__ = "refund"
    __table_args__ = (
        Index(
            "ix_refund_overview", "installation_id", "created_at", "status", "currency", "amount"
        ),
        # The Overview's refunds without an outcome, oldest first.
        Index("ix_refund_status_since", "status", "installation_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = foreign_key("payment.id")
    installation_id: int = foreign_key("installation.id")
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
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Notification(SQLModel, table=True):
    """Antom's notifications, verified and stored under a unique natural key before use."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = foreign_key("installation.id")
    channel_config_id: int = foreign_key("channel_config.id")
    kind: NotificationKind = Field(
        sa_column=Column(StrEnumType(NotificationKind, 16), nullable=False)
    )
    natural_key: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    # The raw body, encrypted: authorization notifications carry auth codes and tokens.
    body_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = created_at_field()
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    deliveries: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    last_error: str | None = Field(default=None, max_length=512)


class SaleorReport(SQLModel, table=True):
    """Outbox of `transactionEventReport` calls: written with the state change they report,
    sent until Saleor confirms; the unique key makes each report happen once."""

    __tablename__ = "saleor_report"
    __table_args__ = (
        # The Overview's reports Saleor has not confirmed, oldest first.
        Index("ix_saleor_report_status_since", "status", "installation_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = foreign_key("installation.id")
    report_key: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    saleor_transaction_id: str = Field(max_length=255)
    event_type: str = Field(max_length=32)
    psp_reference: str = Field(max_length=128)
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(20, 3)))
    message: str | None = Field(default=None, max_length=512)
    # Sent beside a payment's outcome: the transaction's name and the payment method.
    transaction_name: str | None = Field(default=None, max_length=255)
    payment_method_name: str | None = Field(default=None, max_length=256)
    available_actions: list[str] | None = Field(default=None, sa_column=Column(JSONText))
    status: ReportStatus = Field(
        sa_column=Column(StrEnumType(ReportStatus, 16), nullable=False, index=True)
    )
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # While set and ahead, one sender holds the report (`PaymentsRepository.claim_report`):
    # concurrent deliveries of the same notification, and the sweepers, leave it alone.
    sending_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, max_length=512)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
