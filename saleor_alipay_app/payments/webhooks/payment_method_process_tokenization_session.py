"""PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION: where saving the wallet stands."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.agreements.binding import (
    refresh_binding,
)
from saleor_alipay_app.agreements.models import BindingPurpose, BindingStatus
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.antom.results import linking_message
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.errors import PaymentError
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.webhooks.common import (
    WEBHOOK_BUDGET,
    Context,
    load_config,
    stored_method,
    strip_method_id,
    tokenization_failed,
    tokenization_qr,
    wait_binding,
)
from saleor_alipay_app.saleor.payloads import UserChannelEvent
from saleor_alipay_app.saleor.responses import (
    TokenizationResponse,
    TokenizationResult,
)


async def process_tokenization(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    deadline = deadline_in(WEBHOOK_BUDGET)
    auth_state = strip_method_id(payload.id or "", ctx.app_identifier)
    async with deps.sessions() as session:
        binding = await AgreementRepository(session).binding(auth_state)
    if (
        binding is None
        or binding.installation_id != ctx.installation_id
        or binding.saleor_user_id != payload.user.id
        or binding.channel_slug != payload.channel.slug
        or binding.purpose is not BindingPurpose.TOKENIZATION
    ):
        return tokenization_failed("This wallet link was not found.")
    if binding.status is BindingStatus.AUTHORIZED:
        binding = await wait_binding(deps, binding.auth_state, deadline)
    match binding.status:
        case BindingStatus.BOUND:
            async with deps.sessions() as session:
                agreement = (
                    await AgreementRepository(session).agreement(binding.agreement_id)
                    if binding.agreement_id is not None
                    else None
                )
            if agreement is None:
                return tokenization_failed("The wallet link failed.")
            return TokenizationResponse(
                TokenizationResult.SUCCESSFULLY_TOKENIZED,
                id=agreement.public_id,
                data=stored_method(agreement).body(),
            ).body()
        case BindingStatus.FAILED:
            return tokenization_failed("The wallet did not authorise the store. Please try again.")
        case BindingStatus.AUTHORIZED:
            return TokenizationResponse(
                TokenizationResult.PENDING, id=binding.auth_state, data={"status": "AUTHORIZED"}
            ).body()
        case BindingStatus.PENDING | BindingStatus.EXPIRED:
            if binding.status is BindingStatus.EXPIRED or binding.expires_at <= utcnow():
                config = await load_config(deps, ctx, binding.channel_slug)
                try:
                    binding = await refresh_binding(
                        deps, binding, config, base_url=ctx.base_url, deadline=deadline
                    )
                except PaymentError as exc:
                    return tokenization_failed(linking_message(exc.code))
            return tokenization_qr(binding, ctx.base_url)


Payload = UserChannelEvent


async def answer(deps: PaymentDeps, ctx: Context, payload: UserChannelEvent) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    return await process_tokenization(deps, ctx, payload)
