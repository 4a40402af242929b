"""Every query on the history table: written with each state change, read by the staff's pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from saleor_alipay_app.db import utcnow
from saleor_alipay_app.history.models import History, HistorySubject


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
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

    async def of_subject(self, subject: HistorySubject, subject_id: int) -> list[History]:
        result = await self.session.execute(
            select(History)
            .where(col(History.subject) == subject, col(History.subject_id) == subject_id)
            .order_by(col(History.id))
        )
        return list(result.scalars())

    async def of_subjects(
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
