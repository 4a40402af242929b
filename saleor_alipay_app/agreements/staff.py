"""What staff do with agreements, from the dashboard or the CLI: list, read, revoke."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.agreements.repository import AgreementRepository, AgreementSearch
from saleor_alipay_app.agreements.schemas import agreement_view
from saleor_alipay_app.agreements.service import revoke_at_antom
from saleor_alipay_app.db import Sessions
from saleor_alipay_app.errors import (
    Conflict,
    Invalid,
    NotFound,
    Unavailable,
)
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.payments.deps import ANTOM_BUDGET, PaymentDeps
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.schemas import history_view, payment_view
from saleor_alipay_app.payments.service import deadline_in

log = logging.getLogger(__name__)


def parse_agreement_status(value: str | None) -> AgreementStatus | None:
    if not value:
        return None
    try:
        return AgreementStatus(value.strip().upper())
    except ValueError:
        known = ", ".join(s.value for s in AgreementStatus)
        raise Invalid(
            "INVALID_STATUS", f"unknown agreement status {value!r}: use {known}"
        ) from None


async def list_agreements(
    sessions: Sessions, installation_id: int, search: AgreementSearch
) -> dict[str, Any]:
    async with sessions() as session:
        rows, total = await AgreementRepository(session).search_agreements(installation_id, search)
    return {"items": [agreement_view(a) for a in rows], "total": total}


async def _agreement(session: AsyncSession, installation_id: int, public_id: str) -> Agreement:
    agreement = await AgreementRepository(session).agreement_by_public_id(
        installation_id, public_id
    )
    if agreement is None:
        raise NotFound("AGREEMENT_NOT_FOUND", f"no agreement {public_id}")
    return agreement


async def agreement_detail(
    sessions: Sessions, installation_id: int, public_id: str
) -> dict[str, Any]:
    async with sessions() as session:
        repo = PaymentsRepository(session)
        agreement = await _agreement(session, installation_id, public_id)
        assert agreement.id is not None
        history = await HistoryRepository(repo.session).of_subjects(
            installation_id, [(HistorySubject.AGREEMENT, agreement.id)]
        )
        payments = await repo.payments_with_agreement(installation_id, agreement.id)
    return {
        **agreement_view(agreement),
        "history": [history_view(h) for h in history],
        "payments": [payment_view(p, agreement_id=agreement.public_id) for p in payments],
    }


async def revoke_agreement(
    deps: PaymentDeps, installation_id: int, public_id: str, *, actor: str
) -> dict[str, Any]:
    """Revoke at Antom first; only then is the agreement marked revoked."""
    async with deps.sessions() as session:
        agreement = await _agreement(session, installation_id, public_id)
    if agreement.status is not AgreementStatus.ACTIVE:
        raise Conflict(
            "AGREEMENT_NOT_ACTIVE",
            f"agreement {public_id} is already {agreement.status.value.lower()}",
        )
    done = await revoke_at_antom(
        deps, agreement, f"revoked by {actor}"[:256], deadline=deadline_in(ANTOM_BUDGET)
    )
    if not done:
        raise Unavailable(
            "ANTOM_UNAVAILABLE",
            "Antom did not confirm the revocation; the agreement is still active. Try again.",
        )
    return await agreement_detail(deps.sessions, installation_id, public_id)
