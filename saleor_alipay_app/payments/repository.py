"""Every query on payments, refunds, notifications, reports to Saleor and history (the staff's
searches included). Use-cases call these and never write SQL themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, or_, union_all, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.db import (
    escape_like,
    like_pattern,
    page_window,
    paged,
    utc_day,
    utcnow,
)
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.payments.models import (
    Notification,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReportStatus,
    SaleorReport,
)


@dataclass(frozen=True)
class PaymentSearch:
    q: str | None = None  # paymentRequestId, Antom paymentId or Saleor transaction id
    status: PaymentStatus | None = None
    wallet: str | None = None
    channel: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class PaymentGroup:
    """Payments of one UTC day, currency, wallet, status and result code (the overview)."""

    day: str
    currency: str
    wallet: str
    status: PaymentStatus
    result_code: str | None
    count: int
    amount: Decimal


@dataclass(frozen=True)
class RefundGroup:
    currency: str
    status: RefundStatus
    count: int
    amount: Decimal


@dataclass(frozen=True)
class RefundSearch:
    q: str | None = None  # refundRequestId, Antom refundId or the payment's paymentRequestId
    status: RefundStatus | None = None
    limit: int = 50
    offset: int = 0


class PaymentsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _locks_rows(self) -> bool:
        """PostgreSQL takes row locks; SQLite serialises writers instead."""
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    # -- payments -----------------------------------------------------------------------------

    async def payment(self, payment_id: int) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def payment_for_update(self, payment_id: int) -> Payment | None:
        """The payment, locked for the caller's transaction. On PostgreSQL a row lock; on SQLite
        the app's one connection already runs one transaction at a time (`db.create_engine`)."""
        query = select(Payment).where(col(Payment.id) == payment_id)
        if self._locks_rows:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def payment_by_request_id(self, payment_request_id: str) -> Payment | None:
        result = await self.session.execute(
            select(Payment).where(col(Payment.payment_request_id) == payment_request_id)
        )
        return result.scalar_one_or_none()

    async def note_order(
        self, installation_id: int, saleor_transaction_id: str, order_id: str
    ) -> None:
        """Record the order a transaction's payments belong to (for the dashboard's links)."""
        await self.session.execute(
            update(Payment)
            .where(col(Payment.installation_id) == installation_id)
            .where(col(Payment.saleor_transaction_id) == saleor_transaction_id)
            .where(col(Payment.saleor_order_id).is_(None))
            .values(saleor_order_id=order_id[:255])
        )

    async def payments_for_transaction(
        self, installation_id: int, saleor_transaction_id: str
    ) -> list[Payment]:
        result = await self.session.execute(
            select(Payment)
            .where(
                col(Payment.installation_id) == installation_id,
                col(Payment.saleor_transaction_id) == saleor_transaction_id,
            )
            .order_by(col(Payment.attempt))
        )
        return list(result.scalars())

    async def insert(self, row: Any) -> bool:
        """Insert ``row`` in a savepoint; False when a unique constraint says it exists."""
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def move_payment(
        self,
        payment_id: int,
        expected: Iterable[PaymentStatus],
        target: PaymentStatus,
        **values: Any,
    ) -> Payment | None:
        """Compare-and-set a payment's status: the row as moved for the one caller that moved
        it, None for everyone else."""
        statuses = [s.value for s in expected]
        result = await self.session.execute(
            update(Payment)
            .where(col(Payment.id) == payment_id, col(Payment.status).in_(statuses))
            .values(status=target, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        moved: int = result.rowcount  # type: ignore[attr-defined]
        if moved != 1:
            return None
        # Read back what the UPDATE wrote (over any copy this session already held).
        payment = await self.session.get(Payment, payment_id, populate_existing=True)
        if payment is not None:
            HistoryRepository(self.session).add(
                installation_id=payment.installation_id,
                subject=HistorySubject.PAYMENT,
                subject_id=payment_id,
                reference=payment.payment_request_id,
                status=target.value,
                detail=values.get("result_code"),
            )
        return payment

    # -- claiming due work (the sweeper) ---------------------------------------------------------

    async def _claim_due(
        self,
        model: type[Payment] | type[Refund] | type[SaleorReport],
        status: str,
        due_column: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
    ) -> list[int]:
        """Claim rows in ``status`` whose ``due_column`` has passed, and lease them by moving
        it to ``lease_until``: safe with any number of processes (rows another transaction
        holds are skipped on PostgreSQL; SQLite serialises writers)."""
        due = getattr(model, due_column)
        query = (
            select(col(model.id))
            .where(col(model.status) == status, col(due) <= now)
            .order_by(col(due))
            .limit(limit)
        )
        if self._locks_rows:
            query = query.with_for_update(skip_locked=True)
        ids = [i for i in (await self.session.execute(query)).scalars() if i is not None]
        if ids:
            await self.session.execute(
                update(model)
                .where(col(model.id).in_(ids))
                .values({due_column: lease_until})
                .execution_options(synchronize_session=False)
            )
        return ids

    async def claim_due_payments(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[int]:
        """Payments whose outcome is unknown and whose next inquiry is due."""
        return await self._claim_due(
            Payment, PaymentStatus.PROCESSING, "next_inquiry_at", now, lease_until, limit
        )

    async def claim_due_refunds(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[int]:
        return await self._claim_due(
            Refund, RefundStatus.PROCESSING, "next_inquiry_at", now, lease_until, limit
        )

    async def claim_due_reports(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[int]:
        return await self._claim_due(
            SaleorReport, ReportStatus.PENDING, "next_attempt_at", now, lease_until, limit
        )

    # -- refunds ------------------------------------------------------------------------------

    async def postpone_inquiry(
        self,
        model: type[Payment] | type[Refund],
        row_id: int,
        backoff: Callable[[int], timedelta],
    ) -> None:
        """Count one more inquiry of a payment or refund still PROCESSING and set the next."""
        row = await (self.payment(row_id) if model is Payment else self.refund(row_id))
        if row is not None and row.status.value == "PROCESSING":
            row.inquiry_count += 1
            row.next_inquiry_at = utcnow() + backoff(row.inquiry_count)
            self.session.add(row)

    async def refund_by_request_key(self, key: str) -> Refund | None:
        result = await self.session.execute(
            select(Refund).where(col(Refund.saleor_request_key) == key)
        )
        return result.scalar_one_or_none()

    async def refund_by_request_id(self, refund_request_id: str) -> Refund | None:
        result = await self.session.execute(
            select(Refund).where(col(Refund.refund_request_id) == refund_request_id)
        )
        return result.scalar_one_or_none()

    async def refunds_for_payment(self, payment_id: int) -> list[Refund]:
        result = await self.session.execute(
            select(Refund).where(col(Refund.payment_id) == payment_id).order_by(col(Refund.id))
        )
        return list(result.scalars())

    async def count_refunds(self, payment_id: int) -> int:
        result = await self.session.execute(
            select(func.count()).select_from(Refund).where(col(Refund.payment_id) == payment_id)
        )
        return int(result.scalar_one())

    async def refund(self, refund_id: int) -> Refund | None:
        return await self.session.get(Refund, refund_id)

    # -- notifications ------------------------------------------------------------------------

    async def notification_by_key(self, natural_key: str) -> Notification | None:
        result = await self.session.execute(
            select(Notification).where(col(Notification.natural_key) == natural_key)
        )
        return result.scalar_one_or_none()

    async def count_notification_delivery(self, natural_key: str) -> Notification | None:
        """One more delivery of a stored notification, counted atomically (concurrent repeats
        in any number of processes all count); returns the row."""
        await self.session.execute(
            update(Notification)
            .where(col(Notification.natural_key) == natural_key)
            .values(deliveries=col(Notification.deliveries) + 1)
            .execution_options(synchronize_session=False)
        )
        return await self.notification_by_key(natural_key)

    # -- reports to Saleor ----------------------------------------------------------------------

    async def report_by_key(self, report_key: str) -> SaleorReport | None:
        result = await self.session.execute(
            select(SaleorReport).where(col(SaleorReport.report_key) == report_key)
        )
        return result.scalar_one_or_none()

    async def reports_by_keys(self, keys: Sequence[str]) -> list[SaleorReport]:
        if not keys:
            return []
        result = await self.session.execute(
            select(SaleorReport).where(col(SaleorReport.report_key).in_(list(keys)))
        )
        return list(result.scalars())

    async def claim_report(self, report_id: int, now: datetime, lease_until: datetime) -> bool:
        """Whether this caller is now the one sender of a pending report: a conditional update,
        so that of concurrent callers (in any process) exactly one wins until ``lease_until``
        or until its outcome is recorded. The winner asks Saleor once, so the claim counts the
        attempt (`attempts` is how many times the app asked Saleor, whatever became of the
        answer)."""
        result = await self.session.execute(
            update(SaleorReport)
            .where(
                col(SaleorReport.id) == report_id,
                col(SaleorReport.status) == ReportStatus.PENDING,
                or_(
                    col(SaleorReport.sending_until).is_(None),
                    col(SaleorReport.sending_until) <= now,
                ),
            )
            .values(sending_until=lease_until, attempts=col(SaleorReport.attempts) + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def report(self, report_id: int) -> SaleorReport | None:
        return await self.session.get(SaleorReport, report_id)

    # -- what staff search and read ----------------------------------------------------------

    async def payments_with_agreement(
        self, installation_id: int, agreement_id: int, limit: int = 20
    ) -> list[Payment]:
        result = await self.session.execute(
            select(Payment)
            .where(
                col(Payment.installation_id) == installation_id,
                col(Payment.agreement_id) == agreement_id,
            )
            .order_by(col(Payment.created_at).desc(), col(Payment.id).desc())
            .limit(limit)
        )
        return list(result.scalars())

    async def search_payments(
        self, installation_id: int, search: PaymentSearch
    ) -> tuple[list[Payment], int]:
        query = select(Payment).where(col(Payment.installation_id) == installation_id)
        if search.q and search.q.strip():
            text = search.q.strip()
            query = query.where(
                or_(
                    col(Payment.payment_request_id) == text,
                    col(Payment.antom_payment_id) == text,
                    col(Payment.saleor_transaction_id) == text,
                )
            )
        if search.status is not None:
            query = query.where(col(Payment.status) == search.status)
        if search.wallet:
            query = query.where(col(Payment.wallet) == search.wallet.strip().upper())
        if search.channel:
            query = query.where(col(Payment.channel_slug) == search.channel)
        if search.created_from is not None:
            query = query.where(col(Payment.created_at) >= search.created_from)
        if search.created_to is not None:
            query = query.where(col(Payment.created_at) < search.created_to)
        return await paged(
            self.session,
            query,
            [col(Payment.created_at).desc(), col(Payment.id).desc()],
            search.limit,
            search.offset,
        )

    async def payment_in(self, installation_id: int, payment_request_id: str) -> Payment | None:
        result = await self.session.execute(
            select(Payment).where(
                col(Payment.installation_id) == installation_id,
                col(Payment.payment_request_id) == payment_request_id,
            )
        )
        return result.scalar_one_or_none()

    async def refunded_amounts(self, payment_ids: Sequence[int]) -> dict[int, Any]:
        """Sum of successful refunds per payment."""
        if not payment_ids:
            return {}
        result = await self.session.execute(
            select(col(Refund.payment_id), func.sum(col(Refund.amount)))
            .where(
                col(Refund.payment_id).in_(list(payment_ids)),
                col(Refund.status) == RefundStatus.SUCCEEDED,
            )
            .group_by(col(Refund.payment_id))
        )
        return {int(pid): total for pid, total in result.all()}

    async def search_refunds(
        self, installation_id: int, search: RefundSearch
    ) -> tuple[list[tuple[Refund, Payment]], int]:
        query = (
            select(Refund, Payment)
            .join(Payment, col(Payment.id) == col(Refund.payment_id))
            .where(col(Refund.installation_id) == installation_id)
        )
        count = (
            select(func.count())
            .select_from(Refund)
            .join(Payment, col(Payment.id) == col(Refund.payment_id))
            .where(col(Refund.installation_id) == installation_id)
        )
        conditions: list[Any] = []
        if search.q and search.q.strip():
            text = search.q.strip()
            conditions.append(
                or_(
                    col(Refund.refund_request_id) == text,
                    col(Refund.antom_refund_id) == text,
                    col(Payment.payment_request_id) == text,
                )
            )
        if search.status is not None:
            conditions.append(col(Refund.status) == search.status)
        for condition in conditions:
            query = query.where(condition)
            count = count.where(condition)
        total = (await self.session.execute(count)).scalar_one()
        limit, offset = page_window(search.limit, search.offset)
        rows = await self.session.execute(
            query.order_by(col(Refund.created_at).desc(), col(Refund.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return [(refund, payment) for refund, payment in rows.all()], int(total)

    async def notifications_about(
        self, installation_id: int, references: Sequence[str]
    ) -> list[Notification]:
        """Notifications whose natural key names one of ``references`` (paymentRequestId,
        refundRequestId, authState)."""
        wanted = [r for r in references if r]
        if not wanted:
            return []
        result = await self.session.execute(
            select(Notification)
            .where(
                col(Notification.installation_id) == installation_id,
                or_(
                    *(
                        col(Notification.natural_key).like(like_pattern(f":{ref}:"), escape="\\")
                        | col(Notification.natural_key).like(
                            "%" + escape_like(f":{ref}"), escape="\\"
                        )
                        for ref in wanted
                    )
                ),
            )
            .order_by(col(Notification.received_at), col(Notification.id))
        )
        return list(result.scalars())

    async def reports_for_transaction(
        self, installation_id: int, transaction_id: str
    ) -> list[SaleorReport]:
        result = await self.session.execute(
            select(SaleorReport)
            .where(
                col(SaleorReport.installation_id) == installation_id,
                col(SaleorReport.saleor_transaction_id) == transaction_id,
            )
            .order_by(col(SaleorReport.created_at), col(SaleorReport.id))
        )
        return list(result.scalars())

    async def finished_guest_agreements(
        self, stale_before: datetime, limit: int
    ) -> list[Agreement]:
        """Active guest agreements with no payment in flight whose payment is final (or that no
        payment ever used and that are older than ``stale_before``)."""
        in_flight = select(col(Payment.agreement_id)).where(
            col(Payment.agreement_id).is_not(None),
            col(Payment.status).in_(PaymentStatus.open_statuses()),
        )
        finished = select(col(Payment.agreement_id)).where(
            col(Payment.agreement_id).is_not(None),
            col(Payment.status).in_(PaymentStatus.final_statuses()),
        )
        result = await self.session.execute(
            select(Agreement)
            .where(
                col(Agreement.guest).is_(True),
                col(Agreement.status) == AgreementStatus.ACTIVE,
                col(Agreement.id).not_in(in_flight),
                or_(col(Agreement.id).in_(finished), col(Agreement.created_at) < stale_before),
            )
            .limit(limit)
        )
        return list(result.scalars())

    async def pending_work(self) -> list[tuple[str, int, datetime | None]]:
        """Work that awaits an outcome, in one statement: reports Saleor has not confirmed,
        payments and refunds whose outcome is unknown, each as (kind, rows, the oldest one's
        creation time). Every part reads an indexed status."""
        parts = [
            sa_select(
                literal("report"), func.count(), func.min(col(SaleorReport.created_at))
            ).where(col(SaleorReport.status) == ReportStatus.PENDING),
            sa_select(literal("payment"), func.count(), func.min(col(Payment.created_at))).where(
                col(Payment.status) == PaymentStatus.PROCESSING
            ),
            sa_select(literal("refund"), func.count(), func.min(col(Refund.created_at))).where(
                col(Refund.status) == RefundStatus.PROCESSING
            ),
        ]
        result = await self.session.execute(union_all(*parts))
        return [(str(kind), int(rows), oldest) for kind, rows, oldest in result.all()]

    # -- the overview (dashboard) -------------------------------------------------------------
    # Each reads one installation's recent rows through an index made for it (migration 0007):
    # the groups walk (installation_id, created_at, ...) covering indexes, never the table; the
    # lists of what is stuck start from the status indexes, where few rows are open.

    @property
    def _dialect(self) -> str:
        bind = self.session.bind
        return bind.dialect.name if bind is not None else "sqlite"

    async def payment_groups(self, installation_id: int, since: datetime) -> list[PaymentGroup]:
        day = utc_day(col(Payment.created_at), self._dialect)
        result = await self.session.execute(
            sa_select(
                day,
                col(Payment.currency),
                col(Payment.wallet),
                col(Payment.status),
                col(Payment.result_code),
                func.count(),
                func.sum(col(Payment.amount)),
            )
            .where(
                col(Payment.installation_id) == installation_id,
                col(Payment.created_at) >= since,
            )
            .group_by(
                day,
                col(Payment.currency),
                col(Payment.wallet),
                col(Payment.status),
                col(Payment.result_code),
            )
        )
        return [
            PaymentGroup(str(d), cur, wallet, PaymentStatus(st), code, int(n), Decimal(total or 0))
            for d, cur, wallet, st, code, n, total in result.all()
        ]

    async def refund_groups(self, installation_id: int, since: datetime) -> list[RefundGroup]:
        result = await self.session.execute(
            select(
                col(Refund.currency), col(Refund.status), func.count(), func.sum(col(Refund.amount))
            )
            .where(
                col(Refund.installation_id) == installation_id,
                col(Refund.created_at) >= since,
            )
            .group_by(col(Refund.currency), col(Refund.status))
        )
        return [
            RefundGroup(cur, RefundStatus(st), int(n), Decimal(total or 0))
            for cur, st, n, total in result.all()
        ]

    async def stuck_payments(
        self, installation_id: int, before: datetime, limit: int
    ) -> tuple[list[Payment], int]:
        """Payments still without an outcome that were created before ``before``, oldest first.
        One query per open status: each walks ix_payment_status_since in order (an IN over the
        statuses, or an ORDER BY id, made SQLite walk the whole table instead)."""
        found: list[Payment] = []
        total = 0
        for status in sorted(PaymentStatus.open_statuses()):
            where = (
                col(Payment.status) == status,
                col(Payment.installation_id) == installation_id,
                col(Payment.created_at) < before,
            )
            count = select(func.count()).select_from(Payment).where(*where)
            total += int((await self.session.execute(count)).scalar_one())
            rows = await self.session.execute(
                select(Payment).where(*where).order_by(col(Payment.created_at)).limit(limit)
            )
            found.extend(rows.scalars())
        found.sort(key=lambda p: (p.created_at, p.id or 0))
        return found[:limit], total

    async def stuck_refunds(
        self, installation_id: int, before: datetime, limit: int
    ) -> tuple[list[tuple[Refund, str]], int]:
        """Refunds still without an outcome created before ``before``, with their payment's
        paymentRequestId."""
        [status] = RefundStatus.open_statuses()
        where = (
            col(Refund.status) == status,
            col(Refund.installation_id) == installation_id,
            col(Refund.created_at) < before,
        )
        total = (
            await self.session.execute(select(func.count()).select_from(Refund).where(*where))
        ).scalar_one()
        rows = await self.session.execute(
            select(Refund, col(Payment.payment_request_id))
            .join(Payment, col(Payment.id) == col(Refund.payment_id))
            .where(*where)
            .order_by(col(Refund.created_at))
            .limit(limit)
        )
        return [(refund, str(prid)) for refund, prid in rows.all()], int(total)

    async def unconfirmed_reports(
        self, installation_id: int, pending_before: datetime, failed_since: datetime, limit: int
    ) -> tuple[list[tuple[SaleorReport, str | None]], int]:
        """Reports Saleor has not confirmed: still pending since before ``pending_before``, or
        refused for good since ``failed_since``; each with the paymentRequestId of the latest
        attempt of its transaction."""
        where = (
            col(SaleorReport.status).in_(ReportStatus.open_statuses() | {ReportStatus.FAILED}),
            col(SaleorReport.installation_id) == installation_id,
            or_(
                (col(SaleorReport.status) == ReportStatus.PENDING)
                & (col(SaleorReport.created_at) < pending_before),
                (col(SaleorReport.status) == ReportStatus.FAILED)
                & (col(SaleorReport.created_at) >= failed_since),
            ),
        )
        total = (
            await self.session.execute(select(func.count()).select_from(SaleorReport).where(*where))
        ).scalar_one()
        latest = (
            select(col(Payment.payment_request_id))
            .where(
                col(Payment.installation_id) == installation_id,
                col(Payment.saleor_transaction_id) == col(SaleorReport.saleor_transaction_id),
            )
            .order_by(col(Payment.attempt).desc())
            .limit(1)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(SaleorReport, latest)
            .where(*where)
            .order_by(col(SaleorReport.created_at))
            .limit(limit)
        )
        return [(report, prid) for report, prid in rows.all()], int(total)
