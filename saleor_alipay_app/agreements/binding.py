"""Scan to Bind: a QR code per binding session (`consult`), the shopper's approval arriving as
Antom's authorization notification, the token exchange (`applyToken`, within the auth code's
60 s) and the agreement it creates; for a checkout, the charge that follows.

The notification path and the storefront's polling path (`TRANSACTION_PROCESS_SESSION`) both
end in `payments.qr_payments.complete_binding`, which is idempotent: whichever comes first does
the work. Nothing here knows of payments.
"""

from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import segno

from saleor_alipay_app.agreements.models import (
    AgreementStatus,
    BindingPurpose,
    BindingSession,
    BindingStatus,
)
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import create_agreement, end_agreement, token_sha256
from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import (
    ApplyTokenRequest,
    AuthorizationNotifyType,
    ConsultRequest,
    ConsultResponse,
    NotifyAuthorization,
)
from saleor_alipay_app.antom.results import Outcome, merchant_message, shopper_message
from saleor_alipay_app.channels.deps import AntomDeps
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.service import notification_path
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.errors import PaymentError
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository

log = logging.getLogger(__name__)

# Antom: no authorization within 15 minutes means the QR code failed (API.md §6).
BINDING_LIFETIME = timedelta(minutes=15)


def new_auth_state() -> str:
    return "bind_" + secrets.token_urlsafe(18)


def qr_svg(text: str) -> str:
    """An SVG image of ``text`` as a QR code (what the storefront shows)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def _qr_value(response: ConsultResponse) -> str:
    form = response.auth_code_form
    details = form.code_details if form is not None else []
    for detail in details:
        if detail.display_type.upper() == "TEXT":
            return detail.code_value
    if details:
        return details[0].code_value
    for url in (response.normal_url, response.applink_url, response.scheme_url):
        if url:
            return url
    raise PaymentError(
        "NO_QR_CODE",
        "The wallet could not provide a QR code. Please try again.",
        "Antom's consult answer carried no QR code or authorization URL",
    )


# Where a storefront follows a binding (server-sent events), relative to the app's base URL.
STATUS_STREAM_PATH = "/storefront/bindings/{binding_id}/events"


def status_url(base_url: str, binding: BindingSession) -> str:
    return base_url.rstrip("/") + STATUS_STREAM_PATH.format(binding_id=binding.auth_state)


def binding_data(binding: BindingSession, base_url: str | None = None) -> dict[str, Any]:
    """What the storefront shows: the QR code (text and SVG), mobile URLs, wallet, expiry, and
    (given the app's base URL) the status stream's URL."""
    data: dict[str, Any] = {
        "status": binding.status.value,
        "wallet": binding.wallet,
        "qrCodeValue": binding.qr_code_value,
        "qrCodeSvg": qr_svg(binding.qr_code_value),
        "expiresAt": binding.expires_at.isoformat(),
        "bindingId": binding.auth_state,
    }
    urls = {k: v for k, v in binding.auth_urls.items() if v}
    if urls:
        data["authUrls"] = urls
    if base_url is not None:
        data["statusUrl"] = status_url(base_url, binding)
    return data


@dataclass(frozen=True)
class BindingRequest:
    installation_id: int
    config: ChannelConfig
    purpose: BindingPurpose
    wallet: str
    user_id: str | None
    email: str | None
    transaction_id: str | None
    base_url: str


async def start_binding(
    deps: AntomDeps, request: BindingRequest, *, deadline: float
) -> BindingSession:
    """Ask Antom for a QR code (`consult`) and store the binding session."""
    config = request.config
    auth_state = new_auth_state()
    consult = ConsultRequest(
        customer_belongs_to=request.wallet,
        auth_redirect_url=request.base_url + "/bind/done",
        scopes=["AGREEMENT_PAY"],
        auth_state=auth_state,
        terminal_type="WEB",
        auth_notify_url=request.base_url + notification_path(config, "authorization"),
    )
    client = deps.antom.for_config(config)
    response = None
    for _ in range(2):  # U or no answer: resend the identical request (same authState)
        try:
            response = await client.consult(consult, deadline=deadline)
        except AntomUnavailable:
            continue
        if response.outcome in (Outcome.SUCCESS, Outcome.FAILURE, Outcome.RETRY_NEW_REQUEST):
            break
    if response is None or response.outcome is not Outcome.SUCCESS:
        code = response.result_code if response is not None else "UNKNOWN_EXCEPTION"
        raise PaymentError(code, shopper_message(code), merchant_message(code))
    model = response.model
    now = utcnow()
    assert config.id is not None
    binding = BindingSession(
        auth_state=auth_state,
        installation_id=request.installation_id,
        channel_config_id=config.id,
        channel_slug=config.channel_slug,
        purpose=request.purpose,
        saleor_user_id=request.user_id,
        customer_email=request.email,
        saleor_transaction_id=request.transaction_id,
        wallet=request.wallet,
        qr_code_value=_qr_value(model),
        auth_urls={
            "normalUrl": model.normal_url or "",
            "schemeUrl": model.scheme_url or "",
            "applinkUrl": model.applink_url or "",
        },
        expires_at=now + BINDING_LIFETIME,
        status=BindingStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    async with transaction(deps.sessions) as session:
        session.add(binding)
        await session.flush()
        HistoryRepository(session).add(
            installation_id=binding.installation_id,
            subject=HistorySubject.BINDING,
            subject_id=binding.id,
            reference=auth_state,
            status=BindingStatus.PENDING.value,
            detail=f"QR code for {binding.wallet}",
        )
    return binding


async def _set_binding(
    deps: AntomDeps, binding_id: int, expected: BindingStatus, **values: Any
) -> bool:
    """Compare-and-set on the binding's status; True for the one caller that moved it."""
    async with transaction(deps.sessions) as session:
        binding = await AgreementRepository(session).binding_by_id(binding_id)
        if binding is None or binding.status is not expected:
            return False
        for name, value in values.items():
            setattr(binding, name, value)
        binding.updated_at = utcnow()
        session.add(binding)
        HistoryRepository(session).add(
            installation_id=binding.installation_id,
            subject=HistorySubject.BINDING,
            subject_id=binding.id,
            reference=binding.auth_state,
            status=binding.status.value,
            detail=binding.failure_reason,
        )
    return True


async def handle_authorization(
    deps: AntomDeps,
    config: ChannelConfig,
    notification: NotifyAuthorization,
    *,
    deadline: float,
) -> BindingSession | None:
    """Act on a verified `notifyAuthorization`: exchange the auth code of a pending binding, or
    end the agreement the wallet unbound. Returns the binding an auth code was for (its payment,
    if any, is the caller's to complete). Raises PaymentError when the outcome is not durable
    yet (then the notification must not be acknowledged: Antom sends it again)."""
    kind = notification.authorization_notify_type
    if kind is AuthorizationNotifyType.TOKEN_CANCELED:
        if not notification.access_token:
            return None
        assert config.id is not None
        async with transaction(deps.sessions) as session:
            agreement = await AgreementRepository(session).agreement_by_token_sha256(
                config.id, token_sha256(notification.access_token)
            )
            if agreement is not None:
                await end_agreement(
                    session,
                    agreement.id,
                    AgreementStatus.INVALID,
                    "unbound in the wallet"
                    + (f": {notification.reason}" if notification.reason else ""),
                )
        return None
    if kind is not AuthorizationNotifyType.AUTHCODE_CREATED:
        log.info("authorization notification ignored", extra={"type": kind.value})
        return None
    async with deps.sessions() as session:
        binding = await AgreementRepository(session).binding(notification.auth_state or "")
    if binding is None or binding.channel_config_id != config.id:
        log.warning("authorization for an unknown binding session")
        return None
    if binding.status is BindingStatus.PENDING and notification.auth_code:
        assert binding.id is not None
        if await _set_binding(
            deps, binding.id, BindingStatus.PENDING, status=BindingStatus.AUTHORIZED
        ):
            await _exchange_code(deps, config, binding.id, notification.auth_code, deadline)
    return binding


async def _exchange_code(
    deps: AntomDeps, config: ChannelConfig, binding_id: int, auth_code: str, deadline: float
) -> None:
    async with deps.sessions() as session:
        binding = await AgreementRepository(session).binding_by_id(binding_id)
    assert binding is not None
    client = deps.antom.for_config(config)
    request = ApplyTokenRequest.with_auth_code(binding.wallet, auth_code)
    response = None
    for _ in range(3):  # U (AUTH_IN_PROCESS...) or no answer: the identical request again
        try:
            response = await client.apply_token(request, deadline=deadline)
        except AntomUnavailable:
            response = None
            continue
        if response.outcome is not Outcome.RETRY_SAME_REQUEST:
            break
    if response is None or response.outcome in (
        Outcome.RETRY_SAME_REQUEST,
        Outcome.UNKNOWN_INQUIRE,
    ):
        # Nothing durable: back to PENDING so that Antom's resend is processed again.
        await _set_binding(deps, binding_id, BindingStatus.AUTHORIZED, status=BindingStatus.PENDING)
        raise PaymentError(
            "TOKEN_EXCHANGE_UNKNOWN",
            "The wallet did not answer in time. Please try again.",
            "applyToken gave no final answer; the notification is left unacknowledged",
        )
    if response.outcome is not Outcome.SUCCESS:
        await _set_binding(
            deps,
            binding_id,
            BindingStatus.AUTHORIZED,
            status=BindingStatus.FAILED,
            failure_reason=response.result_code,
        )
        return
    async with transaction(deps.sessions) as session:
        row = await AgreementRepository(session).binding_by_id(binding_id)
        assert row is not None
        agreement = await create_agreement(
            session, binding=row, config=config, token=response.model, keys=deps.keys
        )
        row.status = BindingStatus.BOUND
        row.agreement_id = agreement.id
        row.updated_at = utcnow()
        session.add(row)
        HistoryRepository(session).add(
            installation_id=row.installation_id,
            subject=HistorySubject.BINDING,
            subject_id=row.id,
            reference=row.auth_state,
            status=BindingStatus.BOUND.value,
            detail=agreement.public_id,
        )


async def refresh_binding(
    deps: AntomDeps,
    binding: BindingSession,
    config: ChannelConfig,
    *,
    base_url: str,
    deadline: float,
) -> BindingSession:
    """A fresh QR code for an expired one, for the same shopper, wallet and purpose (a new
    `authState`: the old one is single-use)."""
    assert binding.id is not None
    await _set_binding(deps, binding.id, BindingStatus.PENDING, status=BindingStatus.EXPIRED)
    request = BindingRequest(
        installation_id=binding.installation_id,
        config=config,
        purpose=binding.purpose,
        wallet=binding.wallet,
        user_id=binding.saleor_user_id,
        email=binding.customer_email,
        transaction_id=binding.saleor_transaction_id,
        base_url=base_url,
    )
    return await start_binding(deps, request, deadline=deadline)
