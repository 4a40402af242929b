"""STORED_PAYMENT_METHOD_DELETE_REQUESTED: revoke at Antom first, then forget the agreement."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.agreements.models import AgreementStatus
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import revoke_at_antom
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.webhooks.common import WEBHOOK_BUDGET, Context, strip_method_id
from saleor_alipay_app.saleor.payloads import UserChannelEvent
from saleor_alipay_app.saleor.responses import (
    delete_response,
)


async def delete_stored_method(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    deadline = deadline_in(WEBHOOK_BUDGET)
    public_id = strip_method_id(payload.payment_method_id or "", ctx.app_identifier)
    async with deps.sessions() as session:
        agreement = await AgreementRepository(session).agreement_by_public_id(
            ctx.installation_id, public_id
        )
    # Saleor does not check ownership: the method must be this user's, in this channel.
    if (
        agreement is None
        or agreement.saleor_user_id != payload.user.id
        or agreement.channel_slug != payload.channel.slug
    ):
        return delete_response(False, "This saved wallet was not found.")
    if agreement.status is not AgreementStatus.ACTIVE:
        return delete_response(True)
    if await revoke_at_antom(deps, agreement, "deleted by the customer", deadline=deadline):
        return delete_response(True)
    return delete_response(False, "The wallet could not be unlinked right now. Please try again.")


Payload = UserChannelEvent


async def answer(deps: PaymentDeps, ctx: Context, payload: UserChannelEvent) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    return await delete_stored_method(deps, ctx, payload)
