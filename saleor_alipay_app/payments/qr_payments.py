"""Paying by QR code: the payment waits (`AWAITING_BINDING`) for its binding session; once the
wallet is bound it is charged exactly once, by whichever of the authorization notification and
the storefront's poll comes first; a renewed QR code takes the payment with it."""

from __future__ import annotations

from saleor_alipay_app.agreements.models import BindingPurpose, BindingSession, BindingStatus
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.db import transaction
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import claim_for_pay, send_pay, settle, wait_for_outcome


async def payment_for_binding(deps: PaymentDeps, binding: BindingSession) -> Payment | None:
    if binding.purpose is not BindingPurpose.TRANSACTION or binding.saleor_transaction_id is None:
        return None
    async with deps.sessions() as session:
        payments = await PaymentsRepository(session).payments_for_transaction(
            binding.installation_id, binding.saleor_transaction_id
        )
    return payments[-1] if payments else None


async def complete_binding(
    deps: PaymentDeps, auth_state: str, *, base_url: str, deadline: float
) -> Payment | None:
    """Once a binding is BOUND, charge the payment waiting for it (exactly once). Reports to
    Saleor are queued, never sent here: callers inside a webhook must answer in time."""
    async with deps.sessions() as session:
        agreements = AgreementRepository(session)
        binding = await agreements.binding(auth_state)
        agreement = (
            await agreements.agreement(binding.agreement_id)
            if binding is not None and binding.agreement_id is not None
            else None
        )
    if binding is None:
        return None
    payment = await payment_for_binding(deps, binding)
    if payment is None or payment.id is None:
        return None
    if binding.status is BindingStatus.FAILED and payment.status is PaymentStatus.AWAITING_BINDING:
        return await settle(
            deps,
            payment.id,
            PaymentStatus.FAILED,
            code=binding.failure_reason or "AUTHORIZATION_FAILED",
        )
    if binding.status is not BindingStatus.BOUND or agreement is None:
        return payment
    if payment.status is PaymentStatus.AWAITING_BINDING:
        async with transaction(deps.sessions) as session:
            claimed = await claim_for_pay(PaymentsRepository(session), payment, agreement)
            config = await ChannelConfigRepository(session).config(payment.channel_config_id)
        if claimed:
            assert config is not None
            # The outcome's report is queued; the notification path sends it before it
            # acknowledges, the storefront's poll gets the outcome in its answer.
            return await send_pay(
                deps, payment, agreement, config, base_url=base_url, deadline=deadline
            )
    return await wait_for_outcome(deps, payment.id, deadline)


async def follow_renewed_binding(
    deps: PaymentDeps, expired: BindingSession, fresh: BindingSession
) -> None:
    """Point the transaction's waiting payment at the renewed QR code's binding session."""
    if not expired.saleor_transaction_id:
        return
    async with transaction(deps.sessions) as session:
        payments = await PaymentsRepository(session).payments_for_transaction(
            expired.installation_id, expired.saleor_transaction_id
        )
        if payments and payments[-1].status is PaymentStatus.AWAITING_BINDING:
            payments[-1].binding_session_id = fresh.id
            session.add(payments[-1])
