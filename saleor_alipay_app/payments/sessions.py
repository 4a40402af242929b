"""The shopper-facing flows: payment gateway and transaction sessions, stored payment methods
and tokenization (saving a wallet without buying).

Each function takes an authenticated Saleor payload and returns the response to send back.
`AUTHORIZATION` requests are charged like `CHARGE` ones: Antom's auto debit takes the money at
once and has no separate capture, so every answer here is in the CHARGE family (Saleor accepts
that; APP-PROTOCOL.md §8.4).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from saleor_alipay_app.agreements.binding import (
    BindingRequest,
    binding_data,
    complete_binding,
    refresh_binding,
    start_binding,
)
from saleor_alipay_app.agreements.service import (
    ACCESS_TOKEN_PURPOSE,
    STORED_METHOD_TYPE,
    display_name,
    end_agreement,
    usable,
    wallet_name,
)
from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import RevokeRequest
from saleor_alipay_app.antom.money import Amount, AmountError
from saleor_alipay_app.antom.results import Outcome
from saleor_alipay_app.antom.wallets import CAPABILITIES, Wallet, WalletLimitError, check_payment
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.errors import NotConfigured, PaymentError
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import (
    Agreement,
    AgreementStatus,
    BindingPurpose,
    BindingSession,
    BindingStatus,
    ChannelConfig,
    Payment,
    PaymentStatus,
)
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import (
    REFUNDABLE_ACTIONS,
    create_payment,
    deadline_in,
    failure_message,
    inquire_until,
    major_amount,
    send_pay,
    settle,
    wait_for_outcome,
)
from saleor_alipay_app.saleor.payloads import (
    PaymentGatewayInitializeSession,
    TransactionSession,
    UserChannelEvent,
)
from saleor_alipay_app.saleor.responses import (
    SessionResponse,
    SessionResult,
    StoredPaymentMethod,
    StoredPaymentMethods,
    TokenizationResponse,
    TokenizationResult,
    delete_response,
    gateway_tokenization_response,
)

log = logging.getLogger(__name__)

# Saleor waits 18 s for a sync webhook; we answer well inside that.
WEBHOOK_BUDGET = 12.0


@dataclass(frozen=True)
class Context:
    """Who is asking: the installation, Saleor's app identifier and our public base URL."""

    installation_id: int
    app_identifier: str
    base_url: str
    saleor_version: tuple[int, int] = (3, 21)


def saleor_version(text: str | None) -> tuple[int, int]:
    try:
        major, minor = (text or "").split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (3, 21)


def strip_method_id(value: str, app_identifier: str) -> str:
    """Storefronts pass a stored method's id raw or as `app:<identifier>:<id>`: accept both."""
    prefix = f"app:{app_identifier}:"
    if value.startswith(prefix):
        return value[len(prefix) :]
    return value


async def _config(deps: PaymentDeps, ctx: Context, channel_slug: str) -> ChannelConfig:
    async with deps.sessions() as session:
        config = await PaymentsRepository(session).config_for_channel(
            ctx.installation_id, channel_slug
        )
    if config is None:
        raise NotConfigured(channel_slug)
    return config


def usable_wallets(config: ChannelConfig, amount: Amount | None, currency: str) -> list[str]:
    wallets = []
    for name in config.enabled_wallets:
        try:
            wallet = Wallet(name)
        except ValueError:
            continue
        if CAPABILITIES[wallet].currency != currency:
            continue
        if amount is not None:
            try:
                check_payment(wallet, amount)
            except WalletLimitError:
                continue
        wallets.append(wallet.value)
    return wallets


def _wallet_info(wallet: str) -> dict[str, Any]:
    cap = CAPABILITIES[Wallet(wallet)]
    info: dict[str, Any] = {
        "id": wallet,
        "name": cap.display_name,
        "currency": cap.currency,
        "minAmount": format(cap.min_amount, "f"),
    }
    if cap.max_amount is not None:
        info["maxAmount"] = format(cap.max_amount, "f")
    return info


# -- PAYMENT_GATEWAY_INITIALIZE_SESSION -------------------------------------------------------


async def gateway_initialize(
    deps: PaymentDeps, ctx: Context, payload: PaymentGatewayInitializeSession
) -> dict[str, Any]:
    source = payload.source_object
    currency = source.channel.currency_code or ""
    try:
        config = await _config(deps, ctx, source.channel.slug)
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
            agreements = await PaymentsRepository(session).active_agreements(
                ctx.installation_id, source.user.id, source.channel.slug
            )
    agreements = [a for a in agreements if usable(a) and a.wallet in wallets]
    data: dict[str, Any] = {
        "wallets": [_wallet_info(w) for w in wallets],
        "currency": currency,
        "hasAgreements": bool(agreements),
        "agreements": [
            {"id": a.public_id, "wallet": a.wallet, "name": display_name(a)} for a in agreements
        ],
        "sandbox": config.sandbox,
    }
    if payload.amount is not None:
        data["amount"] = format(payload.amount, "f")
    return {"data": data}


# -- TRANSACTION_INITIALIZE_SESSION -----------------------------------------------------------


def _failure(message: str, code: str, *, psp: str | None = None) -> SessionResponse:
    return SessionResponse(
        SessionResult.CHARGE_FAILURE, psp_reference=psp, message=message, data={"code": code}
    )


async def _binding_of(deps: PaymentDeps, payment: Payment) -> BindingSession | None:
    if payment.binding_session_id is None:
        return None
    async with deps.sessions() as session:
        return await PaymentsRepository(session).binding_by_id(payment.binding_session_id)


async def _agreement_name(deps: PaymentDeps, payment: Payment) -> str | None:
    if payment.agreement_id is None:
        return wallet_name(payment.wallet)
    async with deps.sessions() as session:
        agreement = await PaymentsRepository(session).agreement(payment.agreement_id)
    return display_name(agreement) if agreement is not None else wallet_name(payment.wallet)


async def response_for(
    deps: PaymentDeps,
    ctx: Context,
    payment: Payment,
    *,
    polling: bool,
) -> SessionResponse:
    """The session answer for where a payment stands. ``polling`` (process session): an
    unknown outcome keeps the session open instead of ending it with CHARGE_REQUEST."""
    psp = payment.payment_request_id
    match payment.status:
        case PaymentStatus.SUCCEEDED:
            return SessionResponse(
                SessionResult.CHARGE_SUCCESS,
                psp_reference=psp,
                amount=major_amount(payment),
                actions=REFUNDABLE_ACTIONS,
                message=f"Paid with {wallet_name(payment.wallet)}",
                data={"status": "SUCCEEDED", "antomPaymentId": payment.antom_payment_id},
                payment_method_name=await _agreement_name(deps, payment),
            )
        case PaymentStatus.FAILED | PaymentStatus.CANCELLED:
            return SessionResponse(
                SessionResult.CHARGE_FAILURE,
                psp_reference=psp,
                amount=major_amount(payment),
                message=failure_message(payment),
                data={"status": payment.status.value, "code": payment.result_code},
            )
        case PaymentStatus.PROCESSING:
            if polling:
                return SessionResponse(
                    SessionResult.CHARGE_ACTION_REQUIRED,
                    psp_reference=psp,
                    amount=major_amount(payment),
                    message="The wallet is processing the payment",
                    data={"status": "PROCESSING"},
                )
            return SessionResponse(
                SessionResult.CHARGE_REQUEST,
                psp_reference=psp,
                amount=major_amount(payment),
                message="The wallet is processing the payment; the result follows",
                data={"status": "PROCESSING"},
                actions=["CANCEL"],
            )
        case PaymentStatus.AWAITING_BINDING:
            binding = await _binding_of(deps, payment)
            data = binding_data(binding) if binding is not None else {"status": "PENDING"}
            return SessionResponse(
                SessionResult.CHARGE_ACTION_REQUIRED,
                psp_reference=psp,
                amount=major_amount(payment),
                message="Scan the QR code with your wallet to authorise the store",
                data=data,
                actions=["CANCEL"],
            )


def _amount(payload: TransactionSession) -> Amount:
    return Amount.from_decimal(payload.action.amount, payload.action.currency)


async def initialize_session(
    deps: PaymentDeps, ctx: Context, payload: TransactionSession
) -> SessionResponse:
    deadline = deadline_in(WEBHOOK_BUDGET)
    source = payload.source_object
    try:
        config = await _config(deps, ctx, source.channel.slug)
        amount = _amount(payload)
    except NotConfigured as exc:
        log.warning("transaction initialize: %s", exc.merchant_message)
        return _failure(exc.shopper_message, exc.code)
    except AmountError as exc:
        return _failure(f"This amount cannot be paid with this method: {exc}", "INVALID_AMOUNT")
    if amount.value == 0:
        return _failure("There is nothing to pay.", "ZERO_AMOUNT")

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
            return await process_session(deps, ctx, payload)
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
        agreement = await PaymentsRepository(session).agreement_by_public_id(
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
        return _failure(
            "This saved wallet cannot be used for this checkout. Please choose another "
            "payment method.",
            "STORED_METHOD_NOT_FOUND",
        )
    if not usable(agreement):
        return _failure(
            "This saved wallet is no longer linked. Please scan the QR code to link it again.",
            "AGREEMENT_NOT_ACTIVE",
        )
    if agreement.wallet not in config.enabled_wallets:
        return _failure(
            f"{wallet_name(agreement.wallet)} is not available in this store right now.",
            "WALLET_DISABLED",
        )
    try:
        check_payment(Wallet(agreement.wallet), amount)
    except WalletLimitError as exc:
        return _failure(exc.shopper_message, exc.code)
    async with transaction(deps.sessions) as session:
        payment, created = await create_payment(
            PaymentsRepository(session),
            installation_id=ctx.installation_id,
            config=config,
            transaction_id=payload.transaction.id,
            idempotency_key=payload.idempotency_key,
            user_id=source.user.id if source.user else None,
            wallet=agreement.wallet,
            amount=amount,
            status=PaymentStatus.PROCESSING,
            agreement_id=agreement.id,
        )
    payment_id = payment.id
    assert payment_id is not None
    if created:
        payment = await send_pay(deps, payment_id, base_url=ctx.base_url, deadline=deadline)
    else:
        payment = await wait_for_outcome(deps, payment_id, deadline)
    return await response_for(deps, ctx, payment, polling=False)


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
        return _failure(exc.shopper_message, exc.code)
    async with transaction(deps.sessions) as session:
        payment, created = await create_payment(
            PaymentsRepository(session),
            installation_id=ctx.installation_id,
            config=config,
            transaction_id=payload.transaction.id,
            idempotency_key=payload.idempotency_key,
            user_id=source.user.id if source.user else None,
            wallet=wallet,
            amount=amount,
            status=PaymentStatus.AWAITING_BINDING,
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
        return _failure(exc.shopper_message, exc.code, psp=failed.payment_request_id)
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


# -- TRANSACTION_PROCESS_SESSION -------------------------------------------------------------


def _wants_new_qr(data: Any) -> bool:
    """The storefront's "try again" (`transactionProcess(data: {newQrCode: true})`). Antom
    sends nothing when the shopper declines in the wallet, and a declined QR code cannot be
    scanned again: without this the shopper would wait for the code's 15 minutes to pass."""
    return isinstance(data, dict) and data.get("newQrCode") is True


async def process_session(
    deps: PaymentDeps, ctx: Context, payload: TransactionSession
) -> SessionResponse:
    deadline = deadline_in(WEBHOOK_BUDGET)
    async with deps.sessions() as session:
        payments = await PaymentsRepository(session).payments_for_transaction(
            ctx.installation_id, payload.transaction.id
        )
    if not payments:
        return _failure(
            "This payment was not started. Please start the payment again.", "NO_PAYMENT"
        )
    payment = payments[-1]
    payment_id = payment.id
    assert payment_id is not None
    if payment.status is PaymentStatus.AWAITING_BINDING:
        binding = await _binding_of(deps, payment)
        if binding is None:
            return await response_for(deps, ctx, payment, polling=True)
        if binding.status is BindingStatus.AUTHORIZED:
            # The authorization notification is exchanging the code right now.
            binding = await _wait_binding(deps, binding.auth_state, deadline)
        if binding.status in (BindingStatus.BOUND, BindingStatus.FAILED):
            completed = await complete_binding(
                deps, binding.auth_state, base_url=ctx.base_url, deadline=deadline
            )
            payment = completed or payment
        elif binding.status is BindingStatus.EXPIRED or (
            # EXPIRED: an earlier renewal's consult failed; the shopper must not keep a dead code.
            binding.status is BindingStatus.PENDING
            and (binding.expires_at <= utcnow() or _wants_new_qr(payload.data))
        ):
            config = await _config(deps, ctx, payment.channel_slug)
            try:
                await refresh_binding(
                    deps,
                    binding,
                    BindingRequest(
                        installation_id=ctx.installation_id,
                        config=config,
                        purpose=BindingPurpose.TRANSACTION,
                        wallet=binding.wallet,
                        user_id=binding.saleor_user_id,
                        email=binding.customer_email,
                        transaction_id=payload.transaction.id,
                        base_url=ctx.base_url,
                    ),
                    deadline=deadline,
                )
            except PaymentError as exc:
                return SessionResponse(
                    SessionResult.CHARGE_ACTION_REQUIRED,
                    psp_reference=payment.payment_request_id,
                    message=exc.shopper_message,
                    data={"status": "RETRY", "code": exc.code},
                )
        async with deps.sessions() as session:
            reloaded = await PaymentsRepository(session).payment(payment_id)
        assert reloaded is not None
        payment = reloaded
    if payment.status is PaymentStatus.PROCESSING:
        payment = await inquire_until(deps, payment_id, deadline)
    return await response_for(deps, ctx, payment, polling=True)


async def _wait_binding(deps: PaymentDeps, auth_state: str, deadline: float) -> BindingSession:
    while True:
        async with deps.sessions() as session:
            binding = await PaymentsRepository(session).binding(auth_state)
        assert binding is not None
        if binding.status is not BindingStatus.AUTHORIZED or deadline_in(0) > deadline - 1:
            return binding
        await asyncio.sleep(0.1)


# -- stored payment methods --------------------------------------------------------------------


def _method(agreement: Agreement) -> StoredPaymentMethod:
    data: dict[str, Any] = {"wallet": agreement.wallet, "walletName": wallet_name(agreement.wallet)}
    if agreement.user_login_id:
        data["userLoginId"] = agreement.user_login_id
    if agreement.access_token_expires_at is not None:
        data["expiresAt"] = agreement.access_token_expires_at.isoformat()
    return StoredPaymentMethod(
        id=agreement.public_id, type=STORED_METHOD_TYPE, name=display_name(agreement), data=data
    )


async def list_stored_methods(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    async with deps.sessions() as session:
        repo = PaymentsRepository(session)
        config = await repo.config_for_channel(ctx.installation_id, payload.channel.slug)
        agreements = await repo.active_agreements(
            ctx.installation_id, payload.user.id, payload.channel.slug
        )
    enabled = set(config.enabled_wallets) if config is not None else set()
    methods = [_method(a) for a in agreements if usable(a) and a.wallet in enabled]
    return StoredPaymentMethods(methods).body()


async def revoke_agreement(
    deps: PaymentDeps, agreement: Agreement, reason: str, *, deadline: float
) -> bool:
    """Revoke at Antom first, then mark revoked. False when Antom gave no final answer."""
    async with deps.sessions() as session:
        config = await PaymentsRepository(session).config(agreement.channel_config_id)
    assert config is not None
    client = deps.antom.for_config(config)
    token = deps.keys.decrypt(agreement.access_token_encrypted, ACCESS_TOKEN_PURPOSE)
    try:
        response = await client.revoke(RevokeRequest(access_token=token), deadline=deadline)
    except AntomUnavailable:
        return False
    ok = response.outcome is Outcome.SUCCESS or response.result_code == "INVALID_ACCESS_TOKEN"
    if not ok:
        log.warning("revoke refused", extra={"code": response.result_code})
        return False
    async with transaction(deps.sessions) as session:
        await end_agreement(
            PaymentsRepository(session), agreement.id, AgreementStatus.REVOKED, reason
        )
    return True


async def delete_stored_method(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    deadline = deadline_in(WEBHOOK_BUDGET)
    public_id = strip_method_id(payload.payment_method_id or "", ctx.app_identifier)
    async with deps.sessions() as session:
        agreement = await PaymentsRepository(session).agreement_by_public_id(
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
    if await revoke_agreement(deps, agreement, "deleted by the customer", deadline=deadline):
        return delete_response(True)
    return delete_response(False, "The wallet could not be unlinked right now. Please try again.")


# -- tokenization ------------------------------------------------------------------------------


async def gateway_initialize_tokenization(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    try:
        config = await _config(deps, ctx, payload.channel.slug)
    except NotConfigured as exc:
        return gateway_tokenization_response(error=exc.shopper_message)
    currency = payload.channel.currency_code or ""
    wallets = usable_wallets(config, None, currency)
    return gateway_tokenization_response(data={"wallets": [_wallet_info(w) for w in wallets]})


async def initialize_tokenization(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    deadline = deadline_in(WEBHOOK_BUDGET)
    try:
        config = await _config(deps, ctx, payload.channel.slug)
    except NotConfigured as exc:
        return TokenizationResponse(
            TokenizationResult.FAILED_TO_TOKENIZE, error=exc.shopper_message
        ).body()
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
        return TokenizationResponse(
            TokenizationResult.FAILED_TO_TOKENIZE, error=exc.shopper_message
        ).body()
    return TokenizationResponse(
        TokenizationResult.ADDITIONAL_ACTION_REQUIRED,
        id=binding.auth_state,
        data=binding_data(binding),
    ).body()


async def process_tokenization(
    deps: PaymentDeps, ctx: Context, payload: UserChannelEvent
) -> dict[str, Any]:
    deadline = deadline_in(WEBHOOK_BUDGET)
    auth_state = strip_method_id(payload.id or "", ctx.app_identifier)
    async with deps.sessions() as session:
        binding = await PaymentsRepository(session).binding(auth_state)
    if (
        binding is None
        or binding.installation_id != ctx.installation_id
        or binding.saleor_user_id != payload.user.id
        or binding.channel_slug != payload.channel.slug
        or binding.purpose is not BindingPurpose.TOKENIZATION
    ):
        return TokenizationResponse(
            TokenizationResult.FAILED_TO_TOKENIZE, error="This wallet link was not found."
        ).body()
    if binding.status is BindingStatus.AUTHORIZED:
        binding = await _wait_binding(deps, binding.auth_state, deadline)
    match binding.status:
        case BindingStatus.BOUND:
            async with deps.sessions() as session:
                agreement = (
                    await PaymentsRepository(session).agreement(binding.agreement_id)
                    if binding.agreement_id is not None
                    else None
                )
            if agreement is None:
                return TokenizationResponse(
                    TokenizationResult.FAILED_TO_TOKENIZE, error="The wallet link failed."
                ).body()
            return TokenizationResponse(
                TokenizationResult.SUCCESSFULLY_TOKENIZED,
                id=agreement.public_id,
                data=_method(agreement).body(),
            ).body()
        case BindingStatus.FAILED:
            return TokenizationResponse(
                TokenizationResult.FAILED_TO_TOKENIZE,
                error="The wallet did not authorise the store. Please try again.",
            ).body()
        case BindingStatus.AUTHORIZED:
            return TokenizationResponse(
                TokenizationResult.PENDING, id=binding.auth_state, data={"status": "AUTHORIZED"}
            ).body()
        case BindingStatus.PENDING | BindingStatus.EXPIRED:
            if binding.status is BindingStatus.EXPIRED or binding.expires_at <= utcnow():
                config = await _config(deps, ctx, binding.channel_slug)
                try:
                    binding = await refresh_binding(
                        deps,
                        binding,
                        BindingRequest(
                            installation_id=ctx.installation_id,
                            config=config,
                            purpose=BindingPurpose.TOKENIZATION,
                            wallet=binding.wallet,
                            user_id=binding.saleor_user_id,
                            email=binding.customer_email,
                            transaction_id=None,
                            base_url=ctx.base_url,
                        ),
                        deadline=deadline,
                    )
                except PaymentError as exc:
                    return TokenizationResponse(
                        TokenizationResult.FAILED_TO_TOKENIZE, error=exc.shopper_message
                    ).body()
            return TokenizationResponse(
                TokenizationResult.ADDITIONAL_ACTION_REQUIRED,
                id=binding.auth_state,
                data=binding_data(binding),
            ).body()
