"""Reporting outcomes to Saleor with `transactionEventReport`, through an outbox.

A report is written in the same database transaction as the state change it reports, under a
unique key (transaction, event type, pspReference): it exists once, whatever retries happen. It
is then sent at once, and the sweeper resends whatever Saleor did not confirm. Each send is
claimed first (a conditional update of its lease, `sending_until`), so that concurrent
deliveries of one notification, or several processes, call Saleor once; the claim counts the
call (`attempts`), and an outcome is recorded once (a late one is dropped). Saleor itself
treats the same (transaction, pspReference, type, amount) as already processed, so a resend
after a lost answer is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.faults import crash_point
from saleor_alipay_app.history.models import HistorySubject
from saleor_alipay_app.history.repository import HistoryRepository
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.payments.models import ReportStatus, SaleorReport
from saleor_alipay_app.payments.repository import PaymentsRepository
from saleor_alipay_app.saleor.client import SaleorClient, SaleorError, SaleorUnavailable
from saleor_alipay_app.saleor.documents import required_saleor, saleor_minor

log = logging.getLogger(__name__)

REPORT_DOCUMENT = "mutations/transaction_event_report.graphql"
# The same with the payment method (`paymentMethodDetails`), for a Saleor that takes it.
REPORT_WITH_DETAILS_DOCUMENT = "mutations/transaction_event_report_details.graphql"
# Saleor's answers that will never change on a resend.
FINAL_ERROR_CODES = {"INCORRECT_DETAILS", "ALREADY_EXISTS", "NOT_FOUND", "INVALID", "REQUIRED"}
# A new report belongs to the caller that wrote it (it sends it at once, or delays it): the
# sweepers of every process leave it alone this long, and take over if it is still unconfirmed.
SEND_LEASE = timedelta(seconds=30)


def report_key(transaction_id: str, event_type: str, psp_reference: str) -> str:
    return f"{event_type}:{psp_reference}:{transaction_id}"[:255]


async def enqueue_report(
    repo: PaymentsRepository,
    *,
    installation_id: int,
    transaction_id: str,
    event_type: str,
    psp_reference: str,
    amount: Decimal | None,
    message: str | None = None,
    transaction_name: str | None = None,
    payment_method_name: str | None = None,
    available_actions: Sequence[str] | None = None,
    send_after: timedelta | None = None,
) -> str:
    """Record a report to send (idempotent); returns its key. The caller sends it at once
    with `send_keys` (the sweepers take over after `SEND_LEASE`), or leaves it to the sweepers
    after ``send_after``."""
    key = report_key(transaction_id, event_type, psp_reference)
    await repo.insert(
        SaleorReport(
            installation_id=installation_id,
            report_key=key,
            saleor_transaction_id=transaction_id,
            event_type=event_type,
            psp_reference=psp_reference,
            amount=amount,
            message=(message or None) and message[:512],
            transaction_name=(transaction_name or None) and transaction_name[:255],
            payment_method_name=(payment_method_name or None) and payment_method_name[:256],
            available_actions=list(available_actions) if available_actions is not None else None,
            status=ReportStatus.PENDING,
            next_attempt_at=utcnow() + (SEND_LEASE if send_after is None else send_after),
        )
    )
    return key


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** min(attempts, 10)))


class SaleorReporter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        saleor: SaleorClient,
        keys: KeyRing,
    ) -> None:
        self.sessions = sessions
        self.saleor = saleor
        self.keys = keys
        self._background: set[asyncio.Task[bool]] = set()

    def send_in_background(self, keys: Sequence[str]) -> None:
        """Send reports after the current answer has gone out (a webhook must not wait on
        Saleor). If this process dies first, a sweeper sends them once their lease ends."""
        task = asyncio.create_task(self.send_keys(list(keys)), name="saleor-report")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for background sends (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def send_keys(self, keys: Sequence[str]) -> bool:
        """Send the reports named by ``keys``; True when Saleor has all of them."""
        async with self.sessions() as session:
            reports = await PaymentsRepository(session).reports_by_keys(keys)
        done = True
        for report in reports:
            if report.status is ReportStatus.DONE:
                continue
            assert report.id is not None
            if not await self.send(report.id):
                done = False
        return done and len(reports) == len(set(keys))

    async def send(self, report_id: int) -> bool:
        """Send one report; True when Saleor confirmed it (now or before). A report is sent by
        one caller at a time (`PaymentsRepository.claim_report`): while another holds it, or
        after Saleor refused it for good, this returns False without calling Saleor."""
        now = utcnow()
        async with transaction(self.sessions) as session:
            repo = PaymentsRepository(session)
            report = await repo.report(report_id)
            if report is None:
                return False
            if report.status is ReportStatus.DONE:
                return True
            installation = await InstallationRepository(session).get(report.installation_id)
            if installation is None:
                # Nobody to ask: failed for good, without an attempt.
                await record_outcome(
                    session, report_id, ReportOutcome(ReportStatus.FAILED, "installation removed")
                )
                return False
            if not await repo.claim_report(report_id, now, now + SEND_LEASE):
                return False
        outcome = await self.post(report, installation)
        async with transaction(self.sessions) as session:
            await record_outcome(session, report_id, outcome)
        return outcome.status is ReportStatus.DONE

    async def _execute(
        self, installation: Installation, document: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.saleor.execute(
            installation.saleor_api_url,
            installation.app_token(self.keys),
            document,
            variables,
            # The name is a courtesy: Saleor refusing it never holds the outcome back.
            optional=frozenset({"transactionUpdate"}),
        )

    async def post(self, report: SaleorReport, installation: Installation | None) -> ReportOutcome:
        """Ask Saleor to record ``report`` (`transactionEventReport`); nothing is stored here."""
        if installation is None:
            return ReportOutcome(ReportStatus.FAILED, "installation removed")
        variables: dict[str, Any] = {
            "id": report.saleor_transaction_id,
            "pspReference": report.psp_reference,
            "type": report.event_type,
            "time": utcnow().isoformat(),
        }
        if report.amount is not None:
            variables["amount"] = report.amount
        if report.message:
            variables["message"] = report.message
        if report.available_actions is not None:
            variables["availableActions"] = report.available_actions
        if report.transaction_name:
            variables["named"] = True
            variables["transactionName"] = report.transaction_name
        document = REPORT_DOCUMENT
        details_from = required_saleor(REPORT_WITH_DETAILS_DOCUMENT)
        served = saleor_minor(installation.saleor_version)
        if report.payment_method_name and served and details_from and served >= details_from:
            document = REPORT_WITH_DETAILS_DOCUMENT
            variables["paymentMethodDetails"] = {"other": {"name": report.payment_method_name}}
        try:
            data = await self._execute(installation, document, variables)
        except SaleorUnavailable as exc:
            return ReportOutcome(ReportStatus.PENDING, f"Saleor unavailable: {exc}")
        except SaleorError as exc:
            if document == REPORT_DOCUMENT:
                return ReportOutcome(ReportStatus.PENDING, str(exc))
            # A Saleor that does not take the payment method after all (its version misread):
            # the outcome goes in the form every supported Saleor takes.
            log.warning(
                "Saleor refused the report with the payment method; sent without it",
                extra={"report": report.report_key, "saleor_version": installation.saleor_version},
            )
            variables.pop("paymentMethodDetails")
            try:
                data = await self._execute(installation, REPORT_DOCUMENT, variables)
            except SaleorError as again:
                return ReportOutcome(ReportStatus.PENDING, str(again))
        result = data.get("transactionEventReport") or {}
        errors = result.get("errors") or []
        named = data.get("transactionUpdate")
        if report.transaction_name and (not isinstance(named, dict) or named.get("errors")):
            # Only the transaction's name: the outcome itself stands on the report's own answer.
            log.warning(
                "Saleor did not take the transaction's name",
                extra={"report": report.report_key, "errors": str(named)[:300]},
            )
        if not errors:
            crash_point("report.confirmed")
            return ReportOutcome(ReportStatus.DONE, None)
        codes = {e.get("code") for e in errors if isinstance(e, dict)}
        detail = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
        if codes & FINAL_ERROR_CODES:
            log.error(
                "Saleor refused a transaction report",
                extra={"report": report.report_key, "codes": sorted(str(c) for c in codes)},
            )
            return ReportOutcome(ReportStatus.FAILED, detail)
        return ReportOutcome(ReportStatus.PENDING, detail)


@dataclass(frozen=True)
class ReportOutcome:
    """What Saleor made of a report: DONE, FAILED for good, or PENDING (try again later)."""

    status: ReportStatus
    error: str | None


async def record_outcome(session: AsyncSession, report_id: int, outcome: ReportOutcome) -> None:
    """Store what Saleor made of a report, in the caller's transaction. The attempt was counted
    when it was claimed (`PaymentsRepository.claim_report`); a report already DONE or FAILED
    stays as it is (a sender whose lease ran out while another finished records nothing, and
    the report's history keeps one entry for its outcome)."""
    report = await PaymentsRepository(session).report(report_id)
    if report is None or report.status is not ReportStatus.PENDING:
        return
    report.sending_until = None  # the sender's lease ends with its outcome
    if outcome.status is ReportStatus.PENDING:
        # Never given up: a payment Saleor has not heard of would be lost.
        report.last_error = (outcome.error or "")[:512]
        report.next_attempt_at = utcnow() + _backoff(report.attempts)
        session.add(report)
        return
    report.status = outcome.status
    report.last_error = outcome.error[:512] if outcome.error else None
    report.sent_at = utcnow() if outcome.status is ReportStatus.DONE else None
    session.add(report)
    HistoryRepository(session).add(
        installation_id=report.installation_id,
        subject=HistorySubject.REPORT,
        subject_id=report.id,
        reference=report.psp_reference,
        status=f"{report.event_type}:{outcome.status.value}",
        detail=outcome.error,
    )
