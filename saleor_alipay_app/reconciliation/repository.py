"""Every query of reconciliation: days, imported files, their rows and summaries, and the
payments and refunds of ours they are matched to. Importing, matching and the use-cases call
these and never write SQL themselves.

The import's hot path: each batch of parsed rows goes straight to the driver into a temporary
staging table (``executemany`` on SQLite, ``COPY`` on PostgreSQL), then one ``INSERT ...
SELECT`` joins it with our payments and refunds, classifies every row and stores it
(:data:`MATCH_SQL`, the same rules as :func:`~saleor_alipay_app.reconciliation.matching.classify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import reduce
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
from saleor_alipay_app.reconciliation.parser import (
    SETTLEMENT_ONLY_TYPES,
    STAGE_COLUMNS,
    ItemBatch,
)

ROW_TABLE = ReconciliationRow.__table__  # type: ignore[attr-defined]
SUMMARY_TABLE = ReconciliationSummary.__table__  # type: ignore[attr-defined]
PAYMENT_TABLE = Payment.__table__  # type: ignore[attr-defined]
REFUND_TABLE = Refund.__table__  # type: ignore[attr-defined]


BULK_CACHE_KIB = 32 * 1024
ROW_COLUMNS: tuple[str, ...] = (
    "installation_id", "day_id", "file_id", "line", "source", "kind", "transaction_id",
    "transaction_request_id", "transaction_type", "amount_minor", "currency",
    "settlement_batch_id", "settlement_amount_minor", "settlement_currency", "fee_minor",
    "fee_currency", "transaction_time", "our_amount_minor", "our_currency", "our_status",
    "detail",
)  # fmt: skip


# -- the import's staging table and the set-based match ------------------------------------------

STAGE_TABLE: Final = "reconciliation_stage"
_STAGE_TYPES: Final = (
    "INTEGER", "VARCHAR(64)", "VARCHAR(64)", "TEXT", "BIGINT", "VARCHAR(3)", "VARCHAR(40)",
    "VARCHAR(64)", "BIGINT", "VARCHAR(3)", "BIGINT", "VARCHAR(3)",
)  # fmt: skip
_STAGE_DDL: Final = ", ".join(f"{n} {t}" for n, t in zip(STAGE_COLUMNS, _STAGE_TYPES, strict=True))

# The reasons a row is given; classify() gives the same ones.
NO_PAYMENT: Final = "no payment with this request id here"
NO_REFUND: Final = "no refund with this request id here"
CANCELLED_LATER: Final = "cancelled here later (Antom reverses it)"
SETTLEMENT_ONLY: Final = ": settlement only"
NOT_OURS: Final = " transactions are not made by this app"


def _sql(value: str) -> str:
    """A constant of this module as an SQL string literal (never a value from a report)."""
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(_sql(v) for v in sorted(values))


def _match_sql() -> str:
    """``INSERT ... SELECT``: the staged rows joined with our payments (PAYMENT, CANCEL) and
    refunds (REFUND) by request id, each classified like ``matching.classify`` (an amount
    mismatch's reason, which formats money, is written afterwards: :meth:`amount_mismatches`).
    A row that matches exactly is told by the first test; the others go through the rules in
    ``classify``'s order. The join keys are NULL for the other table's types, so that SQLite
    seeks one index per row, not both. Only constants of this module go into the statement;
    values are bound."""
    payment, cancel, refund = _sql("PAYMENT"), _sql("CANCEL"), _sql("REFUND")
    settlement_only = _sql_list(SETTLEMENT_ONLY_TYPES)
    cancelled = _sql(PaymentStatus.CANCELLED.value)
    matched = """m.our_status = m.wanted AND m.currency = m.our_currency
            AND m.amount_minor = m.expected"""
    kind = f"""CASE
        WHEN {matched} THEN {_sql(MatchKind.MATCHED.value)}
        WHEN m.wanted IS NOT NULL THEN CASE
            WHEN m.our_status IS NULL THEN {_sql(MatchKind.MISSING_HERE.value)}
            WHEN m.currency <> m.our_currency THEN {_sql(MatchKind.CURRENCY_MISMATCH.value)}
            WHEN m.amount_minor <> m.expected THEN {_sql(MatchKind.AMOUNT_MISMATCH.value)}
            WHEN m.transaction_type = {payment} AND m.our_status = {cancelled}
                THEN {_sql(MatchKind.MATCHED.value)}
            ELSE {_sql(MatchKind.STATUS_MISMATCH.value)} END
        WHEN m.transaction_type IN ({settlement_only}) THEN {_sql(MatchKind.OTHER.value)}
        ELSE {_sql(MatchKind.MISSING_HERE.value)} END"""
    detail = f"""CASE
        WHEN {matched} THEN NULL
        WHEN m.wanted IS NOT NULL THEN CASE
            WHEN m.our_status IS NULL THEN CASE WHEN m.transaction_type = {refund}
                THEN {_sql(NO_REFUND)} ELSE {_sql(NO_PAYMENT)} END
            WHEN m.currency <> m.our_currency
                THEN {_sql("Antom ")} || m.currency || {_sql(", here ")} || m.our_currency
            WHEN m.amount_minor <> m.expected THEN NULL
            WHEN m.transaction_type = {payment} AND m.our_status = {cancelled}
                THEN {_sql(CANCELLED_LATER)}
            ELSE {_sql("Antom lists a successful ")} || LOWER(m.transaction_type)
                || {_sql("; here it is ")} || m.our_status END
        WHEN m.transaction_type IN ({settlement_only})
            THEN m.transaction_type || {_sql(SETTLEMENT_ONLY)}
        ELSE m.transaction_type || {_sql(NOT_OURS)} END"""
    staged = ", ".join(f"s.{c}" for c in STAGE_COLUMNS)
    # Only this module's constants are formatted in (names, kinds, reasons); values are bound.
    return f"""INSERT INTO {ROW_TABLE.name} ({", ".join(ROW_COLUMNS)})
SELECT CAST(:installation_id AS INTEGER), CAST(:day_id AS INTEGER), CAST(:file_id AS INTEGER),
    m.line, :source, {kind}, m.transaction_id, m.transaction_request_id,
    SUBSTR(m.transaction_type, 1, 32), m.amount_minor, m.currency, m.settlement_batch_id,
    m.settlement_amount_minor, m.settlement_currency, m.fee_minor, m.fee_currency,
    m.transaction_time, m.expected, m.our_currency, m.our_status, SUBSTR({detail}, 1, 256)
FROM (
    SELECT {staged},
        COALESCE(p.status, r.status) AS our_status,
        CASE WHEN p.amount_minor IS NULL THEN -r.amount_minor
            WHEN s.transaction_type = {payment} THEN p.amount_minor
            ELSE -p.amount_minor END AS expected,
        COALESCE(p.currency, r.currency) AS our_currency,
        CASE s.transaction_type
            WHEN {payment} THEN {_sql(PaymentStatus.SUCCEEDED.value)}
            WHEN {cancel} THEN {cancelled}
            WHEN {refund} THEN {_sql(RefundStatus.SUCCEEDED.value)} END AS wanted
    FROM {STAGE_TABLE} s
    LEFT JOIN payment p ON p.payment_request_id = CASE
            WHEN s.transaction_type IN ({payment}, {cancel}) THEN s.transaction_request_id END
        AND p.installation_id = CAST(:installation_id AS INTEGER)
    LEFT JOIN refund r ON r.refund_request_id = CASE
            WHEN s.transaction_type = {refund} THEN s.transaction_request_id END
        AND r.installation_id = CAST(:installation_id AS INTEGER)
) m"""  # noqa: S608


MATCH_SQL: Final = _match_sql()
MATCH_PARAMETERS: Final = ("installation_id", "day_id", "file_id", "source")
_POSITIONAL_MATCH_SQL: Final = reduce(
    lambda sql, n: sql.replace(f":{MATCH_PARAMETERS[n]}", f"${n + 1}"),
    range(len(MATCH_PARAMETERS)),
    MATCH_SQL,
)  # asyncpg's placeholders


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
        self._driver: Any = None  # the driver's connection, for the import's hot path
        self._sqlite = False

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

    async def mismatched_days(
        self, installation_id: int, limit: int
    ) -> tuple[list[ReconciliationDay], int]:
        """The latest days that do not reconcile, and how many there are."""
        where = (
            col(ReconciliationDay.installation_id) == installation_id,
            col(ReconciliationDay.status) == DayStatus.MISMATCHED,
        )
        total = (
            await self.session.execute(
                select(func.count()).select_from(ReconciliationDay).where(*where)
            )
        ).scalar_one()
        result = await self.session.execute(
            select(ReconciliationDay)
            .where(*where)
            .order_by(col(ReconciliationDay.day).desc())
            .limit(limit)
        )
        return list(result.scalars()), int(total)

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

    # -- importing rows -----------------------------------------------------------------------

    async def open_stage(self) -> None:
        """The temporary staging table of this connection, empty (PostgreSQL drops it at the
        end of the transaction; SQLite keeps it for the connection: :meth:`close_stage`)."""
        connection = await self.session.connection()
        self._driver = (await connection.get_raw_connection()).driver_connection
        self._sqlite = connection.dialect.name == "sqlite"
        if self._sqlite:
            await connection.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} ({_STAGE_DDL})"
            )
        else:
            await connection.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} ({_STAGE_DDL}) ON COMMIT DROP"
            )
        await connection.exec_driver_sql(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608

    async def close_stage(self) -> None:
        connection = await self.session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE_TABLE}")

    async def stage(self, batch: ItemBatch) -> None:
        """Replace the staged rows with ``batch``, straight through the driver (after
        :meth:`open_stage`, in its transaction)."""
        driver = self._driver
        names = STAGE_COLUMNS[: len(batch.columns)]
        if self._sqlite:
            await driver.execute(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608
            marks = ", ".join("?" * len(names))
            await driver.executemany(
                f"INSERT INTO {STAGE_TABLE} ({', '.join(names)}) VALUES ({marks})",  # noqa: S608
                batch.records(),
            )
        else:
            await driver.execute(f"TRUNCATE {STAGE_TABLE}")
            await driver.copy_records_to_table(
                STAGE_TABLE, records=batch.records(), columns=list(names)
            )

    async def match_staged(
        self, installation_id: int, day_id: int, file_id: int, source: ReportKind
    ) -> None:
        """Classify the staged rows against ours and store them (:data:`MATCH_SQL`), in one
        call to the driver: started as a task, the statement is on its way at the task's first
        step, and runs while the caller goes on."""
        values = (installation_id, day_id, file_id, source.value)
        if self._sqlite:
            await self._driver.execute(MATCH_SQL, dict(zip(MATCH_PARAMETERS, values, strict=True)))
        else:
            await self._driver.execute(_POSITIONAL_MATCH_SQL, *values)

    async def amount_mismatches(self, day_id: int, file_id: int) -> list[Any]:
        """The file's AMOUNT_MISMATCH rows without their reason yet: (id, amount_minor,
        our_amount_minor, currency). Found by the (day, kind) index."""
        result = await self.session.execute(
            select(
                ROW_TABLE.c.id,
                ROW_TABLE.c.amount_minor,
                ROW_TABLE.c.our_amount_minor,
                ROW_TABLE.c.currency,
            ).where(
                ROW_TABLE.c.day_id == day_id,
                ROW_TABLE.c.kind == MatchKind.AMOUNT_MISMATCH.value,
                ROW_TABLE.c.file_id == file_id,
                ROW_TABLE.c.detail.is_(None),
            )
        )
        return list(result)

    # -- our side -----------------------------------------------------------------------------

    async def payments_by_request_id(
        self, installation_id: int, request_ids: Iterable[str]
    ) -> dict[str, Ours]:
        return await self._ours_by_request_id(
            PAYMENT_TABLE, "payment_request_id", installation_id, request_ids
        )

    async def refunds_by_request_id(
        self, installation_id: int, request_ids: Iterable[str]
    ) -> dict[str, Ours]:
        return await self._ours_by_request_id(
            REFUND_TABLE, "refund_request_id", installation_id, request_ids
        )

    async def _ours_by_request_id(
        self, table: Any, key: str, installation_id: int, request_ids: Iterable[str]
    ) -> dict[str, Ours]:
        ids = sorted(set(request_ids))
        if not ids:
            return {}
        # By the unique request id alone (its index).
        result = await self.session.execute(
            select(table.c[key], table.c.status, table.c.amount_minor, table.c.currency).where(
                table.c[key].in_(ids), table.c.installation_id == installation_id
            )
        )
        return {row[0]: Ours(str(row[1]), int(row[2]), row[3]) for row in result}

    # -- rows ---------------------------------------------------------------------------------

    async def insert_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(ROW_TABLE), list(rows))

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
                # The kinds named (not the settled ones excluded): the (day, kind) index finds
                # them without walking the day's matched rows.
                ROW_TABLE.c.kind.in_(sorted(k.value for k in MatchKind.unsettled_kinds())),
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
