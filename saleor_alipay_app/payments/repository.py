"""Every query of the payment flows. Use-cases call these and never write SQL themselves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from saleor_alipay_app.db import utcnow
from saleor_alipay_app.payments.models import (
    Agreement,
    AgreementStatus,
    BindingSession,
    ChannelConfig,
    History,
    HistorySubject,
    Notification,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReportStatus,
    SaleorReport,
)


class PaymentsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _locks_rows(self) -> bool:
        """PostgreSQL takes row locks; SQLite serialises writers instead."""
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    # -- history ------------------------------------------------------------------------------

    def add_history(
        self,
        *,
        installation_id: int,
        subject: HistorySubject,
        subject_id: int | None,
        reference: str,
        status: str,
        detail: str | None = None,
    ) -> None:
        """Record a state change; written in the same transaction as the change itself."""
        assert subject_id is not None
        self.session.add(
            History(
                installation_id=installation_id,
                subject=subject,
                subject_id=subject_id,
                reference=reference[:255],
                status=status[:32],
                detail=detail[:512] if detail else None,
                created_at=utcnow(),
            )
        )

    async def history(self, subject: HistorySubject, subject_id: int) -> list[History]:
        result = await self.session.execute(
            select(History)
            .where(col(History.subject) == subject, col(History.subject_id) == subject_id)
            .order_by(col(History.id))
        )
        return list(result.scalars())

    # -- channel configurations -------------------------------------------------------------

    async def config_for_channel(self, installation_id: int, slug: str) -> ChannelConfig | None:
        result = await self.session.execute(
            select(ChannelConfig).where(
                col(ChannelConfig.installation_id) == installation_id,
                col(ChannelConfig.channel_slug) == slug,
            )
        )
        return result.scalar_one_or_none()

    async def config_by_public_id(self, public_id: str) -> ChannelConfig | None:
        result = await self.session.execute(
            select(ChannelConfig).where(col(ChannelConfig.public_id) == public_id)
        )
        return result.scalar_one_or_none()

    async def config(self, config_id: int) -> ChannelConfig | None:
        return await self.session.get(ChannelConfig, config_id)

    async def configs(self, installation_id: int | None = None) -> list[ChannelConfig]:
        query = select(ChannelConfig).order_by(
            col(ChannelConfig.installation_id), col(ChannelConfig.channel_slug)
        )
        if installation_id is not None:
            query = query.where(col(ChannelConfig.installation_id) == installation_id)
        return list((await self.session.execute(query)).scalars())

    # -- agreements ---------------------------------------------------------------------------

    async def agreement(self, agreement_id: int) -> Agreement | None:
        return await self.session.get(Agreement, agreement_id)

    async def agreement_by_public_id(
        self, installation_id: int, public_id: str
    ) -> Agreement | None:
        result = await self.session.execute(
            select(Agreement).where(
                col(Agreement.installation_id) == installation_id,
                col(Agreement.public_id) == public_id,
            )
        )
        return result.scalar_one_or_none()

    async def agreement_by_token_sha256(
        self, channel_config_id: int, digest: str
    ) -> Agreement | None:
        result = await self.session.execute(
            select(Agreement).where(
                col(Agreement.channel_config_id) == channel_config_id,
                col(Agreement.access_token_sha256) == digest,
            )
        )
        return result.scalar_one_or_none()

    async def active_agreements(
        self, installation_id: int, saleor_user_id: str, channel_slug: str
    ) -> list[Agreement]:
        result = await self.session.execute(
            select(Agreement)
            .where(
                col(Agreement.installation_id) == installation_id,
                col(Agreement.saleor_user_id) == saleor_user_id,
                col(Agreement.channel_slug) == channel_slug,
                col(Agreement.status) == AgreementStatus.ACTIVE,
                col(Agreement.guest).is_(False),
            )
            .order_by(col(Agreement.created_at))
        )
        return list(result.scalars())

    async def agreements_to_refresh(self, before: datetime, limit: int) -> list[Agreement]:
        result = await self.session.execute(
            select(Agreement)
            .where(
                col(Agreement.status) == AgreementStatus.ACTIVE,
                col(Agreement.refresh_token_encrypted).is_not(None),
                col(Agreement.access_token_expires_at) < before,
            )
            .limit(limit)
        )
        return list(result.scalars())

    # -- binding sessions ---------------------------------------------------------------------

    async def binding(self, auth_state: str) -> BindingSession | None:
        result = await self.session.execute(
            select(BindingSession).where(col(BindingSession.auth_state) == auth_state)
        )
        return result.scalar_one_or_none()

    async def binding_by_id(self, binding_id: int) -> BindingSession | None:
        return await self.session.get(BindingSession, binding_id)

    # -- payments -----------------------------------------------------------------------------

    async def payment(self, payment_id: int) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def payment_for_update(self, payment_id: int) -> Payment | None:
        query = select(Payment).where(col(Payment.id) == payment_id)
        if self._locks_rows:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def payment_by_request_id(self, payment_request_id: str) -> Payment | None:
        result = await self.session.execute(
            select(Payment).where(col(Payment.payment_request_id) == payment_request_id)
        )
        return result.scalar_one_or_none()

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
    ) -> bool:
        """Compare-and-set a payment's status; True only for the one caller that moved it."""
        statuses = [s.value for s in expected]
        result = await self.session.execute(
            update(Payment)
            .where(col(Payment.id) == payment_id, col(Payment.status).in_(statuses))
            .values(status=target, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        moved: int = result.rowcount  # type: ignore[attr-defined]
        if moved == 1:
            payment = await self.session.get(Payment, payment_id)
            if payment is not None:
                await self.session.refresh(payment)
                self.add_history(
                    installation_id=payment.installation_id,
                    subject=HistorySubject.PAYMENT,
                    subject_id=payment_id,
                    reference=payment.payment_request_id,
                    status=target.value,
                    detail=values.get("result_code"),
                )
        return moved == 1

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

    async def report(self, report_id: int) -> SaleorReport | None:
        return await self.session.get(SaleorReport, report_id)
