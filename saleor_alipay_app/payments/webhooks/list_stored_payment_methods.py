"""LIST_STORED_PAYMENT_METHODS: the customer's own active agreements in the channel."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import (
    usable,
)
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.webhooks.common import Context, stored_method
from saleor_alipay_app.saleor.payloads import UserChannelEvent
from saleor_alipay_app.saleor.responses import (
    StoredPaymentMethods,
)


async def list_stored_methods(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    async with deps.sessions() as session:
        repo = PaymentsRepository(session)
        config = await ChannelConfigRepository(repo.session).config_for_channel(
            ctx.installation_id, payload.channel.slug
        )
        agreements = await AgreementRepository(repo.session).active_agreements(
            ctx.installation_id, payload.user.id, payload.channel.slug
        )
    enabled = set(config.enabled_wallets) if config is not None else set()
    methods = [stored_method(a) for a in agreements if usable(a) and a.wallet in enabled]
    return StoredPaymentMethods(methods).body()


Payload = UserChannelEvent


async def answer(deps: PaymentDeps, ctx: Context, payload: UserChannelEvent) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    return await list_stored_methods(deps, ctx, payload)
