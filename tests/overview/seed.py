"""A known set of payments, refunds, reports, agreements and reconciliation days for the
Overview's tests (API and browser), written straight into the app's database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import select

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReportStatus,
    SaleorReport,
)
from saleor_alipay_app.reconciliation.models import DayStatus, ReconciliationDay

S, F, P = PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.PROCESSING
# (minutes ago, wallet, currency, amount, status, result code)
PAYMENTS: list[tuple[int, str, str, str, PaymentStatus, str | None]] = [
    (1, "ALIPAY_HK", "HKD", "100.00", S, "SUCCESS"),
    (2, "ALIPAY_HK", "HKD", "50.50", S, "SUCCESS"),
    (3, "ALIPAY_HK", "HKD", "20.00", S, "SUCCESS"),
    (4, "ALIPAY_HK", "HKD", "15.00", F, "USER_BALANCE_NOT_ENOUGH"),
    (60, "ALIPAY_HK", "HKD", "12.00", P, None),  # stuck: no outcome after an hour
    (2, "ALIPAY_HK", "HKD", "8.00", P, None),  # still young
    (1500, "DANA", "IDR", "10000", S, "SUCCESS"),
    (1501, "DANA", "IDR", "25000", S, "SUCCESS"),
    (1502, "DANA", "IDR", "5000", F, "USER_BALANCE_NOT_ENOUGH"),
    (1503, "DANA", "IDR", "6000", F, "USER_BALANCE_NOT_ENOUGH"),
    (1504, "DANA", "IDR", "7000", F, "USER_AMOUNT_EXCEED_LIMIT"),
    (40 * 1440, "ALIPAY_HK", "HKD", "999.00", S, "SUCCESS"),  # outside the 30 days
]
STUCK_PAYMENT = "ov-payment-4"
STUCK_REFUND = "ov-refund-2"
MISMATCHED_DAY_AGO = 2


@dataclass(frozen=True)
class Seeded:
    now: datetime
    mismatched_day: date


async def seed(
    sessions: async_sessionmaker[AsyncSession], installation_id: int | None = None
) -> Seeded:
    """The rows, in the installation of the channel configuration ``hk-web``."""
    now = utcnow()
    async with sessions() as session:
        query = select(ChannelConfig).where(ChannelConfig.channel_slug == "hk-web")
        if installation_id is not None:
            query = query.where(ChannelConfig.installation_id == installation_id)
        config = (await session.execute(query)).scalars().first()
        assert config is not None
        assert config.id is not None
        common: dict[str, Any] = {
            "installation_id": config.installation_id,
            "channel_config_id": config.id,
        }
        payments = []
        for n, (ago, wallet, currency, amount, status, code) in enumerate(PAYMENTS):
            at = now - timedelta(minutes=ago)
            payments.append(
                Payment(
                    **common,
                    channel_slug="hk-web",
                    saleor_transaction_id=f"ov-transaction-{n}",
                    attempt=1,
                    payment_request_id=f"ov-payment-{n}",
                    wallet=wallet,
                    currency=currency,
                    amount=Decimal(amount),
                    amount_minor=int(Decimal(amount) * 100),
                    status=status,
                    result_code=code,
                    created_at=at,
                    updated_at=at,
                )
            )
        session.add_all(payments)
        await session.flush()
        first = payments[0]
        assert first.id is not None
        for key, (ago, amount, status) in enumerate(
            [(1, "30.00", RefundStatus.SUCCEEDED), (60, "5.00", RefundStatus.PROCESSING)],
            start=1,
        ):
            at = now - timedelta(minutes=ago)
            session.add(
                Refund(
                    payment_id=first.id,
                    installation_id=config.installation_id,
                    saleor_request_key=f"ov-key-{key}",
                    refund_request_id=f"ov-refund-{key}",
                    currency="HKD",
                    amount=Decimal(amount),
                    amount_minor=int(Decimal(amount) * 100),
                    status=status,
                    created_at=at,
                    updated_at=at,
                )
            )
        for key, (ago, status) in enumerate(
            [(60, ReportStatus.PENDING), (60, ReportStatus.DONE)], start=1
        ):
            session.add(
                SaleorReport(
                    installation_id=config.installation_id,
                    report_key=f"ov-report-{key}",
                    saleor_transaction_id="ov-transaction-4",
                    event_type="CHARGE_SUCCESS",
                    psp_reference=STUCK_PAYMENT,
                    status=status,
                    attempts=3,
                    last_error="Saleor answered 503" if status is ReportStatus.PENDING else None,
                    created_at=now - timedelta(minutes=ago),
                )
            )
        for key, (status, ends_in) in enumerate(
            [
                (AgreementStatus.ACTIVE, timedelta(days=10)),  # expiring
                (AgreementStatus.ACTIVE, timedelta(days=200)),
                (AgreementStatus.REVOKED, timedelta(days=5)),  # ended: not "expiring"
            ]
        ):
            session.add(
                Agreement(
                    **common,
                    public_id=f"ov-agreement-{key}",
                    channel_slug="hk-web",
                    saleor_user_id=f"ov-user-{key}",
                    guest=False,
                    wallet="ALIPAY_HK",
                    access_token_encrypted="x",
                    access_token_sha256=f"{key:064d}",
                    access_token_expires_at=now + timedelta(days=1),
                    refresh_token_expires_at=now + ends_in,
                    status=status,
                )
            )
        mismatched = (now - timedelta(days=MISMATCHED_DAY_AGO)).date()
        session.add(
            ReconciliationDay(
                installation_id=config.installation_id,
                day=mismatched,
                status=DayStatus.MISMATCHED,
                matched=10,
                missing_here=1,
                mismatched=2,
            )
        )
        session.add(
            ReconciliationDay(
                installation_id=config.installation_id,
                day=mismatched - timedelta(days=1),
                status=DayStatus.MATCHED,
                matched=12,
            )
        )
        await session.commit()
    return Seeded(now=now, mismatched_day=mismatched)
