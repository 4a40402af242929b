"""Agreements: the wallets shoppers bound, their Antom tokens (encrypted) and their lifecycle."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus, BindingSession
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import ApplyTokenResponse, RevokeRequest
from saleor_alipay_app.antom.results import Outcome
from saleor_alipay_app.antom.wallets import CAPABILITIES, Wallet
from saleor_alipay_app.channels.deps import AntomDeps
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository

log = logging.getLogger(__name__)

ACCESS_TOKEN_PURPOSE = "agreement.access_token"  # noqa: S105 - a label, not a secret
REFRESH_TOKEN_PURPOSE = "agreement.refresh_token"  # noqa: S105 - a label, not a secret
# Refresh when fewer than this remain before the access token expires (API.md §11).
REFRESH_MARGIN = timedelta(days=10)
STORED_METHOD_TYPE = "alipay_plus_agreement"


def token_sha256(access_token: str) -> str:
    return hashlib.sha256(access_token.encode("utf-8")).hexdigest()


def new_agreement_id() -> str:
    return "agr_" + secrets.token_urlsafe(16)


def wallet_name(wallet: str) -> str:
    try:
        return CAPABILITIES[Wallet(wallet)].display_name
    except ValueError:
        return wallet


def display_name(agreement: Agreement) -> str:
    login = agreement.user_login_id or "wallet"
    return f"{wallet_name(agreement.wallet)} {login}"


async def create_agreement(
    session: AsyncSession,
    *,
    binding: BindingSession,
    config: ChannelConfig,
    token: ApplyTokenResponse,
    keys: KeyRing,
) -> Agreement:
    access_token = token.access_token
    if not access_token:
        raise ValueError("applyToken answered SUCCESS without an access token")
    now = utcnow()
    assert config.id is not None
    digest = token_sha256(access_token)
    existing = await AgreementRepository(session).agreement_by_token_sha256(config.id, digest)
    if existing is not None:
        return existing
    agreement = Agreement(
        public_id=new_agreement_id(),
        installation_id=binding.installation_id,
        channel_config_id=config.id,
        channel_slug=binding.channel_slug,
        saleor_user_id=binding.saleor_user_id,
        customer_email=binding.customer_email,
        guest=binding.saleor_user_id is None,
        wallet=binding.wallet,
        access_token_encrypted=keys.encrypt(access_token, ACCESS_TOKEN_PURPOSE),
        access_token_sha256=digest,
        access_token_expires_at=token.access_token_expiry_time,
        refresh_token_encrypted=(
            keys.encrypt(token.refresh_token, REFRESH_TOKEN_PURPOSE)
            if token.refresh_token
            else None
        ),
        refresh_token_expires_at=token.refresh_token_expiry_time,
        user_login_id=token.user_login_id,
        status=AgreementStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(agreement)
    await session.flush()
    HistoryRepository(session).add(
        installation_id=agreement.installation_id,
        subject=HistorySubject.AGREEMENT,
        subject_id=agreement.id,
        reference=agreement.public_id,
        status=AgreementStatus.ACTIVE.value,
        detail=f"bound {agreement.wallet} {agreement.user_login_id or ''}".strip(),
    )
    return agreement


async def end_agreement(
    session: AsyncSession,
    agreement_id: int | None,
    status: AgreementStatus,
    reason: str,
) -> Agreement | None:
    """Mark an agreement ended (idempotent: an ended agreement keeps its first reason)."""
    if agreement_id is None:
        return None
    agreement = await AgreementRepository(session).agreement(agreement_id)
    if agreement is None or agreement.status is not AgreementStatus.ACTIVE:
        return agreement
    now = utcnow()
    agreement.status = status
    agreement.status_reason = reason[:256]
    agreement.ended_at = now
    agreement.updated_at = now
    session.add(agreement)
    HistoryRepository(session).add(
        installation_id=agreement.installation_id,
        subject=HistorySubject.AGREEMENT,
        subject_id=agreement.id,
        reference=agreement.public_id,
        status=status.value,
        detail=reason,
    )
    await session.flush()
    log.info("agreement ended", extra={"agreement": agreement.public_id, "status": status.value})
    return agreement


def usable(agreement: Agreement, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if agreement.status is not AgreementStatus.ACTIVE:
        return False
    expires = agreement.access_token_expires_at
    return expires is None or expires > now


async def revoke_at_antom(
    deps: AntomDeps, agreement: Agreement, reason: str, *, deadline: float
) -> bool:
    """Revoke at Antom first, then mark revoked. False when Antom gave no final answer."""
    async with deps.sessions() as session:
        config = await ChannelConfigRepository(session).config(agreement.channel_config_id)
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
        await end_agreement(session, agreement.id, AgreementStatus.REVOKED, reason)
    return True
