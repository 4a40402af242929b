"""TRANSACTION_PROCESS_SESSION: where the binding and the payment stand; once bound, charge;
a fresh QR code once the old one expired."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.agreements.binding import (
    BindingRequest,
    complete_binding,
    refresh_binding,
)
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.errors import PaymentError
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import (
    BindingPurpose,
    BindingStatus,
    PaymentStatus,
)
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import (
    deadline_in,
    inquire_until,
)
from saleor_alipay_app.payments.webhooks.common import (
    WEBHOOK_BUDGET,
    Context,
    binding_of,
    failure,
    load_config,
    response_for,
    wait_binding,
)
from saleor_alipay_app.saleor.payloads import TransactionSession
from saleor_alipay_app.saleor.responses import (
    SessionResponse,
    SessionResult,
)


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
        return failure(
            "This payment was not started. Please start the payment again.", "NO_PAYMENT"
        )
    payment = payments[-1]
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


Payload = TransactionSession


async def answer(deps: PaymentDeps, ctx: Context, payload: TransactionSession) -> dict[str, Any]:
    """The JSON body Saleor receives."""
    response = await process_session(deps, ctx, payload)
    return response.body(saleor_version=ctx.saleor_version)
