"""PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION: which wallets can be saved in the channel."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.errors import NotConfigured
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.webhooks.common import (
    Context,
    load_config,
    usable_wallets,
    wallet_info,
)
from saleor_alipay_app.saleor.payloads import UserChannelEvent
from saleor_alipay_app.saleor.responses import (
    gateway_tokenization_response,
)


async def gateway_initialize_tokenization(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    try:
        config = await load_config(deps, ctx, payload.channel.slug)
    except NotConfigured as exc:
        return gateway_tokenization_response(error=exc.shopper_message)
    currency = payload.channel.currency_code or ""
    wallets = usable_wallets(config, None, currency)
    return gateway_tokenization_response(data={"wallets": [wallet_info(w) for w in wallets]})


Payload = UserChannelEvent


async def answer(deps: PaymentDeps, ctx: Context, payload: UserChannelEvent) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    return await gateway_initialize_tokenization(deps, ctx, payload)
