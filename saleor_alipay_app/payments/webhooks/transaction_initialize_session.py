"""TRANSACTION_INITIALIZE_SESSION: one click with a saved wallet (pay the agreement now), or a QR
code to scan (bind, then pay). A repeated idempotencyKey answers the same, never a second pay."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from saleor_alipay_app.agreements.binding import (
    BindingRequest,
    start_binding,
)
from saleor_alipay_app.agreements.models import Agreement, BindingPurpose
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import (
    usable,
    wallet_name,
)
from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.antom.wallets import Wallet, WalletLimitError, check_payment
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.repository import ChannelConfigRepository
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


@dataclass
class _Claim:
    """What the claim transaction found or made."""

    config: ChannelConfig
    amount: Amount
    existing: Payment | None = None  # an earlier delivery's payment of this transaction
    agreement: Agreement | None = None  # one click: the saved wallet, checked
    payment: Payment | None = None  # one click: the payment row, committed
    created: bool = False  # ... by this delivery (which alone calls Antom)


async def initialize_session(
    deps: PaymentDeps, ctx: Context, payload: TransactionSession
) -> SessionResponse:
    deadline = deadline_in(WEBHOOK_BUDGET)
    data = payload.data if isinstance(payload.data, dict) else {}
    stored = data.get("storedPaymentMethodId") or data.get("paymentMethodId")
    method_id = (
        strip_method_id(stored, ctx.app_identifier) if isinstance(stored, str) and stored else None
    )
    try:
        claim = await _claim(deps, ctx, payload, method_id)
    except NotConfigured as exc:
        log.warning("transaction initialize: %s", exc.merchant_message)
        return failure(exc.shopper_message, exc.code)
    except AmountError as exc:
        return failure(f"This amount cannot be paid with this method: {exc}", "INVALID_AMOUNT")
    except PaymentError as exc:
        return failure(exc.shopper_message, exc.code)

    if claim.existing is not None:
        # A repeated idempotencyKey (or a concurrent duplicate): same outcome, never a second pay.
        payment = claim.existing
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

    if claim.payment is not None and claim.agreement is not None:
        # One click: the row is committed; only the delivery that made it calls Antom.
        payment = claim.payment
        payment_id = payment.id
        assert payment_id is not None
        if claim.created:
            payment = await send_pay(
                deps,
                payment,
                claim.agreement,
                claim.config,
                base_url=ctx.base_url,
                deadline=deadline,
            )
        else:
            payment = await wait_for_outcome(deps, payment_id, deadline)
        return await response_for(deps, ctx, payment, polling=False, agreement=claim.agreement)
    return await _pay_by_binding(deps, ctx, payload, claim.config, claim.amount, data, deadline)


async def _claim(
    deps: PaymentDeps, ctx: Context, payload: TransactionSession, method_id: str | None
) -> _Claim:
    """One transaction: the channel's configuration, an earlier payment of this transaction, and
    for one click the saved wallet, checked, and the new payment row with its deterministic
    paymentRequestId (committed before Antom is called). A refusal raises and writes nothing."""
    source = payload.source_object
    async with transaction(deps.sessions) as session:
        config = await ChannelConfigRepository(session).config_for_channel(
            ctx.installation_id, source.channel.slug
        )
        if config is None:
            raise NotConfigured(source.channel.slug)
        amount = _amount(payload)
        if amount.value == 0:
            raise PaymentError("ZERO_AMOUNT", "There is nothing to pay.")
        payments = PaymentsRepository(session)
        existing = await payments.payments_for_transaction(
            ctx.installation_id, payload.transaction.id
        )
        if existing:
            return _Claim(config, amount, existing=existing[-1])
        if method_id is None:
            return _Claim(config, amount)
        agreement = await AgreementRepository(session).agreement_by_public_id(
            ctx.installation_id, method_id
        )
        agreement = _check_agreement(agreement, payload, config, amount, method_id)
        payment, created = await _create_payment(
            payments, ctx, payload, config, agreement.wallet, amount, agreement_id=agreement.id
        )
        return _Claim(config, amount, agreement=agreement, payment=payment, created=created)


def _check_agreement(
    agreement: Agreement | None,
    payload: TransactionSession,
    config: ChannelConfig,
    amount: Amount,
    method_id: str,
) -> Agreement:
    """The saved wallet, if this checkout may pay with it now; else `PaymentError`."""
    source = payload.source_object
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
            "stored method refused: not the checkout user's", extra={"agreement": method_id}
        )
        raise PaymentError(
            "STORED_METHOD_NOT_FOUND",
            "This saved wallet cannot be used for this checkout. Please choose another "
            "payment method.",
        )
    if not usable(agreement):
        raise PaymentError(
            "AGREEMENT_NOT_ACTIVE",
            "This saved wallet is no longer linked. Please scan the QR code to link it again.",
        )
    if agreement.wallet not in config.enabled_wallets:
        raise PaymentError(
            "WALLET_DISABLED",
            f"{wallet_name(agreement.wallet)} is not available in this store right now.",
        )
    try:
        check_payment(Wallet(agreement.wallet), amount)
    except WalletLimitError as exc:
        raise PaymentError(exc.code, exc.shopper_message, exc.merchant_message) from None
    return agreement


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
    async with transaction(deps.sessions) as session:
        payment, created = await _create_payment(
            PaymentsRepository(session), ctx, payload, config, wallet, amount
        )
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
    repo: PaymentsRepository,
    ctx: Context,
    payload: TransactionSession,
    config: ChannelConfig,
    wallet: str,
    amount: Amount,
    *,
    agreement_id: int | None = None,
) -> tuple[Payment, bool]:
    """The transaction's payment row: PROCESSING to charge a saved wallet now, AWAITING_BINDING
    for a QR code. (row, True) for the delivery that made it."""
    source = payload.source_object
    return await create_payment(
        repo,
        installation_id=ctx.installation_id,
        config=config,
        transaction_id=payload.transaction.id,
        idempotency_key=payload.idempotency_key,
        user_id=source.user.id if source.user else None,
        checkout_id=source.id if source.typename == "Checkout" else None,
        order_id=source.id if source.typename == "Order" else None,
        wallet=wallet,
        amount=amount,
        status=PaymentStatus.PROCESSING if agreement_id else PaymentStatus.AWAITING_BINDING,
        agreement_id=agreement_id,
    )
