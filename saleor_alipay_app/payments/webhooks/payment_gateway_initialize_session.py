"""PAYMENT_GATEWAY_INITIALIZE_SESSION: which wallets the channel offers for this amount, and the
shopper's saved ones."""

from __future__ import annotations

import logging
from typing import Any

from saleor_alipay_app.agreements.models import Agreement
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import (
    display_name,
    usable,
)
from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.errors import NotConfigured
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.webhooks.common import (
    Context,
    load_config,
    usable_wallets,
    wallet_info,
)
from saleor_alipay_app.saleor.payloads import PaymentGatewayInitializeSession

log = logging.getLogger(__name__)


async def gateway_initialize(
    deps: PaymentDeps, ctx: Context, payload: PaymentGatewayInitializeSession
) -> dict[str, Any]:
    source = payload.source_object
    currency = source.channel.currency_code or ""
    try:
        config = await load_config(deps, ctx, source.channel.slug)
    except NotConfigured as exc:
        log.warning("gateway initialize: %s", exc.merchant_message)
        return {"data": {"wallets": [], "error": exc.shopper_message}}
    amount = None
    if payload.amount is not None and currency:
        try:
            amount = Amount.from_decimal(payload.amount, currency)
        except AmountError:
            amount = None
    wallets = usable_wallets(config, amount, currency)
    agreements: list[Agreement] = []
    if source.user is not None:
        async with deps.sessions() as session:
            agreements = await AgreementRepository(session).active_agreements(
                ctx.installation_id, source.user.id, source.channel.slug
            )
    agreements = [a for a in agreements if usable(a) and a.wallet in wallets]
    data: dict[str, Any] = {
        "wallets": [wallet_info(w) for w in wallets],
        "currency": currency,
        "hasAgreements": bool(agreements),
        "agreements": [
            {"id": a.public_id, "wallet": a.wallet, "name": display_name(a)} for a in agreements
        ],
        "sandbox": config.sandbox,
    }
    if amount is not None:  # with the currency's digits: IDR 150000.00, never Saleor's 150000.0
        data["amount"] = format(amount.to_decimal(), "f")
    elif payload.amount is not None:
        data["amount"] = format(payload.amount, "f")
    return {"data": data}


Payload = PaymentGatewayInitializeSession


async def answer(
    deps: PaymentDeps, ctx: Context, payload: PaymentGatewayInitializeSession
) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    return await gateway_initialize(deps, ctx, payload)
