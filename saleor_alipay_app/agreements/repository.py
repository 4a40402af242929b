"""Every query on agreements and binding sessions (the staff's searches included)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus, BindingSession
from saleor_alipay_app.db import like_pattern, paged


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


class AgreementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    async def binding(self, auth_state: str) -> BindingSession | None:
        result = await self.session.execute(
            select(BindingSession).where(col(BindingSession.auth_state) == auth_state)
        )
        return result.scalar_one_or_none()

    async def binding_by_id(self, binding_id: int) -> BindingSession | None:
        return await self.session.get(BindingSession, binding_id)

    async def search_agreements(
        self, installation_id: int, search: AgreementSearch
    ) -> tuple[list[Agreement], int]:
        query = select(Agreement).where(col(Agreement.installation_id) == installation_id)
        if search.q and search.q.strip():
            text = search.q.strip()
            query = query.where(
                or_(
                    func.lower(col(Agreement.customer_email)).like(
                        like_pattern(text.lower()), escape="\\"
                    ),
                    col(Agreement.saleor_user_id) == text,
                    col(Agreement.public_id) == text,
                    col(Agreement.user_login_id).like(like_pattern(text), escape="\\"),
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
        return await paged(
            self.session,
            query,
            [col(Agreement.created_at).desc(), col(Agreement.id).desc()],
            search.limit,
            search.offset,
        )

    async def agreement_public_ids(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        result = await self.session.execute(
            select(col(Agreement.id), col(Agreement.public_id)).where(
                col(Agreement.id).in_(list(ids))
            )
        )
        return {i: str(p) for i, p in result.all() if i is not None}

    # -- the overview (dashboard) -------------------------------------------------------------

    async def status_counts(
        self, installation_id: int, expiring_before: datetime
    ) -> tuple[dict[AgreementStatus, int], int]:
        """How many agreements are in each status, and how many active ones end before
        ``expiring_before`` (their refresh token, or their access token when they have none,
        expires): a count per status, then a range of the (installation_id, status,
        refresh_token_expires_at, access_token_expires_at) index."""
        result = await self.session.execute(
            select(col(Agreement.status), func.count())
            .where(col(Agreement.installation_id) == installation_id)
            .group_by(col(Agreement.status))
        )
        counts = {AgreementStatus(status): int(n) for status, n in result.all()}
        refresh = col(Agreement.refresh_token_expires_at)
        expiring = await self.session.execute(
            select(func.count())
            .select_from(Agreement)
            .where(
                col(Agreement.installation_id) == installation_id,
                col(Agreement.status) == AgreementStatus.ACTIVE,
                or_(
                    refresh < expiring_before,
                    refresh.is_(None) & (col(Agreement.access_token_expires_at) < expiring_before),
                ),
            )
        )
        return counts, int(expiring.scalar_one())
