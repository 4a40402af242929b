"""The history table: every state a payment, refund, binding, agreement, report or declaration
went through, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Integer
from sqlmodel import Field, SQLModel

from saleor_alipay_app.db import (
    StrEnumType,
    created_at_field,
    foreign_key,
)


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
    installation_id: int = foreign_key("installation.id")
    subject: HistorySubject = Field(
        sa_column=Column(StrEnumType(HistorySubject, 16), nullable=False)
    )
    subject_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    reference: str = Field(max_length=255, index=True)
    status: str = Field(max_length=32)
    detail: str | None = Field(default=None, max_length=512)
    created_at: datetime = created_at_field()
