"""What every payment webhook shares: who is asking (`Context`), the time budget, the
channel's configuration, and the session answer for where a payment stands."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from saleor_alipay_app.agreements.binding import (
    binding_data,
    refresh_binding,
)
from saleor_alipay_app.agreements.models import (
    Agreement,
    BindingSession,
    BindingStatus,
)
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import (
    STORED_METHOD_TYPE,
    display_name,
    wallet_name,
)
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.wallets import CAPABILITIES, Wallet, WalletLimitError, check_payment
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.errors import NotConfigured, PaymentError
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.payments.qr_payments import complete_binding, follow_renewed_binding
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import (
    REFUNDABLE_ACTIONS,
    inquire_until,
    major_amount,
    method_name,
    outcome_message,
    payment_method_name,
)
from saleor_alipay_app.saleor.documents import MIN_SALEOR, saleor_minor
from saleor_alipay_app.saleor.payloads import TransactionSession
from saleor_alipay_app.saleor.responses import (
    SessionResponse,
    SessionResult,
    StoredPaymentMethod,
    TokenizationResponse,
    TokenizationResult,
)

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
    """A webhook's `version` as (major, minor); the app's minimum when it gives none."""
    return saleor_minor(text) or MIN_SALEOR


def strip_method_id(value: str, app_identifier: str) -> str:
    """Storefronts pass a stored method's id raw or as `app:<identifier>:<id>`: accept both."""
    prefix = f"app:{app_identifier}:"
    if value.startswith(prefix):
        return value[len(prefix) :]
    return value


async def load_config(deps: PaymentDeps, ctx: Context, channel_slug: str) -> ChannelConfig:
    async with deps.sessions() as session:
        config = await ChannelConfigRepository(session).config_for_channel(
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


def wallet_info(wallet: str) -> dict[str, Any]:
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


def failure(message: str, code: str, *, psp: str | None = None) -> SessionResponse:
    return SessionResponse(
        SessionResult.CHARGE_FAILURE, psp_reference=psp, message=message, data={"code": code}
    )


async def binding_of(deps: PaymentDeps, payment: Payment) -> BindingSession | None:
    if payment.binding_session_id is None:
        return None
    async with deps.sessions() as session:
        return await AgreementRepository(session).binding_by_id(payment.binding_session_id)


async def agreement_name(
    deps: PaymentDeps, payment: Payment, agreement: Agreement | None = None
) -> str:
    """The payment method's name, as a report gives it; the agreement is read only when the
    caller does not hold it."""
    if payment.agreement_id is None or (
        agreement is not None and agreement.id == payment.agreement_id
    ):
        return method_name(payment, agreement)
    async with deps.sessions() as session:
        return await payment_method_name(session, payment)


async def response_for(
    deps: PaymentDeps,
    ctx: Context,
    payment: Payment,
    *,
    polling: bool,
    agreement: Agreement | None = None,
) -> SessionResponse:
    """The session answer for where a payment stands. ``polling`` (process session): an
    unknown outcome keeps the session open instead of ending it with CHARGE_REQUEST. The
    agreement, when the caller holds it, names the payment method without a reload."""
    psp = payment.payment_request_id
    match payment.status:
        case PaymentStatus.SUCCEEDED:
            return SessionResponse(
                SessionResult.CHARGE_SUCCESS,
                psp_reference=psp,
                amount=major_amount(payment),
                actions=REFUNDABLE_ACTIONS,
                message=outcome_message(payment),
                data={"status": "SUCCEEDED", "antomPaymentId": payment.antom_payment_id},
                payment_method_name=await agreement_name(deps, payment, agreement),
            )
        case PaymentStatus.FAILED | PaymentStatus.CANCELLED:
            return SessionResponse(
                SessionResult.CHARGE_FAILURE,
                psp_reference=psp,
                amount=major_amount(payment),
                message=outcome_message(payment),
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
            binding = await binding_of(deps, payment)
            data = (
                binding_data(binding, ctx.base_url)
                if binding is not None
                else {"status": "PENDING"}
            )
            return SessionResponse(
                SessionResult.CHARGE_ACTION_REQUIRED,
                psp_reference=psp,
                amount=major_amount(payment),
                message="Scan the QR code with your wallet to authorise the store",
                data=data,
                actions=["CANCEL"],
            )


async def wait_binding(deps: PaymentDeps, auth_state: str, deadline: float) -> BindingSession:
    while True:
        async with deps.sessions() as session:
            binding = await AgreementRepository(session).binding(auth_state)
        assert binding is not None
        if binding.status is not BindingStatus.AUTHORIZED or deadline_in(0) > deadline - 1:
            return binding
        await asyncio.sleep(0.1)


def stored_method(agreement: Agreement) -> StoredPaymentMethod:
    data: dict[str, Any] = {"wallet": agreement.wallet, "walletName": wallet_name(agreement.wallet)}
    if agreement.user_login_id:
        data["userLoginId"] = agreement.user_login_id
    if agreement.access_token_expires_at is not None:
        data["expiresAt"] = agreement.access_token_expires_at.isoformat()
    return StoredPaymentMethod(
        id=agreement.public_id, type=STORED_METHOD_TYPE, name=display_name(agreement), data=data
    )


def _wants_new_qr(data: Any) -> bool:
    """The storefront's "try again" (`transactionProcess(data: {newQrCode: true})`). Antom
    sends nothing when the shopper declines in the wallet, and a declined QR code cannot be
    scanned again: without this the shopper would wait for the code's 15 minutes to pass."""
    return isinstance(data, dict) and data.get("newQrCode") is True


async def where_it_stands(
    deps: PaymentDeps,
    ctx: Context,
    payment: Payment,
    payload: TransactionSession,
    deadline: float,
) -> SessionResponse:
    """Where a payment and its binding stand now, as a storefront's poll sees it: a fresh QR code
    once the old one expired (or on `newQrCode`), the charge once the wallet is bound, the
    outcome once Antom gave it. Serves TRANSACTION_PROCESS_SESSION and a repeated
    TRANSACTION_INITIALIZE_SESSION alike."""
    payment_id = payment.id
    assert payment_id is not None
    if payment.status is PaymentStatus.AWAITING_BINDING:
        binding = await binding_of(deps, payment)
        if binding is None:
            return await response_for(deps, ctx, payment, polling=True)
        if binding.status is BindingStatus.AUTHORIZED:
            # The authorization notification is exchanging the code right now.
            binding = await wait_binding(deps, binding.auth_state, deadline)
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
            config = await load_config(deps, ctx, payment.channel_slug)
            try:
                fresh = await refresh_binding(
                    deps, binding, config, base_url=ctx.base_url, deadline=deadline
                )
                await follow_renewed_binding(deps, binding, fresh)
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


def tokenization_qr(binding: BindingSession, base_url: str) -> dict[str, Any]:
    """The tokenization answer that shows a binding's QR code."""
    return TokenizationResponse(
        TokenizationResult.ADDITIONAL_ACTION_REQUIRED,
        id=binding.auth_state,
        data=binding_data(binding, base_url),
    ).body()


def tokenization_failed(message: str) -> dict[str, Any]:
    return TokenizationResponse(TokenizationResult.FAILED_TO_TOKENIZE, error=message).body()
