"""The customs declaration table (API.md §7.12-7.13) and its states.

One row per ``declarationRequestId``: a declaration of (part of) a paid Alipay CN payment to one
customs authority. Its states are written to the payments ``History`` table
(subject ``DECLARATION``) in the same transaction as the change. The buyer's certificate number
and name are personal data: stored encrypted, shown masked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Boolean, Column, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from saleor_alipay_app.db import StrEnumType, UTCDateTime, utcnow

CERTIFICATE_NO_PURPOSE = "declaration.certificate_no"
HOLDER_NAME_PURPOSE = "declaration.holder_name"
# Antom accepts a re-declaration only this long after the previous call (API.md §7.12).
RESEND_PAUSE: Final = timedelta(minutes=5)


class DeclarationStatus(StrEnum):
    PENDING = "PENDING"  # stored; Antom's answer to the last declare is not known yet
    IN_PROCESS = "IN_PROCESS"  # accepted by Antom; customs is processing it
    COMPLETED = "COMPLETED"  # customs finished: recorded (2) or verified (120)
    REJECTED = "REJECTED"  # customs finished with an error code: correct it and re-declare
    FAILED = "FAILED"  # Antom refused the declaration: it does not exist at customs

    @classmethod
    def open_statuses(cls) -> frozenset[DeclarationStatus]:
        """States that an inquiry may still change (Antom or customs is not done)."""
        return frozenset({cls.PENDING, cls.IN_PROCESS})

    @classmethod
    def final_statuses(cls) -> frozenset[DeclarationStatus]:
        """States where Antom and customs are done (REJECTED may still be re-declared)."""
        return frozenset({cls.COMPLETED, cls.REJECTED, cls.FAILED})


def _fk(target: str) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False),
    )


def _time(nullable: bool = True) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Declaration(SQLModel, table=True):
    """A customs declaration of a paid payment; ``declaration_request_id`` is derived from the
    payment and ``sequence`` and stored before Antom is called."""

    __tablename__ = "declaration"
    __table_args__ = (UniqueConstraint("payment_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    channel_config_id: int = _fk("channel_config.id")
    payment_id: int = _fk("payment.id")
    payment_request_id: str = Field(max_length=64, index=True)
    antom_payment_id: str = Field(max_length=64)
    sequence: int = Field(sa_column=Column(Integer, nullable=False))
    declaration_request_id: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    customs_code: str = Field(max_length=28)
    merchant_customs_code: str = Field(max_length=128)
    merchant_customs_name: str = Field(max_length=256)
    currency: str = Field(max_length=3)
    amount: Decimal = Field(sa_column=Column(Numeric(20, 3), nullable=False))
    amount_minor: int = Field(sa_column=Column(Numeric(20, 0), nullable=False))
    split_order: bool = Field(sa_column=Column(Boolean, nullable=False))
    suborder_id: str | None = Field(default=None, max_length=64)
    certificate_type: str = Field(max_length=16)
    certificate_no_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    holder_name_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    status: DeclarationStatus = Field(
        sa_column=Column(StrEnumType(DeclarationStatus, 16), nullable=False, index=True)
    )
    result_code: str | None = Field(default=None, max_length=64)
    result_message: str | None = Field(default=None, max_length=256)
    # What Antom answered (declare) and reported (inquiryDeclarationRequests).
    customs_payment_id: str | None = Field(default=None, max_length=64)
    customs_order_id: str | None = Field(default=None, max_length=64)
    identity_check_result: str | None = Field(default=None, max_length=32)
    clearing_channel: str | None = Field(default=None, max_length=16)
    clearing_transaction_id: str | None = Field(default=None, max_length=64)
    customs_provider_registration_id: str | None = Field(default=None, max_length=64)
    antom_status: str | None = Field(default=None, max_length=32)
    customs_result_code: str | None = Field(default=None, max_length=16)
    customs_result_desc: str | None = Field(default=None, max_length=256)
    customs_return_time: datetime | None = _time()
    last_call_at: datetime = _time(nullable=False)
    last_inquiry_at: datetime | None = _time()
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)
