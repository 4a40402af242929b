"""The sweeper: follows every outcome nobody is waiting for.

Each round it inquires payments and refunds whose outcome is unknown (with backoff), cancels
payments past their deadline, resends reports Saleor has not confirmed, refreshes tokens close
to expiry and revokes guests' agreements once their payment is final. Work is claimed in short
transactions (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and leased by moving its due time, and on
PostgreSQL a round runs under an advisory lock, so that of the app processes sharing a database
(`serve --workers N`, replicas) one sweeps at a time: a refresh token is used once, a guest's
agreement revoked once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from saleor_alipay_app import metrics
from saleor_alipay_app.agreements.binding import BINDING_LIFETIME
from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import (
    ACCESS_TOKEN_PURPOSE,
    REFRESH_MARGIN,
    REFRESH_TOKEN_PURPOSE,
    end_agreement,
    revoke_at_antom,
    token_sha256,
)
from saleor_alipay_app.antom.client import AntomUnavailable
from saleor_alipay_app.antom.models import ApplyTokenRequest
from saleor_alipay_app.antom.results import Outcome
from saleor_alipay_app.channels.repository import ChannelConfigRepository
from saleor_alipay_app.db import exclusive, transaction, utcnow
from saleor_alipay_app.http import deadline_in
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from saleor_alipay_app.payments.refunds import inquire_refund
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.payments.service import INQUIRY_BACKOFF, cancel_at_antom, inquire_once

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 50
CALL_BUDGET = 10.0
# The PostgreSQL advisory lock a sweeper round holds (any fixed 64-bit number, unique to us).
SWEEPER_LOCK = 0x5A1E_0A11_5EE9


def _backoff(count: int) -> timedelta:
    return timedelta(seconds=INQUIRY_BACKOFF[min(count, len(INQUIRY_BACKOFF) - 1)])


class Sweeper:
    def __init__(self, deps: PaymentDeps, *, interval: float) -> None:
        self.deps = deps
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                async with exclusive(self.deps.sessions, SWEEPER_LOCK) as ours:
                    if ours:
                        with metrics.sweeper_round():  # runs, failures, time
                            await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweep round failed")
            await asyncio.sleep(self.interval)

    async def sweep_once(self) -> None:
        await self.payments()
        await self.refunds()
        await self.reports()
        await self.guest_agreements()
        await self.refresh_tokens()

    async def payments(self) -> None:
        now = utcnow()
        async with transaction(self.deps.sessions) as session:
            ids = await PaymentsRepository(session).claim_due_payments(now, now + LEASE, BATCH)
        for payment_id in ids:
            payment = await inquire_once(
                self.deps, payment_id, deadline=deadline_in(CALL_BUDGET), report_now=True
            )
            if payment.status is not PaymentStatus.PROCESSING:
                continue
            if payment.deadline_at is not None and payment.deadline_at <= utcnow():
                log.warning(
                    "payment past its deadline without a final state: cancelling",
                    extra={"payment": payment.payment_request_id},
                )
                payment = await cancel_at_antom(
                    self.deps, payment_id, deadline=deadline_in(CALL_BUDGET), report_now=True
                )
                if payment.status is not PaymentStatus.PROCESSING:
                    continue
            async with transaction(self.deps.sessions) as session:
                await PaymentsRepository(session).postpone_inquiry(Payment, payment_id, _backoff)

    async def refunds(self) -> None:
        now = utcnow()
        async with transaction(self.deps.sessions) as session:
            ids = await PaymentsRepository(session).claim_due_refunds(now, now + LEASE, BATCH)
        for refund_id in ids:
            refund = await inquire_refund(self.deps, refund_id, deadline=deadline_in(CALL_BUDGET))
            if refund.status is not RefundStatus.PROCESSING:
                continue
            async with transaction(self.deps.sessions) as session:
                await PaymentsRepository(session).postpone_inquiry(Refund, refund_id, _backoff)

    async def reports(self) -> None:
        now = utcnow()
        async with transaction(self.deps.sessions) as session:
            ids = await PaymentsRepository(session).claim_due_reports(now, now + LEASE, BATCH)
        for report_id in ids:
            await self.deps.reporter.send(report_id)

    async def guest_agreements(self) -> None:
        """A guest's agreement serves one checkout: revoke it once no payment is in flight on it
        and its payment is final (or none ever used it and its QR code has long expired)."""
        async with self.deps.sessions() as session:
            agreements = await PaymentsRepository(session).finished_guest_agreements(
                utcnow() - BINDING_LIFETIME, BATCH
            )
        for agreement in agreements:
            await revoke_at_antom(
                self.deps, agreement, "guest checkout finished", deadline=deadline_in(CALL_BUDGET)
            )

    async def refresh_tokens(self) -> None:
        """Refresh access tokens close to expiry, keeping the newest refresh token."""
        async with self.deps.sessions() as session:
            agreements = await AgreementRepository(session).agreements_to_refresh(
                utcnow() + REFRESH_MARGIN, BATCH
            )
        for agreement in agreements:
            await self.refresh(agreement)

    async def refresh(self, agreement: Agreement) -> None:
        assert agreement.id is not None
        if agreement.refresh_token_encrypted is None:
            return
        if (
            agreement.refresh_token_expires_at is not None
            and agreement.refresh_token_expires_at <= utcnow()
        ):
            async with transaction(self.deps.sessions) as session:
                await end_agreement(
                    session,
                    agreement.id,
                    AgreementStatus.EXPIRED,
                    "refresh token expired",
                )
            return
        async with self.deps.sessions() as session:
            config = await ChannelConfigRepository(session).config(agreement.channel_config_id)
        assert config is not None
        refresh_token = self.deps.keys.decrypt(
            agreement.refresh_token_encrypted, REFRESH_TOKEN_PURPOSE
        )
        client = self.deps.antom.for_config(config)
        try:
            response = await client.apply_token(
                ApplyTokenRequest.with_refresh_token(agreement.wallet, refresh_token),
                deadline=deadline_in(CALL_BUDGET),
            )
        except AntomUnavailable:
            return
        if response.outcome is Outcome.FAILURE:
            async with transaction(self.deps.sessions) as session:
                await end_agreement(
                    session,
                    agreement.id,
                    AgreementStatus.EXPIRED,
                    f"token refresh refused: {response.result_code}",
                )
            return
        token = response.model
        if response.outcome is not Outcome.SUCCESS or not token.access_token:
            return
        async with transaction(self.deps.sessions) as session:
            row = await AgreementRepository(session).agreement(agreement.id)
            if row is None or row.status is not AgreementStatus.ACTIVE:
                return
            row.access_token_encrypted = self.deps.keys.encrypt(
                token.access_token, ACCESS_TOKEN_PURPOSE
            )
            row.access_token_sha256 = token_sha256(token.access_token)
            row.access_token_expires_at = token.access_token_expiry_time
            if token.refresh_token:  # always keep the newest refresh token
                row.refresh_token_encrypted = self.deps.keys.encrypt(
                    token.refresh_token, REFRESH_TOKEN_PURPOSE
                )
                row.refresh_token_expires_at = token.refresh_token_expiry_time
            row.updated_at = utcnow()
            session.add(row)
        log.info("agreement token refreshed", extra={"agreement": agreement.public_id})
