"""What store admins (dashboard pages, through the admin API) and operators (the CLI) do:
configure channels and test the connection to Antom, follow and revoke agreements, follow
payments and refunds and ask Antom about them. One implementation for both doors.

Every function is scoped to one installation: an installation never sees another's data.
Failures a person can act on are `OperationError`s with an HTTP-like status, a code and a
message; the admin API turns them into `ApiError`s, the CLI prints them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.agreements.service import wallet_name
from saleor_alipay_app.antom.client import AntomClient, AntomUnavailable, UnavailableReason
from saleor_alipay_app.antom.keys import (
    KeyFormatError,
    load_private_key,
    load_public_key,
    public_key_base64,
)
from saleor_alipay_app.antom.models import InquiryPaymentRequest
from saleor_alipay_app.antom.money import AmountError, minor_digits
from saleor_alipay_app.antom.results import Call, merchant_message
from saleor_alipay_app.antom.wallets import CAPABILITIES
from saleor_alipay_app.channels.service import (
    PRIVATE_KEY_PURPOSE,
    AntomClients,
    ChannelConfigInput,
    describe,
    save_config,
    validate,
)
from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import CryptoError, KeyRing, load_key_ring
from saleor_alipay_app.db import create_engine, session_factory, transaction
from saleor_alipay_app.http import make_http_client
from saleor_alipay_app.installations.repository import Installation, InstallationRepository
from saleor_alipay_app.payments.actions import inquire_refund
from saleor_alipay_app.payments.admin_repository import (
    AdminRepository,
    AgreementSearch,
    PaymentSearch,
    RefundSearch,
)
from saleor_alipay_app.payments.errors import ConfigurationError
from saleor_alipay_app.payments.models import (
    Agreement,
    AgreementStatus,
    ChannelConfig,
    History,
    HistorySubject,
    Notification,
    NotificationKind,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    SaleorReport,
)
from saleor_alipay_app.payments.notifications import NOTIFICATION_BODY_PURPOSE
from saleor_alipay_app.payments.reporting import SaleorReporter
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import PaymentDeps, deadline_in, inquire_once
from saleor_alipay_app.payments.sessions import revoke_agreement as revoke_at_antom
from saleor_alipay_app.saleor.client import SaleorClient, SaleorError

log = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]

# Time given to one call to Antom made on a person's behalf (revoke, inquire, test).
ANTOM_BUDGET = 10.0
# Longest key text accepted in a form (an RSA-4096 PEM is about 3,300 characters).
MAX_KEY_TEXT = 10_000
CLOCK_TOLERANCE_SECONDS = 300


class OperationError(Exception):
    """Something the person asking can act on; nothing was changed."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Invalid(OperationError):
    status = 400


class NotFound(OperationError):
    status = 404


class Conflict(OperationError):
    status = 409


class Unavailable(OperationError):
    status = 502


# -- views: what people may see of each record ------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None, currency: str | None = None) -> str | None:
    """A decimal string with the currency's digits (``123.45``, IDR ``10000.00``, JPY ``1200``)."""
    if value is None:
        return None
    if currency is not None:
        with contextlib.suppress(AmountError, ArithmeticError):
            value = value.quantize(Decimal(1).scaleb(-minor_digits(currency)))
    return format(value, "f")


def agreement_view(agreement: Agreement) -> dict[str, Any]:
    """An agreement without its tokens."""
    return {
        "id": agreement.public_id,
        "channel": agreement.channel_slug,
        "customerId": agreement.saleor_user_id,
        "customerEmail": agreement.customer_email,
        "guest": agreement.guest,
        "wallet": agreement.wallet,
        "walletName": wallet_name(agreement.wallet),
        "userLoginId": agreement.user_login_id,
        "status": agreement.status.value,
        "statusReason": agreement.status_reason,
        "expiresAt": _iso(agreement.access_token_expires_at),
        "createdAt": _iso(agreement.created_at),
        "updatedAt": _iso(agreement.updated_at),
        "endedAt": _iso(agreement.ended_at),
    }


def payment_view(
    payment: Payment, *, agreement_id: str | None = None, refunded: Decimal | None = None
) -> dict[str, Any]:
    return {
        "paymentRequestId": payment.payment_request_id,
        "paymentId": payment.antom_payment_id,
        "transactionId": payment.saleor_transaction_id,
        "attempt": payment.attempt,
        "channel": payment.channel_slug,
        "customerId": payment.saleor_user_id,
        "agreementId": agreement_id,
        "wallet": payment.wallet,
        "walletName": wallet_name(payment.wallet),
        "amount": _money(payment.amount, payment.currency),
        "currency": payment.currency,
        "refundedAmount": _money(
            refunded if refunded is not None else Decimal(0), payment.currency
        ),
        "status": payment.status.value,
        "resultCode": payment.result_code,
        "resultMessage": payment.result_message,
        "inquiries": payment.inquiry_count,
        "nextInquiryAt": _iso(payment.next_inquiry_at),
        "createdAt": _iso(payment.created_at),
        "updatedAt": _iso(payment.updated_at),
        "paidAt": _iso(payment.paid_at),
    }


def refund_view(refund: Refund, payment: Payment) -> dict[str, Any]:
    return {
        "refundRequestId": refund.refund_request_id,
        "refundId": refund.antom_refund_id,
        "paymentRequestId": payment.payment_request_id,
        "transactionId": payment.saleor_transaction_id,
        "channel": payment.channel_slug,
        "wallet": payment.wallet,
        "amount": _money(refund.amount, refund.currency),
        "currency": refund.currency,
        "status": refund.status.value,
        "resultCode": refund.result_code,
        "resultMessage": refund.result_message,
        "createdAt": _iso(refund.created_at),
        "updatedAt": _iso(refund.updated_at),
    }


def history_view(entry: History) -> dict[str, Any]:
    return {
        "subject": entry.subject.value,
        "reference": entry.reference,
        "status": entry.status,
        "detail": entry.detail,
        "createdAt": _iso(entry.created_at),
    }


def report_view(report: SaleorReport, currency: str | None = None) -> dict[str, Any]:
    return {
        "eventType": report.event_type,
        "pspReference": report.psp_reference,
        "amount": _money(report.amount, currency),
        "message": report.message,
        "status": report.status.value,
        "attempts": report.attempts,
        "lastError": report.last_error,
        "createdAt": _iso(report.created_at),
        "sentAt": _iso(report.sent_at),
    }


# Fields of a notification body shown to people; authorization notifications carry auth codes
# and access tokens, so only their type and authState are shown.
_SAFE_FIELDS: dict[NotificationKind, tuple[str, ...]] = {
    NotificationKind.AUTHORIZATION: ("authorizationNotifyType", "authState", "reason"),
    NotificationKind.PAYMENT: (
        "notifyType",
        "result",
        "paymentRequestId",
        "paymentId",
        "paymentAmount",
        "paymentTime",
    ),
    NotificationKind.REFUND: (
        "notifyType",
        "result",
        "refundStatus",
        "refundRequestId",
        "refundId",
        "refundAmount",
        "refundTime",
    ),
}


def notification_view(notification: Notification, keys: KeyRing) -> dict[str, Any]:
    body: dict[str, Any] = {}
    try:
        raw = json.loads(keys.decrypt(notification.body_encrypted, NOTIFICATION_BODY_PURPOSE))
    except (CryptoError, ValueError):
        raw = None
    if isinstance(raw, dict):
        body = {k: raw[k] for k in _SAFE_FIELDS[notification.kind] if k in raw}
    return {
        "kind": notification.kind.value,
        "receivedAt": _iso(notification.received_at),
        "processedAt": _iso(notification.processed_at),
        "deliveries": notification.deliveries,
        "lastError": notification.last_error,
        "body": body,
    }


def wallet_choices() -> list[dict[str, str]]:
    return [
        {"id": cap.wallet.value, "name": cap.display_name, "currency": cap.currency}
        for cap in CAPABILITIES.values()
    ]


# -- installations (the CLI chooses one; the admin API is handed one) --------------------------


async def find_installation(sessions: Sessions, api_url: str | None) -> Installation:
    async with sessions() as session:
        repo = InstallationRepository(session)
        if api_url:
            found = await repo.get_by_api_url(api_url)
            if found is None:
                raise NotFound("UNKNOWN_INSTALLATION", f"the app is not installed in {api_url}")
            return found
        installations = await repo.list_all()
    if not installations:
        raise NotFound("NO_INSTALLATION", "no Saleor has installed the app yet")
    if len(installations) > 1:
        urls = ", ".join(i.saleor_api_url for i in installations)
        raise Invalid(
            "SEVERAL_INSTALLATIONS", f"several Saleors installed the app ({urls}): name one"
        )
    return installations[0]


@contextlib.asynccontextmanager
async def operator_deps(settings: Settings) -> AsyncIterator[PaymentDeps]:
    """The payment dependencies for one CLI command (the web app builds its own)."""
    keys = load_key_ring(settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    saleor_http = make_http_client(timeout=settings.saleor_call_timeout)
    antom_http = make_http_client(timeout=settings.antom_call_timeout)
    saleor = SaleorClient(saleor_http, timeout=settings.saleor_call_timeout)
    try:
        yield PaymentDeps(
            sessions=sessions,
            keys=keys,
            antom=AntomClients(antom_http, keys, call_timeout=settings.antom_call_timeout),
            reporter=SaleorReporter(sessions, saleor, keys),
        )
    finally:
        await saleor_http.aclose()
        await antom_http.aclose()
        await engine.dispose()


# -- agreements ---------------------------------------------------------------------------------


def parse_agreement_status(value: str | None) -> AgreementStatus | None:
    if not value:
        return None
    try:
        return AgreementStatus(value.strip().upper())
    except ValueError:
        known = ", ".join(s.value for s in AgreementStatus)
        raise Invalid(
            "INVALID_STATUS", f"unknown agreement status {value!r}: use {known}"
        ) from None


async def list_agreements(
    sessions: Sessions, installation_id: int, search: AgreementSearch
) -> dict[str, Any]:
    async with sessions() as session:
        rows, total = await AdminRepository(session).search_agreements(installation_id, search)
    return {"items": [agreement_view(a) for a in rows], "total": total}


async def _agreement(session: AsyncSession, installation_id: int, public_id: str) -> Agreement:
    agreement = await AdminRepository(session).agreement(installation_id, public_id)
    if agreement is None:
        raise NotFound("AGREEMENT_NOT_FOUND", f"no agreement {public_id}")
    return agreement


async def agreement_detail(
    sessions: Sessions, installation_id: int, public_id: str
) -> dict[str, Any]:
    async with sessions() as session:
        repo = AdminRepository(session)
        agreement = await _agreement(session, installation_id, public_id)
        assert agreement.id is not None
        history = await repo.history_of(installation_id, [(HistorySubject.AGREEMENT, agreement.id)])
        payments = await repo.payments_with_agreement(installation_id, agreement.id)
    return {
        **agreement_view(agreement),
        "history": [history_view(h) for h in history],
        "payments": [payment_view(p, agreement_id=agreement.public_id) for p in payments],
    }


async def revoke_agreement(
    deps: PaymentDeps, installation_id: int, public_id: str, *, actor: str
) -> dict[str, Any]:
    """Revoke at Antom first; only then is the agreement marked revoked."""
    async with deps.sessions() as session:
        agreement = await _agreement(session, installation_id, public_id)
    if agreement.status is not AgreementStatus.ACTIVE:
        raise Conflict(
            "AGREEMENT_NOT_ACTIVE",
            f"agreement {public_id} is already {agreement.status.value.lower()}",
        )
    done = await revoke_at_antom(
        deps, agreement, f"revoked by {actor}"[:256], deadline=deadline_in(ANTOM_BUDGET)
    )
    if not done:
        raise Unavailable(
            "ANTOM_UNAVAILABLE",
            "Antom did not confirm the revocation; the agreement is still active. Try again.",
        )
    return await agreement_detail(deps.sessions, installation_id, public_id)


# -- payments and refunds -------------------------------------------------------------------------


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


def parse_day(value: str | None, what: str) -> datetime | None:
    """A date (YYYY-MM-DD, taken as UTC midnight) or a full ISO-8601 time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("INVALID_DATE", f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def list_payments(
    sessions: Sessions, installation_id: int, search: PaymentSearch
) -> dict[str, Any]:
    async with sessions() as session:
        repo = AdminRepository(session)
        rows, total = await repo.search_payments(installation_id, search)
        ids = [p.id for p in rows if p.id is not None]
        refunded = await repo.refunded_amounts(ids)
        agreements = await repo.agreement_public_ids(
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
    payment = await AdminRepository(session).payment(installation_id, payment_request_id)
    if payment is None:
        raise NotFound("PAYMENT_NOT_FOUND", f"no payment {payment_request_id}")
    return payment


async def payment_detail(
    sessions: Sessions, keys: KeyRing, installation_id: int, payment_request_id: str
) -> dict[str, Any]:
    """A payment with its refunds, the history of every state (its own, its refunds', its QR
    code's and its reports'), the notifications Antom sent about it and the reports sent to
    Saleor for its transaction."""
    async with sessions() as session:
        repo = AdminRepository(session)
        payments = PaymentsRepository(session)
        payment = await _payment(session, installation_id, payment_request_id)
        assert payment.id is not None
        refunds = await payments.refunds_for_payment(payment.id)
        binding = (
            await payments.binding_by_id(payment.binding_session_id)
            if payment.binding_session_id is not None
            else None
        )
        reports = await repo.reports_for_transaction(installation_id, payment.saleor_transaction_id)
        subjects: list[tuple[HistorySubject, int]] = [(HistorySubject.PAYMENT, payment.id)]
        subjects += [(HistorySubject.REFUND, r.id) for r in refunds if r.id is not None]
        subjects += [(HistorySubject.REPORT, r.id) for r in reports if r.id is not None]
        if binding is not None and binding.id is not None:
            subjects.append((HistorySubject.BINDING, binding.id))
        history = await repo.history_of(installation_id, subjects)
        references = [payment.payment_request_id] + [r.refund_request_id for r in refunds]
        if binding is not None:
            references.append(binding.auth_state)
        notifications = await repo.notifications_about(installation_id, references)
        agreement_ids = await repo.agreement_public_ids(
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
        rows, total = await AdminRepository(session).search_refunds(installation_id, search)
    return {"items": [refund_view(r, p) for r, p in rows], "total": total}


# -- channel configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigForm:
    """A configuration as a person submits it. Empty key fields keep the stored keys."""

    client_id: str
    merchant_private_key: str | None = None
    antom_public_key: str | None = None
    # The public key the merchant uploaded to Antom, when given: checked against the private key.
    merchant_public_key: str | None = None
    region: str = "asia"
    base_url: str | None = None
    sandbox: bool = False
    wallets: tuple[str, ...] = field(default_factory=tuple)


def config_view(config: ChannelConfig, base_url: str | None, keys: KeyRing) -> dict[str, Any]:
    """`describe` plus the public half of the merchant key (to upload to Antom)."""
    view = describe(config, base_url)
    try:
        private = load_private_key(
            keys.decrypt(config.merchant_private_key_encrypted, PRIVATE_KEY_PURPOSE)
        )
        view["merchantPublicKey"] = public_key_base64(private)
    except (CryptoError, KeyFormatError):
        view["merchantPublicKey"] = None
    view["merchantPrivateKey"] = "set"
    return view


async def channel_configs(
    sessions: Sessions, keys: KeyRing, installation_id: int, base_url: str | None
) -> dict[str, dict[str, Any]]:
    async with sessions() as session:
        configs = await PaymentsRepository(session).configs(installation_id)
    return {c.channel_slug: config_view(c, base_url, keys) for c in configs}


async def list_channels(
    sessions: Sessions,
    keys: KeyRing,
    saleor: SaleorClient,
    installation: Installation,
    base_url: str | None,
) -> dict[str, Any]:
    """Saleor's channels (read with the app token) with their Antom configuration, if any."""
    assert installation.id is not None
    configs = await channel_configs(sessions, keys, installation.id, base_url)
    warning = None
    channels: list[dict[str, Any]] = []
    try:
        data = await saleor.execute(
            installation.saleor_api_url,
            installation.app_token(keys),
            "queries/channels.graphql",
        )
        channels = [c for c in data.get("channels") or [] if isinstance(c, dict)]
    except SaleorError as exc:
        log.warning("channels unavailable", extra={"error": str(exc)[:200]})
        warning = f"Saleor's channels could not be read ({str(exc)[:200]}); configured ones shown"
    items = []
    seen = set()
    for channel in channels:
        slug = str(channel.get("slug") or "")
        seen.add(slug)
        items.append(
            {
                "slug": slug,
                "name": channel.get("name") or slug,
                "currency": channel.get("currencyCode"),
                "isActive": bool(channel.get("isActive", True)),
                "configuration": configs.get(slug),
            }
        )
    for slug, config in sorted(configs.items()):
        if slug not in seen:
            items.append(
                {
                    "slug": slug,
                    "name": slug,
                    "currency": None,
                    "isActive": False,
                    "configuration": config,
                }
            )
    return {"items": items, "wallets": wallet_choices(), "warning": warning}


def _key_text(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_KEY_TEXT:
        raise Invalid(
            "INVALID_CONFIGURATION",
            f"{what} is {len(value)} characters long: paste only the key (PEM or base64)",
        )
    return value


async def _stored_keys(
    sessions: Sessions, keys: KeyRing, installation_id: int, slug: str
) -> tuple[str | None, str | None]:
    async with sessions() as session:
        config = await PaymentsRepository(session).config_for_channel(installation_id, slug)
    if config is None:
        return None, None
    return (
        keys.decrypt(config.merchant_private_key_encrypted, PRIVATE_KEY_PURPOSE),
        config.antom_public_key,
    )


async def checked_config(
    sessions: Sessions, keys: KeyRing, installation_id: int, slug: str, form: ConfigForm
) -> ChannelConfigInput:
    """The form completed with the stored keys where left empty, or `Invalid` saying what to fix."""
    private = _key_text(form.merchant_private_key, "the merchant private key")
    public = _key_text(form.antom_public_key, "the Antom public key")
    merchant_public = _key_text(form.merchant_public_key, "your public key")
    if private is None or public is None:
        stored_private, stored_public = await _stored_keys(sessions, keys, installation_id, slug)
        private = private or stored_private
        public = public or stored_public
    missing = [
        what
        for what, value in (
            ("the merchant private key", private),
            ("the Antom public key", public),
        )
        if value is None
    ]
    if missing:
        raise Invalid("INVALID_CONFIGURATION", "paste " + " and ".join(missing))
    assert private is not None
    assert public is not None
    client_id = form.client_id.strip()
    if any(ch.isspace() for ch in client_id) or not client_id.isascii():
        raise Invalid(
            "INVALID_CONFIGURATION",
            "the Antom client id has spaces or non-ASCII characters: copy it from Antom Dashboard",
        )
    data = ChannelConfigInput(
        channel_slug=slug,
        client_id=client_id,
        merchant_private_key=private,
        antom_public_key=public,
        region=form.region or "asia",
        base_url=(form.base_url or "").strip() or None,
        sandbox=form.sandbox,
        wallets=form.wallets,
    )
    try:
        valid = validate(data)
    except ConfigurationError as exc:
        raise Invalid("INVALID_CONFIGURATION", str(exc)) from None
    if merchant_public is not None:
        try:
            uploaded = load_public_key(merchant_public)
        except KeyFormatError as exc:
            raise Invalid("INVALID_CONFIGURATION", f"your public key: {exc}") from None
        if uploaded.public_numbers() != valid.private_key.public_key().public_numbers():
            raise Invalid(
                "INVALID_CONFIGURATION",
                "the merchant private key does not match the public key you uploaded to Antom: "
                "paste the private key of that pair, or upload its public key to Antom",
            )
    return data


async def save_channel_config(
    sessions: Sessions,
    keys: KeyRing,
    installation_id: int,
    slug: str,
    form: ConfigForm,
    base_url: str | None,
) -> dict[str, Any]:
    data = await checked_config(sessions, keys, installation_id, slug, form)
    valid = validate(data)
    async with transaction(sessions) as session:
        config = await save_config(PaymentsRepository(session), installation_id, valid, keys)
        view = config_view(config, base_url, keys)
    log.info("channel configured", extra={"channel": slug, "installation": installation_id})
    return view


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of one test call; ``problem`` names what to fix (OK when nothing)."""

    ok: bool
    problem: str
    message: str
    result_code: str | None = None
    detail: str | None = None
    elapsed_ms: int | None = None

    def view(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problem": self.problem,
            "message": self.message,
            "resultCode": self.result_code,
            "detail": self.detail,
            "elapsedMs": self.elapsed_ms,
        }


CLIENT_ID_CODES = frozenset(
    {
        "KEY_NOT_FOUND",
        "UNKNOWN_CLIENT",
        "ACCESS_DENIED",
        "INVALID_CLIENT_STATUS",
        "CLIENT_FORBIDDEN_ACCESS_API",
        "MERCHANT_NOT_REGISTERED",
    }
)
URL_CODES = frozenset({"INVALID_API", "NO_INTERFACE_DEF"})
_CLOCK_WORDS = ("request-time", "request time", "timestamp", "clock", "time expired")


def clock_skew(response_time: str | None, now: datetime | None = None) -> float | None:
    """Seconds between Antom's `response-time` and our clock (None when unknown)."""
    if not response_time:
        return None
    try:
        when = datetime.fromisoformat(response_time.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return ((now or datetime.now(UTC)) - when).total_seconds()


def _clock_message(skew: float) -> str:
    minutes = round(abs(skew) / 60)
    direction = "ahead of" if skew > 0 else "behind"
    return (
        f"clock: this server's clock is about {minutes} minute(s) {direction} Antom's. Antom "
        "refuses requests whose request-time is off; set the clock (NTP) and test again"
    )


def diagnose_answer(
    *,
    result_code: str,
    result_message: str | None,
    verified: bool,
    response_time: str | None,
    url: str,
    now: datetime | None = None,
) -> ConnectionCheck:
    """Plain words for Antom's answer to a signed inquiry of a payment that does not exist."""
    skew = clock_skew(response_time, now)
    text = (result_message or "").lower()
    if result_code == "ORDER_NOT_EXIST":
        if not verified:
            return ConnectionCheck(
                False,
                "UNSIGNED",
                "Antom accepted our signature and client id but sent an unsigned answer, so "
                "the Antom public key could not be checked",
                result_code,
            )
        if skew is not None and abs(skew) > CLOCK_TOLERANCE_SECONDS:
            return ConnectionCheck(False, "CLOCK", _clock_message(skew), result_code)
        return ConnectionCheck(
            True,
            "OK",
            "Connected: Antom accepted our signature and client id, and its signed answer "
            "verified with the Antom public key",
            result_code,
        )
    if (skew is not None and abs(skew) > CLOCK_TOLERANCE_SECONDS) or any(
        word in text for word in _CLOCK_WORDS
    ):
        return ConnectionCheck(
            False,
            "CLOCK",
            _clock_message(skew)
            if skew is not None
            else "clock: Antom refused the request time; set this server's clock (NTP)",
            result_code,
            result_message,
        )
    if result_code == "INVALID_SIGNATURE":
        return ConnectionCheck(
            False,
            "PRIVATE_KEY",
            "Antom rejected our signature: the private key does not match the public key "
            "uploaded to Antom",
            result_code,
            result_message,
        )
    if result_code in CLIENT_ID_CODES:
        return ConnectionCheck(
            False,
            "CLIENT_ID",
            f"client id unknown: Antom answered {result_code} (check the client id and that "
            f"it belongs to {url}; upload your public key in Antom Dashboard)",
            result_code,
            result_message,
        )
    if result_code in URL_CODES:
        return ConnectionCheck(
            False,
            "URL",
            f"wrong region or URL: {url} does not serve this API ({result_code})",
            result_code,
            result_message,
        )
    return ConnectionCheck(
        False,
        "ANTOM_ERROR",
        f"Antom answered {result_code}: {merchant_message(result_code)}",
        result_code,
        result_message,
    )


def diagnose_unavailable(exc: AntomUnavailable, url: str) -> ConnectionCheck:
    """Plain words for a call that brought back no usable answer."""
    match exc.reason:
        case UnavailableReason.SIGNATURE_REFUSED:
            return ConnectionCheck(
                False,
                "ANTOM_PUBLIC_KEY",
                "Antom public key is wrong: Antom answered, but its signature does not verify "
                "with the Antom public key entered (copy 'Antom public key' from Antom Dashboard)",
                detail=exc.detail,
            )
        case UnavailableReason.CONNECTION_ERROR:
            return ConnectionCheck(
                False,
                "URL",
                f"wrong region or URL: could not connect to {url}",
                detail=exc.detail,
            )
        case UnavailableReason.TIMEOUT | UnavailableReason.DEADLINE_EXCEEDED:
            return ConnectionCheck(
                False,
                "URL",
                f"wrong region or URL: {url} did not answer in time (or the network blocks it)",
                detail=exc.detail,
            )
        case UnavailableReason.HTTP_STATUS:
            if exc.status_code in (404, 405):
                return ConnectionCheck(
                    False,
                    "URL",
                    f"wrong region or URL: {url} answered HTTP {exc.status_code} (no Antom API "
                    "there)",
                    detail=exc.detail,
                )
            return ConnectionCheck(
                False,
                "ANTOM_ERROR",
                f"Antom answered HTTP {exc.status_code}: try again later; if it lasts, check "
                "the region or URL",
                detail=exc.detail,
            )
        case UnavailableReason.NOT_JSON | UnavailableReason.BAD_RESPONSE:
            return ConnectionCheck(
                False,
                "URL",
                f"wrong region or URL: {url} answered, but not as Antom does",
                detail=exc.detail,
            )


async def check_connection(
    sessions: Sessions,
    keys: KeyRing,
    http: httpx.AsyncClient,
    installation_id: int,
    slug: str,
    form: ConfigForm,
    *,
    call_timeout: float = ANTOM_BUDGET,
) -> dict[str, Any]:
    """One real signed call with the configuration being tested (nothing is saved): an
    inquiry of a payment that cannot exist. ORDER_NOT_EXIST, signed and verified, proves the
    client id, both keys and the URL are right."""
    data = await checked_config(sessions, keys, installation_id, slug, form)
    valid = validate(data)
    client = AntomClient(
        base_url=valid.base_url,
        client_id=valid.client_id,
        private_key=valid.private_key,
        antom_public_key=valid.public_key,
        http=http,
        sandbox=valid.sandbox,
        call_timeout=call_timeout,
    )
    request = InquiryPaymentRequest(payment_request_id="saa-test-" + secrets.token_hex(12))
    started = time.monotonic()
    try:
        response = await client.inquiry_payment(request, deadline=deadline_in(call_timeout))
    except AntomUnavailable as exc:
        check = diagnose_unavailable(exc, valid.base_url)
    else:
        result = response.model.result
        check = diagnose_answer(
            result_code=result.result_code,
            result_message=result.result_message,
            verified=response.verified,
            response_time=response.response_time,
            url=valid.base_url,
        )
    elapsed = int((time.monotonic() - started) * 1000)
    log.info(
        "connection tested",
        extra={"channel": slug, "problem": check.problem, "code": check.result_code},
    )
    return {
        **check.view(),
        "elapsedMs": elapsed,
        "clientId": valid.client_id,
        "url": valid.base_url + client.path_for(Call.INQUIRY_PAYMENT),
    }
