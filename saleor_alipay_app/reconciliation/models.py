"""Tables of reconciliation: the days, the report files imported, their rows with what each was
matched to, and the settlement summaries.

Amounts are integers in minor units (exact sums on SQLite and PostgreSQL alike); the report's
sign is kept (refunds and cancellations are negative).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from saleor_alipay_app.db import JSONText, StrEnumType, UTCDateTime, utcnow


class ReportKind(StrEnum):
    TRANSACTION_ITEMS = "transactionItems"
    SETTLEMENT_ITEMS = "settlementItems"
    SETTLEMENT_SUMMARY = "settlementSummary"


class DayStatus(StrEnum):
    IMPORTED = "IMPORTED"  # files imported, the day not (yet) reconciled
    MATCHED = "MATCHED"  # every row matched and every summary checks
    MISMATCHED = "MISMATCHED"  # something does not match


class MatchKind(StrEnum):
    MATCHED = "MATCHED"
    MISSING_HERE = "MISSING_HERE"  # at Antom, not here
    MISSING_AT_ANTOM = "MISSING_AT_ANTOM"  # here (succeeded), absent from Antom's report
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    STATUS_MISMATCH = "STATUS_MISMATCH"
    OTHER = "OTHER"  # a settlement-only row (fees, reserves...): nothing of ours to match

    @classmethod
    def settled_kinds(cls) -> frozenset[MatchKind]:
        """Kinds a later match cannot change: the rows left alone when a day is reconciled."""
        return frozenset({cls.MATCHED, cls.OTHER})

    @classmethod
    def unsettled_kinds(cls) -> frozenset[MatchKind]:
        """Kinds a later match may change: the rows matched again when a day is reconciled."""
        return frozenset(cls) - cls.settled_kinds()


MISMATCH_KINDS = frozenset(
    {MatchKind.AMOUNT_MISMATCH, MatchKind.CURRENCY_MISMATCH, MatchKind.STATUS_MISMATCH}
)


def _fk(target: str, *, nullable: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable),
    )


def _minor(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(BigInteger, nullable=nullable))


class ReconciliationDay(SQLModel, table=True):
    """The result of reconciling one day (Antom's day, UTC+8) for one installation."""

    __tablename__ = "reconciliation_day"
    __table_args__ = (UniqueConstraint("installation_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    day: date = Field(sa_column=Column(Date, nullable=False))
    status: DayStatus = Field(sa_column=Column(StrEnumType(DayStatus, 16), nullable=False))
    matched: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    missing_here: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    missing_at_antom: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    mismatched: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    other: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # Per settlement currency: gross, fees, net (decimal strings), summaryChecked, problems.
    currencies: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONText, nullable=False)
    )
    has_transaction_report: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    imported_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    reconciled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ReconciliationFile(SQLModel, table=True):
    """One imported report file; its content hash makes a re-import a no-op."""

    __tablename__ = "reconciliation_file"
    __table_args__ = (UniqueConstraint("installation_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    day_id: int = _fk("reconciliation_day.id")
    name: str = Field(max_length=255)
    kind: ReportKind = Field(sa_column=Column(StrEnumType(ReportKind, 24), nullable=False))
    sha256: str = Field(max_length=64)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    rows: int = Field(sa_column=Column(Integer, nullable=False))
    imported_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ReconciliationRow(SQLModel, table=True):
    """A row of a transaction or settlement details report with what it matched here, or one
    of our succeeded payments/refunds that Antom's report lacks (no file, MISSING_AT_ANTOM)."""

    __tablename__ = "reconciliation_row"
    __table_args__ = (
        Index("ix_reconciliation_row_day_kind", "day_id", "kind"),
        Index("ix_reconciliation_row_request", "installation_id", "transaction_request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    day_id: int = _fk("reconciliation_day.id")
    file_id: int | None = _fk("reconciliation_file.id", nullable=True)
    line: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    source: ReportKind | None = Field(
        default=None, sa_column=Column(StrEnumType(ReportKind, 24), nullable=True)
    )
    kind: MatchKind = Field(sa_column=Column(StrEnumType(MatchKind, 24), nullable=False))
    transaction_id: str | None = Field(default=None, max_length=64)
    transaction_request_id: str | None = Field(default=None, max_length=64)
    transaction_type: str = Field(max_length=32)
    amount_minor: int | None = _minor()
    currency: str | None = Field(default=None, max_length=3)
    settlement_batch_id: str | None = Field(default=None, max_length=64)
    settlement_amount_minor: int | None = _minor()
    settlement_currency: str | None = Field(default=None, max_length=3)
    fee_minor: int | None = _minor()
    fee_currency: str | None = Field(default=None, max_length=3)
    transaction_time: str | None = Field(default=None, max_length=40)
    our_amount_minor: int | None = _minor()
    our_currency: str | None = Field(default=None, max_length=3)
    our_status: str | None = Field(default=None, max_length=24)
    detail: str | None = Field(default=None, max_length=256)


class ReconciliationSummary(SQLModel, table=True):
    """A row of a settlement summary report, to check against the detail rows."""

    __tablename__ = "reconciliation_summary"

    id: int | None = Field(default=None, primary_key=True)
    installation_id: int = _fk("installation.id")
    day_id: int = _fk("reconciliation_day.id", nullable=False)
    file_id: int = _fk("reconciliation_file.id")
    line: int = Field(sa_column=Column(Integer, nullable=False))
    settlement_batch_id: str = Field(max_length=64)
    summary_type: str = Field(max_length=32)
    count: int = Field(sa_column=Column(Integer, nullable=False))
    settlement_amount_minor: int = _minor(nullable=False)
    settlement_currency: str = Field(max_length=3)
    fee_minor: int | None = _minor()
    fee_currency: str | None = Field(default=None, max_length=3)
