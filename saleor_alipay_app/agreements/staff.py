"""What staff do with agreements, from the dashboard or the CLI: list, find, revoke. (An
agreement's page, with the payments made with it, is `payments.staff.agreement_detail`.)"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.agreements.repository import AgreementRepository, AgreementSearch
from saleor_alipay_app.agreements.schemas import agreement_view
from saleor_alipay_app.agreements.service import revoke_at_antom
from saleor_alipay_app.channels.deps import ANTOM_BUDGET, AntomDeps
from saleor_alipay_app.db import Sessions
from saleor_alipay_app.errors import (
    Conflict,
    Invalid,
    NotFound,
    Unavailable,
)
from saleor_alipay_app.http import deadline_in

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


async def find_agreement(session: AsyncSession, installation_id: int, public_id: str) -> Agreement:
    agreement = await AgreementRepository(session).agreement_by_public_id(
        installation_id, public_id
    )
    if agreement is None:
        raise NotFound("AGREEMENT_NOT_FOUND", f"no agreement {public_id}")
    return agreement


async def revoke_agreement(
    deps: AntomDeps, installation_id: int, public_id: str, *, actor: str
) -> None:
    """Revoke at Antom first; only then is the agreement marked revoked."""
    async with deps.sessions() as session:
        agreement = await find_agreement(session, installation_id, public_id)
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
