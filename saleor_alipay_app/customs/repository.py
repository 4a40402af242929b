"""Every query of customs declarations and of the payments they declare. The use-cases call
these and never write SQL themselves."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.customs.models import Declaration, DeclarationStatus
from saleor_alipay_app.history.models import History, HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.payments.models import Payment, Refund, RefundStatus
from saleor_alipay_app.payments.repository import PaymentsRepository


class CustomsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.payments = PaymentsRepository(session)
        self.history_log = HistoryRepository(session)
        self.channels = ChannelConfigRepository(session)

    @property
    def _locks_rows(self) -> bool:
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    # -- payments and what was taken from them --------------------------------------------------

    async def payment_for_update(
        self, installation_id: int, payment_request_id: str
    ) -> Payment | None:
        """The payment, locked (PostgreSQL) so that two declarations cannot both fit."""
        query = select(Payment).where(
            col(Payment.installation_id) == installation_id,
            col(Payment.payment_request_id) == payment_request_id,
        )
        if self._locks_rows:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def refunded_minor(self, payment_id: int) -> int:
        """Minor units refunded or being refunded (a failed refund gave nothing back)."""
        result = await self.session.execute(
            select(func.coalesce(func.sum(col(Refund.amount_minor)), 0)).where(
                col(Refund.payment_id) == payment_id,
                col(Refund.status).in_([RefundStatus.SUCCEEDED, RefundStatus.PROCESSING]),
            )
        )
        return int(result.scalar_one())

    # -- declarations -------------------------------------------------------------------------

    async def declarations_of_payment(self, payment_id: int) -> list[Declaration]:
        result = await self.session.execute(
            select(Declaration)
            .where(col(Declaration.payment_id) == payment_id)
            .order_by(col(Declaration.sequence))
        )
        return list(result.scalars())

    async def declaration(self, installation_id: int, declaration_id: int) -> Declaration | None:
        result = await self.session.execute(
            select(Declaration).where(
                col(Declaration.installation_id) == installation_id,
                col(Declaration.id) == declaration_id,
            )
        )
        return result.scalar_one_or_none()

    async def declaration_by_id(self, declaration_id: int) -> Declaration | None:
        return await self.session.get(Declaration, declaration_id)

    async def declaration_for_update(self, declaration_id: int) -> Declaration | None:
        query = select(Declaration).where(col(Declaration.id) == declaration_id)
        if self._locks_rows:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def declarations_by_ids(
        self, installation_id: int, ids: Sequence[int]
    ) -> list[Declaration]:
        result = await self.session.execute(
            select(Declaration)
            .where(
                col(Declaration.installation_id) == installation_id,
                col(Declaration.id).in_(list(ids)),
            )
            .order_by(col(Declaration.id))
        )
        return list(result.scalars())

    async def open_declarations(self, installation_id: int, limit: int) -> list[Declaration]:
        """Declarations whose state at customs may still change."""
        result = await self.session.execute(
            select(Declaration)
            .where(
                col(Declaration.installation_id) == installation_id,
                col(Declaration.status).in_(sorted(DeclarationStatus.open_statuses())),
            )
            .order_by(col(Declaration.id))
            .limit(limit)
        )
        return list(result.scalars())

    async def list_declarations(
        self,
        installation_id: int,
        *,
        status: DeclarationStatus | None = None,
        payment_request_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Declaration], int]:
        conditions = [col(Declaration.installation_id) == installation_id]
        if status is not None:
            conditions.append(col(Declaration.status) == status)
        if payment_request_id:
            conditions.append(col(Declaration.payment_request_id) == payment_request_id)
        total = await self.session.execute(
            select(func.count()).select_from(Declaration).where(*conditions)
        )
        rows = await self.session.execute(
            select(Declaration)
            .where(*conditions)
            .order_by(col(Declaration.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars()), int(total.scalar_one())

    async def history(self, declaration_id: int) -> list[History]:
        return await self.history_log.of_subject(HistorySubject.DECLARATION, declaration_id)

    def add_history(self, declaration: Declaration, status: str, detail: str | None) -> None:
        self.history_log.add(
            installation_id=declaration.installation_id,
            subject=HistorySubject.DECLARATION,
            subject_id=declaration.id,
            reference=declaration.declaration_request_id,
            status=status,
            detail=detail,
        )
