"""The queries behind the store admins' pages and the operator CLI: searches and the records
around one payment. Every query is scoped to one installation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from saleor_alipay_app.payments.models import (
    Agreement,
    AgreementStatus,
    History,
    HistorySubject,
    Notification,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    SaleorReport,
)

MAX_PAGE = 200
Row = TypeVar("Row")


@dataclass(frozen=True)
class AgreementSearch:
    q: str | None = None  # email (part of it), Saleor customer id, agreement id or wallet login
    email: str | None = None
    customer_id: str | None = None
    wallet: str | None = None
    status: AgreementStatus | None = None
    channel: str | None = None
    limit: int = 50
    offset: int = 0


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
class RefundSearch:
    q: str | None = None  # refundRequestId, Antom refundId or the payment's paymentRequestId
    status: RefundStatus | None = None
    limit: int = 50
    offset: int = 0


def _page(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, MAX_PAGE)), max(0, offset)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(text: str) -> str:
    return f"%{_escape(text)}%"


class AdminRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _paged(
        self, query: SelectOfScalar[Row], order: Sequence[Any], limit: int, offset: int
    ) -> tuple[list[Row], int]:
        total = (
            await self.session.execute(select(func.count()).select_from(query.subquery()))
        ).scalar_one()
        limit, offset = _page(limit, offset)
        rows = await self.session.execute(query.order_by(*order).limit(limit).offset(offset))
        return list(rows.scalars()), int(total)

    # -- agreements ---------------------------------------------------------------------------

    async def search_agreements(
        self, installation_id: int, search: AgreementSearch
    ) -> tuple[list[Agreement], int]:
        query = select(Agreement).where(col(Agreement.installation_id) == installation_id)
        if search.q and search.q.strip():
            text = search.q.strip()
            query = query.where(
                or_(
                    func.lower(col(Agreement.customer_email)).like(
                        _like(text.lower()), escape="\\"
                    ),
                    col(Agreement.saleor_user_id) == text,
                    col(Agreement.public_id) == text,
                    col(Agreement.user_login_id).like(_like(text), escape="\\"),
                )
            )
        if search.email:
            query = query.where(
                func.lower(col(Agreement.customer_email)) == search.email.strip().lower()
            )
        if search.customer_id:
            query = query.where(col(Agreement.saleor_user_id) == search.customer_id.strip())
        if search.wallet:
            query = query.where(col(Agreement.wallet) == search.wallet.strip().upper())
        if search.status is not None:
            query = query.where(col(Agreement.status) == search.status)
        if search.channel:
            query = query.where(col(Agreement.channel_slug) == search.channel)
        return await self._paged(
            query,
            [col(Agreement.created_at).desc(), col(Agreement.id).desc()],
            search.limit,
            search.offset,
        )

    async def agreement(self, installation_id: int, public_id: str) -> Agreement | None:
        result = await self.session.execute(
            select(Agreement).where(
                col(Agreement.installation_id) == installation_id,
                col(Agreement.public_id) == public_id,
            )
        )
        return result.scalar_one_or_none()

    async def agreement_public_ids(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        result = await self.session.execute(
            select(col(Agreement.id), col(Agreement.public_id)).where(
                col(Agreement.id).in_(list(ids))
            )
        )
        return {i: str(p) for i, p in result.all() if i is not None}

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

    # -- payments -----------------------------------------------------------------------------

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
        return await self._paged(
            query,
            [col(Payment.created_at).desc(), col(Payment.id).desc()],
            search.limit,
            search.offset,
        )

    async def payment(self, installation_id: int, payment_request_id: str) -> Payment | None:
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

    # -- refunds ------------------------------------------------------------------------------

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
        limit, offset = _page(search.limit, search.offset)
        rows = await self.session.execute(
            query.order_by(col(Refund.created_at).desc(), col(Refund.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return [(refund, payment) for refund, payment in rows.all()], int(total)

    # -- the records around a payment -------------------------------------------------------

    async def history_of(
        self, installation_id: int, subjects: Sequence[tuple[HistorySubject, int]]
    ) -> list[History]:
        if not subjects:
            return []
        result = await self.session.execute(
            select(History)
            .where(
                col(History.installation_id) == installation_id,
                or_(
                    *(
                        (col(History.subject) == subject) & (col(History.subject_id) == sid)
                        for subject, sid in subjects
                    )
                ),
            )
            .order_by(col(History.created_at), col(History.id))
        )
        return list(result.scalars())

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
                        col(Notification.natural_key).like(_like(f":{ref}:"), escape="\\")
                        | col(Notification.natural_key).like("%" + _escape(f":{ref}"), escape="\\")
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
