"""Every query of reconciliation: days, imported files, their rows and summaries, and the
payments and refunds of ours they are matched to. Importing, matching and the use-cases call
these and never write SQL themselves; the import's hot paths go straight to the driver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from saleor_alipay_app.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from saleor_alipay_app.reconciliation.models import (
    DayStatus,
    MatchKind,
    ReconciliationDay,
    ReconciliationFile,
    ReconciliationRow,
    ReconciliationSummary,
    ReportKind,
)

ROW_TABLE = ReconciliationRow.__table__  # type: ignore[attr-defined]
SUMMARY_TABLE = ReconciliationSummary.__table__  # type: ignore[attr-defined]


BULK_CACHE_KIB = 32 * 1024
ROW_COLUMNS: tuple[str, ...] = (
    "installation_id", "day_id", "file_id", "line", "source", "kind", "transaction_id",
    "transaction_request_id", "transaction_type", "amount_minor", "currency",
    "settlement_batch_id", "settlement_amount_minor", "settlement_currency", "fee_minor",
    "fee_currency", "transaction_time", "our_amount_minor", "our_currency", "our_status",
    "detail",
)  # fmt: skip


def _insert_sql(paramstyle: str | None) -> str:
    marks = _marks(paramstyle, len(ROW_COLUMNS))
    # Only constant names and placeholders go into the statement; values are bound.
    statement = f"INSERT INTO {ROW_TABLE.name} ({', '.join(ROW_COLUMNS)}) "
    return statement + f"VALUES ({', '.join(marks)})"


def _marks(paramstyle: str | None, count: int) -> list[str]:
    match paramstyle:
        case "qmark":
            return ["?"] * count
        case "numeric_dollar":
            return [f"${i}" for i in range(1, count + 1)]
        case "numeric":
            return [f":{i}" for i in range(1, count + 1)]
        case "format":
            return ["%s"] * count
        case _:
            raise NotImplementedError(f"paramstyle {paramstyle!r}")


def _lookup_sql(table: str, key: str, count: int, paramstyle: str | None) -> str:
    # Only constant names and placeholders go into the statement; values are bound.
    statement = f"SELECT {key}, status, amount_minor, currency, installation_id "
    return statement + f"FROM {table} WHERE {key} IN ({', '.join(_marks(paramstyle, count))})"


@dataclass(frozen=True)
class Ours:
    """A payment or refund of ours, as reconciliation needs it."""

    status: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class BatchTotals:
    settlement_batch_id: str
    transaction_type: str
    count: int
    settlement_minor: int
    fee_minor: int
    currencies: frozenset[str]


_MISSING_AT_ANTOM_COLUMNS: Final = (
    "installation_id", "day_id", "kind", "transaction_id", "transaction_request_id",
    "transaction_type", "our_amount_minor", "our_currency", "our_status", "detail",
)  # fmt: skip


@dataclass(frozen=True)
class _OurSide:
    """Our payments or our refunds, as the MISSING_AT_ANTOM query reads them."""

    transaction_type: str
    installation_id: Mapped[int]
    status: Mapped[Any]
    succeeded: StrEnum
    succeeded_at: Mapped[Any]
    antom_id: Mapped[Any]
    request_id: Mapped[Any]
    amount: Mapped[int] | ColumnElement[int]  # with the report's sign
    currency: Mapped[str]
    detail: str

    def absent(
        self, installation_id: int, day_id: int, start: datetime, end: datetime
    ) -> Select[Any]:
        """Those that succeeded in [start, end) and no transaction details row lists."""
        listed = ROW_TABLE.alias("listed")
        return select(
            literal(installation_id),
            literal(day_id),
            literal(MatchKind.MISSING_AT_ANTOM.value),
            self.antom_id,
            self.request_id,
            literal(self.transaction_type),
            self.amount,
            self.currency,
            literal(self.succeeded.value),
            literal(self.detail),
        ).where(
            self.installation_id == installation_id,
            self.status == self.succeeded,
            self.succeeded_at >= start,
            self.succeeded_at < end,
            ~exists().where(
                listed.c.installation_id == installation_id,
                listed.c.transaction_request_id == self.request_id,
                listed.c.source == ReportKind.TRANSACTION_ITEMS.value,
                listed.c.transaction_type == self.transaction_type,
            ),
        )


_PAYMENTS: Final = _OurSide(
    transaction_type="PAYMENT",
    installation_id=col(Payment.installation_id),
    status=col(Payment.status),
    succeeded=PaymentStatus.SUCCEEDED,
    succeeded_at=col(Payment.paid_at),
    antom_id=col(Payment.antom_payment_id),
    request_id=col(Payment.payment_request_id),
    amount=col(Payment.amount_minor),
    currency=col(Payment.currency),
    detail="paid here, absent from Antom's transaction details",
)
_REFUNDS: Final = _OurSide(
    transaction_type="REFUND",
    installation_id=col(Refund.installation_id),
    status=col(Refund.status),
    succeeded=RefundStatus.SUCCEEDED,
    succeeded_at=col(Refund.updated_at),
    antom_id=col(Refund.antom_refund_id),
    request_id=col(Refund.refund_request_id),
    amount=-col(Refund.amount_minor),
    currency=col(Refund.currency),
    detail="refunded here, absent from Antom's transaction details",
)


class ReconciliationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def prepare_bulk_work(self) -> None:
        """SQLite: a page cache large enough for the indexes a large import walks (the
        default 2 MB makes every batch re-read them). A setting of this connection only."""
        connection = await self.session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")

    # -- days ---------------------------------------------------------------------------------

    async def day(self, installation_id: int, day: date) -> ReconciliationDay | None:
        result = await self.session.execute(
            select(ReconciliationDay).where(
                col(ReconciliationDay.installation_id) == installation_id,
                col(ReconciliationDay.day) == day,
            )
        )
        return result.scalar_one_or_none()

    async def day_by_id(self, day_id: int) -> ReconciliationDay | None:
        return await self.session.get(ReconciliationDay, day_id)

    async def day_or_new(self, installation_id: int, day: date) -> ReconciliationDay:
        found = await self.day(installation_id, day)
        if found is not None:
            return found
        record = ReconciliationDay(
            installation_id=installation_id, day=day, status=DayStatus.IMPORTED
        )
        self.session.add(record)
        await self.session.flush()
        return record

    async def days(self, installation_id: int, limit: int, offset: int) -> list[ReconciliationDay]:
        result = await self.session.execute(
            select(ReconciliationDay)
            .where(col(ReconciliationDay.installation_id) == installation_id)
            .order_by(col(ReconciliationDay.day).desc())
            .limit(limit)
            .offset(offset)
        )
        return list(result.scalars())

    # -- files --------------------------------------------------------------------------------

    async def file_by_sha(self, installation_id: int, sha256: str) -> ReconciliationFile | None:
        result = await self.session.execute(
            select(ReconciliationFile).where(
                col(ReconciliationFile.installation_id) == installation_id,
                col(ReconciliationFile.sha256) == sha256,
            )
        )
        return result.scalar_one_or_none()

    async def files_named(self, installation_id: int, name: str) -> list[ReconciliationFile]:
        result = await self.session.execute(
            select(ReconciliationFile).where(
                col(ReconciliationFile.installation_id) == installation_id,
                col(ReconciliationFile.name) == name,
            )
        )
        return list(result.scalars())

    async def files_of_day(self, day_id: int) -> list[ReconciliationFile]:
        result = await self.session.execute(
            select(ReconciliationFile)
            .where(col(ReconciliationFile.day_id) == day_id)
            .order_by(col(ReconciliationFile.id))
        )
        return list(result.scalars())

    async def add_file(self, file: ReconciliationFile) -> None:
        """Store a new file row (its id is set on return)."""
        self.session.add(file)
        await self.session.flush()

    async def delete_file(self, file_id: int) -> None:
        await self.session.execute(delete(ROW_TABLE).where(ROW_TABLE.c.file_id == file_id))
        await self.session.execute(delete(SUMMARY_TABLE).where(SUMMARY_TABLE.c.file_id == file_id))
        await self.session.execute(
            delete(ReconciliationFile).where(col(ReconciliationFile.id) == file_id)
        )

    # -- our side -----------------------------------------------------------------------------

    async def payments_by_request_id(
        self, installation_id: int, request_ids: Iterable[str]
    ) -> dict[str, Ours]:
        return await self._ours_by_request_id(
            "payment", "payment_request_id", installation_id, request_ids
        )

    async def refunds_by_request_id(
        self, installation_id: int, request_ids: Iterable[str]
    ) -> dict[str, Ours]:
        return await self._ours_by_request_id(
            "refund", "refund_request_id", installation_id, request_ids
        )

    async def _ours_by_request_id(
        self, table: str, key: str, installation_id: int, request_ids: Iterable[str]
    ) -> dict[str, Ours]:
        ids = list(set(request_ids))
        if not ids:
            return {}
        # By the unique request id alone (its index), straight to the driver: the hot path.
        connection = await self.session.connection()
        result = await connection.exec_driver_sql(
            _lookup_sql(table, key, len(ids), connection.dialect.paramstyle), tuple(ids)
        )
        found: list[Any] = list(result)
        return {
            row[0]: Ours(row[1], int(row[2]), row[3]) for row in found if row[4] == installation_id
        }

    # -- rows ---------------------------------------------------------------------------------

    async def insert_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(ROW_TABLE), list(rows))

    async def insert_row_values(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows given as tuples in :data:`ROW_COLUMNS` order, straight to the driver
        (the import's hot path: no per-row work in SQLAlchemy)."""
        if not rows:
            return
        connection = await self.session.connection()
        await connection.exec_driver_sql(_insert_sql(connection.dialect.paramstyle), list(rows))

    async def insert_summaries(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(SUMMARY_TABLE), list(rows))

    async def rows_to_rematch(self, day_id: int, after_id: int, limit: int) -> list[Any]:
        """Imported rows not matched (yet), in id order from ``after_id``."""
        result = await self.session.execute(
            select(
                ROW_TABLE.c.id,
                ROW_TABLE.c.transaction_type,
                ROW_TABLE.c.transaction_request_id,
                ROW_TABLE.c.amount_minor,
                ROW_TABLE.c.currency,
                ROW_TABLE.c.kind,
            )
            .where(
                ROW_TABLE.c.day_id == day_id,
                ROW_TABLE.c.file_id.is_not(None),
                ROW_TABLE.c.kind.not_in(sorted(k.value for k in MatchKind.settled_kinds())),
                ROW_TABLE.c.id > after_id,
            )
            .order_by(ROW_TABLE.c.id)
            .limit(limit)
        )
        return list(result)

    async def update_row(self, row_id: int, values: Mapping[str, Any]) -> None:
        await self.session.execute(
            update(ROW_TABLE).where(ROW_TABLE.c.id == row_id).values(**values)
        )

    async def replace_missing_at_antom(
        self, installation_id: int, day_id: int, start: datetime, end: datetime
    ) -> None:
        """Our succeeded payments and refunds of the window that no imported transaction
        details report lists, as MISSING_AT_ANTOM rows of the day (computed in SQL)."""
        await self.session.execute(
            delete(ROW_TABLE).where(
                ROW_TABLE.c.day_id == day_id,
                ROW_TABLE.c.kind == MatchKind.MISSING_AT_ANTOM.value,
            )
        )
        for side in (_PAYMENTS, _REFUNDS):
            await self.session.execute(
                insert(ROW_TABLE).from_select(
                    _MISSING_AT_ANTOM_COLUMNS, side.absent(installation_id, day_id, start, end)
                )
            )

    async def counts(self, day_id: int) -> dict[MatchKind, int]:
        result = await self.session.execute(
            select(ROW_TABLE.c.kind, func.count())
            .where(ROW_TABLE.c.day_id == day_id)
            .group_by(ROW_TABLE.c.kind)
        )
        return {MatchKind(row[0]): int(row[1]) for row in result}

    async def has_rows_of(self, day_id: int, source: ReportKind) -> bool:
        result = await self.session.execute(
            select(func.count())
            .select_from(ReconciliationFile)
            .where(
                col(ReconciliationFile.day_id) == day_id,
                col(ReconciliationFile.kind) == source,
            )
        )
        return int(result.scalar_one()) > 0

    async def settlement_totals(self, day_id: int) -> list[tuple[str, str | None, int, int]]:
        """(settlement currency, fee currency, Σ settlement, Σ fee) of the day's settlement
        detail rows."""
        result = await self.session.execute(
            select(
                ROW_TABLE.c.settlement_currency,
                ROW_TABLE.c.fee_currency,
                func.coalesce(func.sum(ROW_TABLE.c.settlement_amount_minor), 0),
                func.coalesce(func.sum(ROW_TABLE.c.fee_minor), 0),
            )
            .where(
                ROW_TABLE.c.day_id == day_id,
                ROW_TABLE.c.source == ReportKind.SETTLEMENT_ITEMS.value,
            )
            .group_by(ROW_TABLE.c.settlement_currency, ROW_TABLE.c.fee_currency)
        )
        return [(row[0], row[1], int(row[2]), int(row[3])) for row in result]

    async def batch_totals(self, day_id: int) -> list[BatchTotals]:
        result = await self.session.execute(
            select(
                ROW_TABLE.c.settlement_batch_id,
                ROW_TABLE.c.transaction_type,
                func.count(),
                func.coalesce(func.sum(ROW_TABLE.c.settlement_amount_minor), 0),
                func.coalesce(func.sum(ROW_TABLE.c.fee_minor), 0),
                func.min(ROW_TABLE.c.settlement_currency),
                func.max(ROW_TABLE.c.settlement_currency),
            )
            .where(
                ROW_TABLE.c.day_id == day_id,
                ROW_TABLE.c.source == ReportKind.SETTLEMENT_ITEMS.value,
            )
            .group_by(ROW_TABLE.c.settlement_batch_id, ROW_TABLE.c.transaction_type)
        )
        return [
            BatchTotals(
                settlement_batch_id=row[0],
                transaction_type=row[1],
                count=int(row[2]),
                settlement_minor=int(row[3]),
                fee_minor=int(row[4]),
                currencies=frozenset(c for c in (row[5], row[6]) if c),
            )
            for row in result
        ]

    async def summaries(self, day_id: int) -> list[ReconciliationSummary]:
        result = await self.session.execute(
            select(ReconciliationSummary)
            .where(col(ReconciliationSummary.day_id) == day_id)
            .order_by(col(ReconciliationSummary.id))
        )
        return list(result.scalars())

    async def day_rows(
        self,
        day_id: int,
        kinds: Sequence[MatchKind] | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ReconciliationRow], int]:
        conditions = [col(ReconciliationRow.day_id) == day_id]
        if kinds:
            conditions.append(col(ReconciliationRow.kind).in_([k.value for k in kinds]))
        total = await self.session.execute(
            select(func.count()).select_from(ReconciliationRow).where(*conditions)
        )
        rows = await self.session.execute(
            select(ReconciliationRow)
            .where(*conditions)
            .order_by(col(ReconciliationRow.id))
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars()), int(total.scalar_one())
