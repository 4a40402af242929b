"""Charging an agreement: one Antom `pay` per payment row, whatever retries and races happen.

The rules:
- A payment row (with its deterministic `paymentRequestId`) is committed before Antom is called.
- Only the caller that moves a row into PROCESSING (a compare-and-set on its status) calls `pay`;
  everyone else waits for the outcome that caller stores.
- Unknown outcomes (U, timeouts, 5xx, unverifiable answers) stay PROCESSING: the inquiry loop
  here, within the caller's time budget, and then the sweeper, find the truth; past the deadline
  the payment is cancelled at Antom.
- Every final outcome is also queued as a report to Saleor (see `reporting.py`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import (
    ACCESS_TOKEN_PURPOSE,
    display_name,
    end_agreement,
    wallet_name,
)
from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import (
    CancelRequest,
    InquiryPaymentRequest,
    Order,
    PaymentMethod,
    PayRequest,
    SettlementStrategy,
)
from saleor_alipay_app.antom.models import PaymentStatus as AntomPaymentStatus
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.results import Outcome, shopper_message
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.channels.service import notification_path
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.faults import crash_point
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.http import remaining
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.payments.reporting import enqueue_report
from saleor_alipay_app.payments.repository import PaymentsRepository

log = logging.getLogger(__name__)

# Antom closes an auto-debit payment 1 minute after the request; we give inquiries longer.
PAYMENT_DEADLINE = timedelta(minutes=3)
INQUIRY_BACKOFF = (2, 4, 8, 16, 32, 60)
POLL_INTERVAL = 0.1
REFUNDABLE_ACTIONS = ["REFUND"]
PENDING_ACTIONS = ["CANCEL"]


def payment_request_id(installation_id: int, transaction_id: str, attempt: int) -> str:
    """Deterministic from the Saleor transaction and the attempt; at most 64 characters."""
    digest = hashlib.sha256(f"{installation_id}:{transaction_id}".encode()).hexdigest()[:40]
    return f"saa-{digest}-{attempt}"


def transaction_reference(transaction_id: str) -> str:
    """The Saleor transaction's UUID (from its global id) as Antom's `referenceOrderId`."""
    try:
        decoded = base64.b64decode(transaction_id, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    _, _, pk = decoded.partition(":")
    if pk and len(pk) <= 64:
        return pk
    return hashlib.sha256(transaction_id.encode()).hexdigest()[:64]


def amount_of(payment: Payment) -> Amount:
    return Amount(payment.currency, int(payment.amount_minor))


def major_amount(payment: Payment) -> Decimal:
    """The payment's amount with exactly its currency's digits (what Saleor is told)."""
    return amount_of(payment).to_decimal()


# -- creating and paying --------------------------------------------------------------------


async def create_payment(
    repo: PaymentsRepository,
    *,
    installation_id: int,
    config: ChannelConfig,
    transaction_id: str,
    idempotency_key: str | None,
    user_id: str | None,
    wallet: str,
    amount: Amount,
    status: PaymentStatus,
    checkout_id: str | None = None,
    order_id: str | None = None,
    agreement_id: int | None = None,
    binding_session_id: int | None = None,
    attempt: int = 1,
) -> tuple[Payment, bool]:
    """Insert the payment row; (row, True) when this call created it, (existing, False) when
    a concurrent or earlier delivery did."""
    now = utcnow()
    assert config.id is not None
    payment = Payment(
        installation_id=installation_id,
        channel_config_id=config.id,
        channel_slug=config.channel_slug,
        saleor_transaction_id=transaction_id,
        saleor_idempotency_key=idempotency_key,
        saleor_user_id=user_id,
        saleor_checkout_id=checkout_id,
        saleor_order_id=order_id,
        attempt=attempt,
        payment_request_id=payment_request_id(installation_id, transaction_id, attempt),
        agreement_id=agreement_id,
        binding_session_id=binding_session_id,
        wallet=wallet,
        currency=amount.currency,
        amount=amount.to_decimal(),
        amount_minor=amount.value,
        status=status,
        next_inquiry_at=now + timedelta(seconds=INQUIRY_BACKOFF[0])
        if status is PaymentStatus.PROCESSING
        else None,
        deadline_at=now + PAYMENT_DEADLINE if status is PaymentStatus.PROCESSING else None,
        created_at=now,
        updated_at=now,
    )
    if await repo.insert(payment):
        HistoryRepository(repo.session).add(
            installation_id=installation_id,
            subject=HistorySubject.PAYMENT,
            subject_id=payment.id,
            reference=payment.payment_request_id,
            status=status.value,
            detail=f"{amount.to_decimal()} {amount.currency} with {wallet}",
        )
        return payment, True
    existing = await repo.payment_by_request_id(payment.payment_request_id)
    assert existing is not None
    return existing, False


async def claim_for_pay(repo: PaymentsRepository, payment: Payment, agreement: Agreement) -> bool:
    """Move a payment waiting for its binding into PROCESSING; True for exactly one caller."""
    assert payment.id is not None
    now = utcnow()
    claimed = await repo.move_payment(
        payment.id,
        [PaymentStatus.AWAITING_BINDING],
        PaymentStatus.PROCESSING,
        agreement_id=agreement.id,
        next_inquiry_at=now + timedelta(seconds=INQUIRY_BACKOFF[0]),
        deadline_at=now + PAYMENT_DEADLINE,
    )
    return claimed is not None


async def send_pay(
    deps: PaymentDeps,
    payment: Payment,
    agreement: Agreement,
    config: ChannelConfig,
    *,
    base_url: str,
    deadline: float,
    description: str = "Order",
) -> Payment:
    """Call Antom `pay` for a PROCESSING payment this caller claimed (with the agreement and the
    channel's configuration the caller already holds), store and return the outcome (still
    PROCESSING when unknown). Inquires within the time budget when unknown."""
    payment_id = payment.id
    assert payment_id is not None
    crash_point("pay.claimed")
    client = deps.antom.for_config(config)
    amount = amount_of(payment)
    request = PayRequest(
        payment_request_id=payment.payment_request_id,
        order=Order(
            order_amount=amount,
            reference_order_id=transaction_reference(payment.saleor_transaction_id),
            order_description=description[:256],
        ),
        payment_amount=amount,
        payment_method=PaymentMethod(
            payment_method_type=payment.wallet,
            payment_method_id=deps.keys.decrypt(
                agreement.access_token_encrypted, ACCESS_TOKEN_PURPOSE
            ),
        ),
        settlement_strategy=SettlementStrategy(settlement_currency=payment.currency),
        payment_notify_url=base_url + notification_path(config, "payment"),
    )
    try:
        response = await client.pay(request, deadline=deadline)
    except AntomUnavailable as exc:
        if not exc.sent:
            # The request never left (connection refused, budget spent): nothing was charged.
            log.warning(
                "pay not sent: Antom unreachable",
                extra={"payment_request_id": payment.payment_request_id, "reason": exc.reason},
            )
            return await settle(
                deps,
                payment_id,
                PaymentStatus.FAILED,
                code="ANTOM_UNREACHABLE",
                message="the payment request could not be sent to Antom",
            )
        log.warning(
            "pay outcome unknown",
            extra={"payment_request_id": payment.payment_request_id, "reason": exc.reason},
        )
        return await inquire_until(deps, payment_id, deadline)
    crash_point("pay.answered")
    code = response.result_code
    match response.outcome:
        case Outcome.SUCCESS:
            return await settle(
                deps,
                payment_id,
                PaymentStatus.SUCCEEDED,
                code=code,
                antom_payment_id=response.model.payment_id,
                paid_at=response.model.payment_time or utcnow(),
                method_name=display_name(agreement),
            )
        case Outcome.FAILURE | Outcome.RETRY_NEW_REQUEST if not response.verified:
            # An unsigned failure passes the signature rule (API.md §3) but proves nothing on a
            # money call (§8): Antom's signed inquiry decides. ORDER_NOT_EXIST there means this
            # pay never happened, so the failure stands; anything else is followed as unknown.
            payment = await inquire_once(deps, payment_id, deadline=deadline, absent_code=code)
            if payment.status is PaymentStatus.PROCESSING:
                return await inquire_until(deps, payment_id, deadline)
            return payment
        case Outcome.FAILURE | Outcome.RETRY_NEW_REQUEST:
            if code == "INVALID_ACCESS_TOKEN":
                async with transaction(deps.sessions) as session:
                    await end_agreement(
                        session,
                        agreement.id,
                        AgreementStatus.INVALID,
                        "Antom answered INVALID_ACCESS_TOKEN",
                    )
            return await settle(
                deps,
                payment_id,
                PaymentStatus.FAILED,
                code=code,
                message=response.model.result.result_message,
                antom_payment_id=response.model.payment_id,
            )
        case Outcome.UNKNOWN_INQUIRE | Outcome.RETRY_SAME_REQUEST:
            if response.model.payment_id:
                async with transaction(deps.sessions) as session:
                    row = await PaymentsRepository(session).payment(payment_id)
                    if row is not None and row.antom_payment_id is None:
                        row.antom_payment_id = response.model.payment_id
                        session.add(row)
            return await inquire_until(deps, payment_id, deadline)


async def settle(
    deps: PaymentDeps,
    payment_id: int,
    status: PaymentStatus,
    *,
    code: str | None = None,
    message: str | None = None,
    antom_payment_id: str | None = None,
    paid_at: datetime | None = None,
    report_now: bool = False,
    method_name: str | None = None,
) -> Payment:
    """Store a final outcome once (the first final state wins) and queue its report: sent now
    with ``report_now``, else left to the sweepers after the confirmation delay. A caller that
    holds the agreement names the payment method (``method_name``); else it is read when
    needed."""
    async with transaction(deps.sessions) as session:
        payment, moved = await settle_in(
            PaymentsRepository(session),
            payment_id,
            status,
            code=code,
            message=message,
            antom_payment_id=antom_payment_id,
            paid_at=paid_at,
            send_after=None if report_now else deps.confirm_delay,
            method_name=method_name,
        )
    crash_point("payment.settled")
    if moved and report_now:
        await deps.reporter.send_keys([final_report_key(payment)])
    return payment


async def settle_in(
    repo: PaymentsRepository,
    payment_id: int,
    status: PaymentStatus,
    *,
    code: str | None = None,
    message: str | None = None,
    antom_payment_id: str | None = None,
    paid_at: datetime | None = None,
    send_after: timedelta | None = None,
    method_name: str | None = None,
) -> tuple[Payment, bool]:
    """`settle` in the caller's transaction: (the payment, whether this call moved it). The
    report is queued with ``send_after`` (None: whoever sends it now holds it for a lease)."""
    assert status.is_final
    values: dict[str, object] = {"result_code": code, "next_inquiry_at": None}
    if message is not None:
        values["result_message"] = message[:256]
    if antom_payment_id:
        values["antom_payment_id"] = antom_payment_id
    if paid_at is not None:
        values["paid_at"] = paid_at
    moved = await repo.move_payment(payment_id, PaymentStatus.open_statuses(), status, **values)
    # Not moved: another caller settled it first, and its outcome stands.
    payment = moved or await repo.payment(payment_id)
    assert payment is not None
    if moved:
        await enqueue_final_report(repo, payment, send_after=send_after, method_name=method_name)
    return payment, moved is not None


def final_report_key(payment: Payment) -> str:
    from saleor_alipay_app.payments.reporting import report_key

    return report_key(
        payment.saleor_transaction_id, _event_type(payment), payment.payment_request_id
    )


def _event_type(payment: Payment) -> str:
    match payment.status:
        case PaymentStatus.SUCCEEDED:
            return "CHARGE_SUCCESS"
        case PaymentStatus.FAILED | PaymentStatus.CANCELLED:
            # A cancelled payment never charged (or was reversed): for Saleor it is a failed
            # charge, which also clears a pending CHARGE_REQUEST.
            return "CHARGE_FAILURE"
        case PaymentStatus.PROCESSING | PaymentStatus.AWAITING_BINDING:
            raise ValueError(f"payment {payment.payment_request_id} is not final")


async def enqueue_final_report(
    repo: PaymentsRepository,
    payment: Payment,
    *,
    send_after: timedelta | None = None,
    method_name: str | None = None,
) -> str:
    """Queue the report of a final payment, with what a session answer would have said: the
    same message, the transaction's name and, for a success, the payment method."""
    event_type = _event_type(payment)
    if event_type == "CHARGE_SUCCESS" and method_name is None:
        method_name = await payment_method_name(repo.session, payment)
    return await enqueue_report(
        repo,
        installation_id=payment.installation_id,
        transaction_id=payment.saleor_transaction_id,
        event_type=event_type,
        psp_reference=payment.payment_request_id,
        amount=major_amount(payment),
        message=outcome_message(payment),
        transaction_name=transaction_name(payment),
        payment_method_name=method_name if event_type == "CHARGE_SUCCESS" else None,
        available_actions=REFUNDABLE_ACTIONS if event_type == "CHARGE_SUCCESS" else [],
        send_after=send_after,
    )


def transaction_name(payment: Payment) -> str:
    """The name Saleor shows on the transaction (its dashboard's payment card), e.g.
    "Alipay+ AlipayHK"."""
    return f"Alipay+ {wallet_name(payment.wallet)}"


def method_name(payment: Payment, agreement: Agreement | None) -> str:
    """The payment method Saleor shows for a paid transaction: the saved wallet with its masked
    login ("AlipayHK 852****1234") when ``agreement`` is the payment's, else the wallet alone.
    The same in a session's answer and in a report."""
    if agreement is None or agreement.id != payment.agreement_id:
        return wallet_name(payment.wallet)
    return display_name(agreement)


async def payment_method_name(session: AsyncSession, payment: Payment) -> str:
    """`method_name`, reading the payment's agreement."""
    if payment.agreement_id is None:
        return wallet_name(payment.wallet)
    return method_name(payment, await AgreementRepository(session).agreement(payment.agreement_id))


def outcome_message(payment: Payment) -> str:
    """What Saleor shows for a final payment, the same in a webhook's answer and in a report."""
    if payment.status is PaymentStatus.SUCCEEDED:
        return f"Paid with {wallet_name(payment.wallet)}"
    return failure_message(payment)


def failure_message(payment: Payment) -> str:
    if payment.status is PaymentStatus.CANCELLED:
        return "The payment was cancelled before it completed; no money was taken."
    return shopper_message(payment.result_code or "UNKNOWN")


# -- finding out ------------------------------------------------------------------------------


async def inquire_once(
    deps: PaymentDeps,
    payment_id: int,
    *,
    deadline: float,
    absent_code: str | None = None,
    report_now: bool = False,
) -> Payment:
    """Ask Antom where a PROCESSING payment stands and store a final answer if there is one.
    With ``absent_code``, a signed ORDER_NOT_EXIST fails the payment with that code (the pay
    it follows is known to have been refused, though not in a signed answer).

    ``report_now`` sends the outcome's report to Saleor before returning (the sweeper's way);
    inside a webhook the report is only queued, so that a slow Saleor never delays the answer
    Saleor itself is waiting for."""
    async with deps.sessions() as session:
        repo = PaymentsRepository(session)
        payment = await repo.payment(payment_id)
        assert payment is not None
        config = await ChannelConfigRepository(repo.session).config(payment.channel_config_id)
    assert config is not None
    if payment.status is not PaymentStatus.PROCESSING:
        return payment
    client = deps.antom.for_config(config)
    try:
        response = await client.inquiry_payment(
            InquiryPaymentRequest(payment_request_id=payment.payment_request_id),
            deadline=deadline,
        )
    except AntomUnavailable:
        return payment
    if response.outcome is not Outcome.SUCCESS:
        if response.result_code == "ORDER_NOT_EXIST":
            if absent_code is not None and response.verified:
                return await settle(
                    deps, payment_id, PaymentStatus.FAILED, code=absent_code, report_now=report_now
                )
            log.info("payment not at Antom yet", extra={"payment": payment.payment_request_id})
        return payment
    model = response.model
    match model.payment_status:
        case AntomPaymentStatus.SUCCESS:
            return await settle(
                deps,
                payment_id,
                PaymentStatus.SUCCEEDED,
                code="SUCCESS",
                antom_payment_id=model.payment_id,
                paid_at=model.payment_time or utcnow(),
                report_now=report_now,
            )
        case AntomPaymentStatus.FAIL:
            return await settle(
                deps,
                payment_id,
                PaymentStatus.FAILED,
                code=model.payment_result_code or "FAIL",
                message=model.payment_result_message,
                antom_payment_id=model.payment_id,
                report_now=report_now,
            )
        case AntomPaymentStatus.CANCELLED:
            return await settle(
                deps,
                payment_id,
                PaymentStatus.CANCELLED,
                code="CANCELLED",
                antom_payment_id=model.payment_id,
                report_now=report_now,
            )
        case AntomPaymentStatus.PROCESSING | AntomPaymentStatus.PENDING | None:
            return payment


async def inquire_until(deps: PaymentDeps, payment_id: int, deadline: float) -> Payment:
    """Inquire with backoff while the caller's budget lasts (leaving a margin to answer)."""
    delay = 0.5
    payment = await _reload(deps, payment_id)
    while payment.status is PaymentStatus.PROCESSING and remaining(deadline) > delay + 1.0:
        await asyncio.sleep(delay)
        payment = await inquire_once(deps, payment_id, deadline=deadline - 0.5)
        delay = min(delay * 2, 4.0)
    return payment


async def _reload(deps: PaymentDeps, payment_id: int) -> Payment:
    async with deps.sessions() as session:
        payment = await PaymentsRepository(session).payment(payment_id)
    assert payment is not None
    return payment


async def wait_for_outcome(deps: PaymentDeps, payment_id: int, deadline: float) -> Payment:
    """Wait (polling the database) while another caller or process pays; returns the row."""
    payment = await _reload(deps, payment_id)
    while payment.status is PaymentStatus.PROCESSING and remaining(deadline) > 0.2:
        await asyncio.sleep(POLL_INTERVAL)
        payment = await _reload(deps, payment_id)
    return payment


async def cancel_at_antom(
    deps: PaymentDeps, payment_id: int, *, deadline: float, report_now: bool = False
) -> Payment:
    """Close a payment that has no final state at Antom. S or ORDER_NOT_EXIST: cancelled (Antom
    guarantees a cancelled payment is not charged, or is reversed). U: unchanged, retry later."""
    payment = await _reload(deps, payment_id)
    async with deps.sessions() as session:
        config = await ChannelConfigRepository(session).config(payment.channel_config_id)
    assert config is not None
    client = deps.antom.for_config(config)
    try:
        response = await client.cancel(
            CancelRequest(payment_request_id=payment.payment_request_id), deadline=deadline
        )
    except AntomUnavailable:
        return payment
    if response.outcome is Outcome.SUCCESS or response.result_code == "ORDER_NOT_EXIST":
        return await _cancelled(deps, payment_id, response.result_code, report_now=report_now)
    if response.outcome is Outcome.FAILURE:
        async with transaction(deps.sessions) as session:
            row = await PaymentsRepository(session).payment(payment_id)
            if row is not None:
                row.result_code = response.result_code
                row.result_message = (response.model.result.result_message or "")[:256] or None
                session.add(row)
    return await _reload(deps, payment_id)


async def _cancelled(deps: PaymentDeps, payment_id: int, code: str, *, report_now: bool) -> Payment:
    async with transaction(deps.sessions) as session:
        repo = PaymentsRepository(session)
        moved = await repo.move_payment(
            payment_id,
            PaymentStatus.open_statuses(),
            PaymentStatus.CANCELLED,
            result_code=code,
            next_inquiry_at=None,
        )
        payment = moved or await repo.payment(payment_id)
        assert payment is not None
        key = await enqueue_final_report(repo, payment) if moved else None
    crash_point("payment.settled")
    if key is not None:
        if report_now:
            await deps.reporter.send_keys([key])
        else:
            deps.reporter.send_in_background([key])
    return payment


def paid_amount(payment: Payment) -> Decimal:
    return payment.amount if payment.status is PaymentStatus.SUCCEEDED else Decimal(0)


ACTION_BUDGET = 8.0


async def transaction_payments(
    deps: PaymentDeps, installation_id: int, transaction_id: str
) -> list[Payment]:
    async with deps.sessions() as session:
        return await PaymentsRepository(session).payments_for_transaction(
            installation_id, transaction_id
        )


def paid_payment(payments: list[Payment]) -> Payment | None:
    paid = [p for p in payments if p.status is PaymentStatus.SUCCEEDED]
    return paid[-1] if paid else None
