"""What staff do with payments and refunds, from the dashboard or the CLI: list, read, and ask
Antom where one stands."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.schemas import agreement_view
from saleor_alipay_app.agreements.staff import find_agreement
from saleor_alipay_app.channels.deps import ANTOM_BUDGET
from saleor_alipay_app.crypto import CryptoError, KeyRing
from saleor_alipay_app.db import Sessions, transaction
from saleor_alipay_app.errors import (
    Invalid,
    NotFound,
)
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.history.schemas import history_view
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Payment, PaymentStatus, RefundStatus
from saleor_alipay_app.payments.refunds import inquire_refund
from saleor_alipay_app.payments.repository import PaymentSearch, PaymentsRepository, RefundSearch
from saleor_alipay_app.payments.schemas import (
    notification_view,
    payment_view,
    refund_view,
    report_view,
)
from saleor_alipay_app.payments.service import inquire_once
from saleor_alipay_app.saleor.client import SaleorClient, SaleorError

log = logging.getLogger(__name__)


def parse_payment_status(value: str | None) -> PaymentStatus | None:
    if not value:
        return None
    try:
        return PaymentStatus(value.strip().upper())
    except ValueError:
        known = ", ".join(s.value for s in PaymentStatus)
        raise Invalid("INVALID_STATUS", f"unknown payment status {value!r}: use {known}") from None


def parse_refund_status(value: str | None) -> RefundStatus | None:
    if not value:
        return None
    try:
        return RefundStatus(value.strip().upper())
    except ValueError:
        known = ", ".join(s.value for s in RefundStatus)
        raise Invalid("INVALID_STATUS", f"unknown refund status {value!r}: use {known}") from None


# The years a search by date may name (the app was written in 2026; a century either way).
EARLIEST_DAY = 1970
LATEST_DAY = 2200


def parse_day(value: str | None, what: str) -> datetime | None:
    """A date (YYYY-MM-DD, taken as UTC midnight) or a full ISO-8601 time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        moment = parsed.astimezone(UTC)  # the edges of datetime overflow here
    except (ValueError, OverflowError):
        raise Invalid(
            "INVALID_DATE", f"{what}: {value[:40]!r} is not a date (YYYY-MM-DD)"
        ) from None
    if not EARLIEST_DAY <= moment.year <= LATEST_DAY:
        raise Invalid(
            "INVALID_DATE", f"{what}: the year must be between {EARLIEST_DAY} and {LATEST_DAY}"
        )
    return moment


async def list_payments(
    sessions: Sessions, installation_id: int, search: PaymentSearch
) -> dict[str, Any]:
    async with sessions() as session:
        repo = PaymentsRepository(session)
        rows, total = await repo.search_payments(installation_id, search)
        ids = [p.id for p in rows if p.id is not None]
        refunded = await repo.refunded_amounts(ids)
        agreements = await AgreementRepository(repo.session).agreement_public_ids(
            [p.agreement_id for p in rows if p.agreement_id is not None]
        )
    items = [
        payment_view(
            p,
            agreement_id=agreements.get(p.agreement_id) if p.agreement_id else None,
            refunded=refunded.get(p.id or 0),
        )
        for p in rows
    ]
    return {"items": items, "total": total}


async def _payment(session: AsyncSession, installation_id: int, payment_request_id: str) -> Payment:
    payment = await PaymentsRepository(session).payment_in(installation_id, payment_request_id)
    if payment is None:
        raise NotFound("PAYMENT_NOT_FOUND", f"no payment {payment_request_id}")
    return payment


# How long the payment page waits for Saleor to name a transaction's order.
ORDER_LOOKUP_SECONDS = 3.0
ORDER_DOCUMENT = "queries/transaction_order.graphql"


async def learn_order(
    sessions: Sessions,
    keys: KeyRing,
    saleor: SaleorClient,
    installation_id: int,
    payment_request_id: str,
) -> None:
    """Ask Saleor which order a payment's transaction belongs to, when the app does not know it
    yet (a checkout's transaction moves to its order at checkoutComplete, and no webhook says
    so), and keep the answer. Best effort: the page shows no link when Saleor cannot say."""
    async with sessions() as session:
        payment = await PaymentsRepository(session).payment_in(installation_id, payment_request_id)
        if payment is None or payment.saleor_order_id is not None:
            return
        if payment.status is not PaymentStatus.SUCCEEDED:
            return  # a checkout is completed once paid: before that there is no order to find
        installation = await InstallationRepository(session).get(installation_id)
    if installation is None:
        return
    try:
        async with asyncio.timeout(ORDER_LOOKUP_SECONDS):
            data = await saleor.execute(
                installation.saleor_api_url,
                installation.app_token(keys),
                ORDER_DOCUMENT,
                {"id": payment.saleor_transaction_id},
            )
    except (SaleorError, TimeoutError, CryptoError) as exc:
        log.info(
            "Saleor did not name the transaction's order",
            extra={"payment": payment_request_id, "reason": type(exc).__name__},
        )
        return
    found = data.get("transaction")
    order = found.get("order") if isinstance(found, dict) else None
    order_id = order.get("id") if isinstance(order, dict) else None
    if not isinstance(order_id, str) or not order_id:
        return
    async with transaction(sessions) as session:
        await PaymentsRepository(session).note_order(
            installation_id, payment.saleor_transaction_id, order_id
        )


async def payment_detail(
    sessions: Sessions, keys: KeyRing, installation_id: int, payment_request_id: str
) -> dict[str, Any]:
    """A payment with its refunds, the history of every state (its own, its refunds', its QR
    code's and its reports'), the notifications Antom sent about it and the reports sent to
    Saleor for its transaction."""
    async with sessions() as session:
        repo = PaymentsRepository(session)
        payments = PaymentsRepository(session)
        payment = await _payment(session, installation_id, payment_request_id)
        assert payment.id is not None
        refunds = await payments.refunds_for_payment(payment.id)
        binding = (
            await AgreementRepository(payments.session).binding_by_id(payment.binding_session_id)
            if payment.binding_session_id is not None
            else None
        )
        reports = await repo.reports_for_transaction(installation_id, payment.saleor_transaction_id)
        subjects: list[tuple[HistorySubject, int]] = [(HistorySubject.PAYMENT, payment.id)]
        subjects += [(HistorySubject.REFUND, r.id) for r in refunds if r.id is not None]
        subjects += [(HistorySubject.REPORT, r.id) for r in reports if r.id is not None]
        if binding is not None and binding.id is not None:
            subjects.append((HistorySubject.BINDING, binding.id))
        history = await HistoryRepository(repo.session).of_subjects(installation_id, subjects)
        references = [payment.payment_request_id] + [r.refund_request_id for r in refunds]
        if binding is not None:
            references.append(binding.auth_state)
        notifications = await repo.notifications_about(installation_id, references)
        agreement_ids = await AgreementRepository(repo.session).agreement_public_ids(
            [payment.agreement_id] if payment.agreement_id is not None else []
        )
    refunded = sum(
        (r.amount for r in refunds if r.status is RefundStatus.SUCCEEDED), start=Decimal(0)
    )
    return {
        **payment_view(
            payment,
            agreement_id=agreement_ids.get(payment.agreement_id or 0),
            refunded=refunded,
        ),
        "refunds": [refund_view(r, payment) for r in refunds],
        "history": [history_view(h) for h in history],
        "notifications": [notification_view(n, keys) for n in notifications],
        "reports": [report_view(r, payment.currency) for r in reports],
    }


async def inquire_payment(
    deps: PaymentDeps, installation_id: int, payment_request_id: str
) -> dict[str, Any]:
    """Ask Antom now where a payment (and its unfinished refunds) stand."""
    async with deps.sessions() as session:
        payment = await _payment(session, installation_id, payment_request_id)
        assert payment.id is not None
        refunds = await PaymentsRepository(session).refunds_for_payment(payment.id)
    before = payment.status
    open_refunds = [r for r in refunds if r.status is RefundStatus.PROCESSING and r.id]
    asked = False
    if payment.status is PaymentStatus.PROCESSING:
        asked = True
        payment = await inquire_once(deps, payment.id, deadline=deadline_in(ANTOM_BUDGET))
    for refund in open_refunds:
        asked = True
        assert refund.id is not None
        await inquire_refund(deps, refund.id, deadline=deadline_in(ANTOM_BUDGET))
    detail = await payment_detail(deps.sessions, deps.keys, installation_id, payment_request_id)
    if not asked:
        message = (
            f"nothing to ask Antom: the payment is {before.value} and has no refund in progress"
        )
    elif detail["status"] != before.value:
        message = f"Antom says the payment is now {detail['status']} (was {before.value})"
    else:
        message = f"asked Antom: the payment is still {detail['status']}"
    return {"inquired": asked, "changed": detail["status"] != before.value, "message": message,
            "payment": detail}  # fmt: skip


async def list_refunds(
    sessions: Sessions, installation_id: int, search: RefundSearch
) -> dict[str, Any]:
    async with sessions() as session:
        rows, total = await PaymentsRepository(session).search_refunds(installation_id, search)
    return {"items": [refund_view(r, p) for r, p in rows], "total": total}


async def agreement_detail(
    sessions: Sessions, installation_id: int, public_id: str
) -> dict[str, Any]:
    """An agreement with its history and the payments made with it."""
    async with sessions() as session:
        repo = PaymentsRepository(session)
        agreement = await find_agreement(session, installation_id, public_id)
        assert agreement.id is not None
        history = await HistoryRepository(repo.session).of_subjects(
            installation_id, [(HistorySubject.AGREEMENT, agreement.id)]
        )
        payments = await repo.payments_with_agreement(installation_id, agreement.id)
    return {
        **agreement_view(agreement),
        "history": [history_view(h) for h in history],
        "payments": [payment_view(p, agreement_id=agreement.public_id) for p in payments],
    }
