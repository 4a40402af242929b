"""PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION: a QR code to save a wallet without buying."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.agreements.binding import (
    BindingRequest,
    start_binding,
)
from saleor_alipay_app.agreements.models import BindingPurpose
from saleor_alipay_app.agreements.service import (
    wallet_name,
)
from saleor_alipay_app.antom.results import linking_message
from saleor_alipay_app.errors import NotConfigured, PaymentError
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.webhooks.common import (
    WEBHOOK_BUDGET,
    Context,
    load_config,
    tokenization_failed,
    tokenization_qr,
    usable_wallets,
)
from saleor_alipay_app.saleor.payloads import UserChannelEvent
from saleor_alipay_app.saleor.responses import (
    TokenizationResponse,
    TokenizationResult,
)


async def initialize_tokenization(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    deadline = deadline_in(WEBHOOK_BUDGET)
    try:
        config = await load_config(deps, ctx, payload.channel.slug)
    except NotConfigured as exc:
        return tokenization_failed(linking_message(exc.code))
    data = payload.data if isinstance(payload.data, dict) else {}
    currency = payload.channel.currency_code or ""
    wallets = usable_wallets(config, None, currency)
    requested = data.get("wallet")
    if isinstance(requested, str) and requested.strip().upper() in wallets:
        wallet = requested.strip().upper()
    elif len(wallets) == 1:
        wallet = wallets[0]
    else:
        names = ", ".join(wallet_name(w) for w in wallets) or "none"
        return TokenizationResponse(
            TokenizationResult.FAILED_TO_TOKENIZE,
            error=f"Please choose a wallet (data.wallet): {names}.",
        ).body()
    try:
        binding = await start_binding(
            deps,
            BindingRequest(
                installation_id=ctx.installation_id,
                config=config,
                purpose=BindingPurpose.TOKENIZATION,
                wallet=wallet,
                user_id=payload.user.id,
                email=payload.user.email,
                transaction_id=None,
                base_url=ctx.base_url,
            ),
            deadline=deadline,
        )
    except PaymentError as exc:
        return tokenization_failed(linking_message(exc.code))
    return tokenization_qr(binding, ctx.base_url)


Payload = UserChannelEvent


async def answer(deps: PaymentDeps, ctx: Context, payload: UserChannelEvent) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    return await initialize_tokenization(deps, ctx, payload)
