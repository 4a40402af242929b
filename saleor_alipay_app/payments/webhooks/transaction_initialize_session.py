"""TRANSACTION_INITIALIZE_SESSION: one click with a saved wallet (pay the agreement now), or a QR
code to scan (bind, then pay). A repeated idempotencyKey answers the same, never a second pay."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from saleor_alipay_app.agreements.binding import (
    BindingRequest,
    start_binding,
)
from saleor_alipay_app.agreements.models import BindingPurpose
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import (
    usable,
    wallet_name,
)
from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.antom.wallets import Wallet, WalletLimitError, check_payment
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.db import transaction
from saleor_alipay_app.errors import NotConfigured, PaymentError
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import create_payment, send_pay, settle, wait_for_outcome
from saleor_alipay_app.payments.webhooks.common import (
    WEBHOOK_BUDGET,
    Context,
    failure,
    load_config,
    response_for,
    strip_method_id,
    usable_wallets,
    where_it_stands,
)
from saleor_alipay_app.saleor.payloads import TransactionSession
from saleor_alipay_app.saleor.responses import (
    SessionResponse,
)

log = logging.getLogger(__name__)


def _amount(payload: TransactionSession) -> Amount:
    return Amount.from_decimal(payload.action.amount, payload.action.currency)


async def initialize_session(
    deps: PaymentDeps, ctx: Context, payload: TransactionSession
) -> SessionResponse:
    deadline = deadline_in(WEBHOOK_BUDGET)
    source = payload.source_object
    try:
        config = await load_config(deps, ctx, source.channel.slug)
        amount = _amount(payload)
    except NotConfigured as exc:
        log.warning("transaction initialize: %s", exc.merchant_message)
        return failure(exc.shopper_message, exc.code)
    except AmountError as exc:
        return failure(f"This amount cannot be paid with this method: {exc}", "INVALID_AMOUNT")
    if amount.value == 0:
        return failure("There is nothing to pay.", "ZERO_AMOUNT")

    async with deps.sessions() as session:
        existing = await PaymentsRepository(session).payments_for_transaction(
            ctx.installation_id, payload.transaction.id
        )
    if existing:
        # A repeated idempotencyKey (or a concurrent duplicate): same outcome, never a second pay.
        payment = existing[-1]
        payment_id = payment.id
        assert payment_id is not None
        if payment.status is PaymentStatus.PROCESSING:
            payment = await wait_for_outcome(deps, payment_id, deadline)
        elif (
            payment.status is PaymentStatus.AWAITING_BINDING and payment.binding_session_id is None
        ):
            # The first delivery is still asking Antom for the QR code: answer with it too.
            return await _await_binding(deps, ctx, payment_id, deadline)
        elif payment.status is PaymentStatus.AWAITING_BINDING:
            # Where the binding stands now, exactly as a poll would see it: a fresh QR code
            # once the old one expired, the charge once the wallet is bound.
            return await where_it_stands(deps, ctx, payment, payload, deadline)
        return await response_for(deps, ctx, payment, polling=False)

    data = payload.data if isinstance(payload.data, dict) else {}
    stored = data.get("storedPaymentMethodId") or data.get("paymentMethodId")
    if isinstance(stored, str) and stored:
        return await _pay_with_agreement(
            deps,
            ctx,
            payload,
            config,
            amount,
            strip_method_id(stored, ctx.app_identifier),
            deadline,
        )
    return await _pay_by_binding(deps, ctx, payload, config, amount, data, deadline)


async def _pay_with_agreement(
    deps: PaymentDeps,
    ctx: Context,
    payload: TransactionSession,
    config: ChannelConfig,
    amount: Amount,
    agreement_public_id: str,
    deadline: float,
) -> SessionResponse:
    source = payload.source_object
    async with deps.sessions() as session:
        agreement = await AgreementRepository(session).agreement_by_public_id(
            ctx.installation_id, agreement_public_id
        )
    # Anyone holding a checkout id can start a transaction: the checkout's user must own it.
    owner_ok = (
        agreement is not None
        and source.user is not None
        and agreement.saleor_user_id == source.user.id
        and agreement.channel_slug == source.channel.slug
        and not agreement.guest
    )
    if agreement is None or not owner_ok:
        log.warning(
            "stored method refused: not the checkout user's",
            extra={"agreement": agreement_public_id},
        )
        return failure(
            "This saved wallet cannot be used for this checkout. Please choose another "
            "payment method.",
            "STORED_METHOD_NOT_FOUND",
        )
    if not usable(agreement):
        return failure(
            "This saved wallet is no longer linked. Please scan the QR code to link it again.",
            "AGREEMENT_NOT_ACTIVE",
        )
    if agreement.wallet not in config.enabled_wallets:
        return failure(
            f"{wallet_name(agreement.wallet)} is not available in this store right now.",
            "WALLET_DISABLED",
        )
    try:
        check_payment(Wallet(agreement.wallet), amount)
    except WalletLimitError as exc:
        return failure(exc.shopper_message, exc.code)
    payment, created = await _create_payment(
        deps, ctx, payload, config, agreement.wallet, amount, agreement_id=agreement.id
    )
    payment_id = payment.id
    assert payment_id is not None
    if created:
        payment = await send_pay(
            deps, payment, agreement, config, base_url=ctx.base_url, deadline=deadline
        )
    else:
        payment = await wait_for_outcome(deps, payment_id, deadline)
    return await response_for(deps, ctx, payment, polling=False, agreement=agreement)


def _choose_wallet(config: ChannelConfig, amount: Amount, requested: Any) -> str:
    wallets = usable_wallets(config, amount, amount.currency)
    if isinstance(requested, str) and requested:
        name = requested.strip().upper()
        if name not in config.enabled_wallets:
            raise PaymentError(
                "WALLET_DISABLED",
                f"{wallet_name(name)} is not available in this store.",
                f"wallet {name} is not enabled for channel {config.channel_slug}",
            )
        try:
            check_payment(Wallet(name), amount)
        except WalletLimitError as exc:
            raise PaymentError(exc.code, exc.shopper_message, exc.merchant_message) from None
        return name
    if len(wallets) == 1:
        return wallets[0]
    if not wallets:
        raise PaymentError(
            "NO_WALLET",
            "No wallet can pay this amount in this currency.",
            f"no enabled wallet accepts {amount} in channel {config.channel_slug}",
        )
    raise PaymentError(
        "WALLET_REQUIRED",
        "Please choose a wallet: " + ", ".join(wallet_name(w) for w in wallets) + ".",
        "the storefront must pass data.wallet (one of " + ", ".join(wallets) + ")",
    )


async def _pay_by_binding(
    deps: PaymentDeps,
    ctx: Context,
    payload: TransactionSession,
    config: ChannelConfig,
    amount: Amount,
    data: dict[str, Any],
    deadline: float,
) -> SessionResponse:
    source = payload.source_object
    try:
        wallet = _choose_wallet(config, amount, data.get("wallet"))
    except PaymentError as exc:
        return failure(exc.shopper_message, exc.code)
    payment, created = await _create_payment(deps, ctx, payload, config, wallet, amount)
    assert payment.id is not None
    if not created:
        return await _await_binding(deps, ctx, payment.id, deadline)
    request = BindingRequest(
        installation_id=ctx.installation_id,
        config=config,
        purpose=BindingPurpose.TRANSACTION,
        wallet=wallet,
        user_id=source.user.id if source.user else None,
        email=source.customer_email,
        transaction_id=payload.transaction.id,
        base_url=ctx.base_url,
    )
    try:
        binding = await start_binding(deps, request, deadline=deadline)
    except PaymentError as exc:
        log.warning("consult failed: %s", exc.merchant_message)
        failed = await settle(deps, payment.id, PaymentStatus.FAILED, code=exc.code)
        return failure(exc.shopper_message, exc.code, psp=failed.payment_request_id)
    async with transaction(deps.sessions) as session:
        row = await PaymentsRepository(session).payment(payment.id)
        assert row is not None
        row.binding_session_id = binding.id
        session.add(row)
    return await response_for(deps, ctx, row, polling=False)


async def _await_binding(
    deps: PaymentDeps, ctx: Context, payment_id: int, deadline: float
) -> SessionResponse:
    """A duplicate delivery while the first one asks Antom for the QR code: wait for it."""
    while True:
        async with deps.sessions() as session:
            payment = await PaymentsRepository(session).payment(payment_id)
        assert payment is not None
        ready = payment.binding_session_id is not None or payment.status is not (
            PaymentStatus.AWAITING_BINDING
        )
        if ready or deadline_in(0) > deadline - 0.5:
            return await response_for(deps, ctx, payment, polling=False)
        await asyncio.sleep(0.1)


Payload = TransactionSession


async def answer(deps: PaymentDeps, ctx: Context, payload: TransactionSession) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    response = await initialize_session(deps, ctx, payload)
    return response.body(saleor_version=ctx.saleor_version)


async def _create_payment(
    deps: PaymentDeps,
    ctx: Context,
    payload: TransactionSession,
    config: ChannelConfig,
    wallet: str,
    amount: Amount,
    *,
    agreement_id: int | None = None,
) -> tuple[Payment, bool]:
    """The transaction's payment row, committed before Antom is called: PROCESSING to charge a
    saved wallet now, AWAITING_BINDING for a QR code. (row, True) for the delivery that made it."""
    source = payload.source_object
    async with transaction(deps.sessions) as session:
        return await create_payment(
            PaymentsRepository(session),
            installation_id=ctx.installation_id,
            config=config,
            transaction_id=payload.transaction.id,
            idempotency_key=payload.idempotency_key,
            user_id=source.user.id if source.user else None,
            wallet=wallet,
            amount=amount,
            status=PaymentStatus.PROCESSING if agreement_id else PaymentStatus.AWAITING_BINDING,
            agreement_id=agreement_id,
        )
