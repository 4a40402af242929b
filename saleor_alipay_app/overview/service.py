"""The Overview: what happened lately and what needs someone, for one installation.

`gather` reads everything in one session through the domains' repositories (payments, refunds
and reports; agreements; reconciliation days): five aggregate queries over indexes made for them
(migration 0007) and four short lists. `overview` adds the charts (`charts.py`) and the words of
the chosen language for them. Days are UTC days; the window is the last ``days`` days, today
included. Speed: `bench/overview.py` (bench/README.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.agreements.models import AgreementStatus
from saleor_alipay_app.agreements.repository import AgreementRepository
from saleor_alipay_app.agreements.service import wallet_name
from saleor_alipay_app.antom.results import merchant_message, shopper_message
from saleor_alipay_app.db import iso_time, utcnow
from saleor_alipay_app.overview import charts
from saleor_alipay_app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    SaleorReport,
)
from saleor_alipay_app.payments.repository import PaymentGroup, PaymentsRepository, RefundGroup
from saleor_alipay_app.payments.schemas import money_text
from saleor_alipay_app.reconciliation.models import ReconciliationDay
from saleor_alipay_app.reconciliation.repository import ReconciliationRepository

Language = Literal["en", "zh"]

# A payment, refund or report without an outcome this long after it began needs someone: the
# sweeper inquires and resends within minutes.
STUCK_AFTER = timedelta(minutes=15)
# An active agreement whose tokens end within this long is "expiring".
EXPIRING_WITHIN = timedelta(days=30)
ATTENTION_LIMIT = 20
TOP_FAILURES = 5
CHARTED_CURRENCIES = 4

WORDS: dict[Language, dict[str, str]] = {
    "en": {
        "succeeded": "Succeeded",
        "failed": "Failed",
        "other": "Cancelled or open",
        "payments": "Payments per day",
        "amounts": "Succeeded amount per day, {currency}",
        "rates": "Success rate per wallet",
    },
    "zh": {
        "succeeded": "成功",
        "failed": "失败",
        "other": "已取消或处理中",
        "payments": "每日支付笔数",
        "amounts": "每日成功金额（{currency}）",
        "rates": "各钱包成功率",
    },
}


@dataclass(frozen=True)
class Gathered:
    """What the queries answered, before it is shaped for the page."""

    since: datetime
    now: datetime
    payments: list[PaymentGroup]
    refunds: list[RefundGroup]
    agreements: dict[AgreementStatus, int]
    expiring: int
    stuck_payments: tuple[list[Payment], int]
    stuck_refunds: tuple[list[tuple[Refund, str]], int]
    reports: tuple[list[tuple[SaleorReport, str | None]], int]
    mismatched_days: tuple[list[ReconciliationDay], int]


def window_start(now: datetime, days: int) -> datetime:
    """Midnight UTC ``days - 1`` days before today: the last ``days`` days, today included."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


async def gather_in(
    session: AsyncSession, installation_id: int, days: int, now: datetime
) -> Gathered:
    since = window_start(now, days)
    stuck_before = now - STUCK_AFTER
    payments = PaymentsRepository(session)
    agreements, expiring = await AgreementRepository(session).status_counts(
        installation_id, now + EXPIRING_WITHIN
    )
    return Gathered(
        since=since,
        now=now,
        payments=await payments.payment_groups(installation_id, since),
        refunds=await payments.refund_groups(installation_id, since),
        agreements=agreements,
        expiring=expiring,
        stuck_payments=await payments.stuck_payments(
            installation_id, stuck_before, ATTENTION_LIMIT
        ),
        stuck_refunds=await payments.stuck_refunds(installation_id, stuck_before, ATTENTION_LIMIT),
        reports=await payments.unconfirmed_reports(
            installation_id, stuck_before, since, ATTENTION_LIMIT
        ),
        mismatched_days=await ReconciliationRepository(session).mismatched_days(
            installation_id, ATTENTION_LIMIT
        ),
    )


async def gather(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    days: int,
    now: datetime | None = None,
) -> Gathered:
    async with sessions() as session:
        return await gather_in(session, installation_id, days, now or utcnow())


# -- shaping --------------------------------------------------------------------------------


def _day_list(since: datetime, now: datetime) -> list[str]:
    first: date = since.date()
    count = (now.date() - first).days + 1
    return [(first + timedelta(days=i)).isoformat() for i in range(count)]


def _rate(succeeded: int, failed: int) -> float | None:
    decided = succeeded + failed
    return round(100 * succeeded / decided, 1) if decided else None


def _tally(row: dict[str, Any], g: PaymentGroup) -> None:
    row["count"] += g.count
    if g.status is PaymentStatus.SUCCEEDED:
        row["succeeded"] += g.count
        row["amount"] += g.amount
    elif g.status is PaymentStatus.FAILED:
        row["failed"] += g.count


def _empty_tally() -> dict[str, Any]:
    return {"count": 0, "succeeded": 0, "failed": 0, "amount": Decimal(0)}


def _payments(groups: list[PaymentGroup], day_list: list[str]) -> dict[str, Any]:
    per_day: dict[tuple[str, str], dict[str, Any]] = defaultdict(_empty_tally)
    totals: dict[str, dict[str, Any]] = defaultdict(_empty_tally)
    for g in groups:
        _tally(per_day[g.day, g.currency], g)
        _tally(totals[g.currency], g)
    days = [
        {"day": day, "currency": currency} | row | {"amount": money_text(row["amount"], currency)}
        for (day, currency), row in sorted(per_day.items())
        if day in day_list
    ]
    currencies = [
        {"currency": currency} | row | {"amount": money_text(row["amount"], currency)}
        for currency, row in sorted(totals.items(), key=lambda kv: (-kv[1]["count"], kv[0]))
    ]
    return {"perDay": days, "currencies": currencies}


def _wallets(groups: list[PaymentGroup]) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g in groups:
        counts[g.wallet]["total"] += g.count
        counts[g.wallet][g.status.value] += g.count
    items = []
    for wallet, c in sorted(counts.items(), key=lambda kv: -kv[1]["total"]):
        succeeded, failed = c[PaymentStatus.SUCCEEDED.value], c[PaymentStatus.FAILED.value]
        items.append(
            {
                "wallet": wallet,
                "walletName": wallet_name(wallet),
                "total": c["total"],
                "succeeded": succeeded,
                "failed": failed,
                "successRate": _rate(succeeded, failed),
            }
        )
    return items


def _failures(groups: list[PaymentGroup]) -> list[dict[str, Any]]:
    counts: dict[str, int] = defaultdict(int)
    for g in groups:
        if g.status is PaymentStatus.FAILED:
            counts[g.result_code or "UNKNOWN"] += g.count
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FAILURES]
    return [
        {
            "code": code,
            "count": n,
            "shopperMessage": shopper_message(code),
            "merchantMessage": merchant_message(code),
        }
        for code, n in top
    ]


def _refunds(groups: list[RefundGroup]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for g in groups:
        row = rows.setdefault(
            g.currency,
            {"currency": g.currency, "count": 0, "amount": Decimal(0)}
            | {s.value.lower(): 0 for s in RefundStatus},
        )
        row["count"] += g.count
        row[g.status.value.lower()] += g.count
        if g.status is RefundStatus.SUCCEEDED:
            row["amount"] += g.amount
    return [
        row | {"amount": money_text(row["amount"], row["currency"])}
        for row in sorted(rows.values(), key=lambda r: -int(r["count"]))
    ]


def _attention(found: Gathered) -> dict[str, Any]:
    payments, payments_total = found.stuck_payments
    refunds, refunds_total = found.stuck_refunds
    reports, reports_total = found.reports
    days, days_total = found.mismatched_days
    return {
        "payments": {
            "total": payments_total,
            "items": [
                {
                    "paymentRequestId": p.payment_request_id,
                    "status": p.status.value,
                    "wallet": wallet_name(p.wallet),
                    "amount": money_text(p.amount, p.currency),
                    "currency": p.currency,
                    "createdAt": iso_time(p.created_at),
                    "inquiries": p.inquiry_count,
                }
                for p in payments
            ],
        },
        "refunds": {
            "total": refunds_total,
            "items": [
                {
                    "refundRequestId": r.refund_request_id,
                    "paymentRequestId": prid,
                    "status": r.status.value,
                    "amount": money_text(r.amount, r.currency),
                    "currency": r.currency,
                    "createdAt": iso_time(r.created_at),
                    "inquiries": r.inquiry_count,
                }
                for r, prid in refunds
            ],
        },
        "reports": {
            "total": reports_total,
            "items": [
                {
                    "eventType": r.event_type,
                    "pspReference": r.psp_reference,
                    "paymentRequestId": prid,
                    "status": r.status.value,
                    "attempts": r.attempts,
                    "lastError": r.last_error,
                    "createdAt": iso_time(r.created_at),
                }
                for r, prid in reports
            ],
        },
        "reconciliation": {
            "total": days_total,
            "items": [
                {
                    "date": d.day.isoformat(),
                    "missingHere": d.missing_here,
                    "missingAtAntom": d.missing_at_antom,
                    "mismatched": d.mismatched,
                }
                for d in days
            ],
        },
    }


def _charts(
    data: dict[str, Any], groups: list[PaymentGroup], day_list: list[str], lang: Language
) -> dict[str, Any]:
    words = WORDS[lang]
    index = {day: i for i, day in enumerate(day_list)}
    outcome: dict[str, list[int]] = {
        words["succeeded"]: [0] * len(day_list),
        words["failed"]: [0] * len(day_list),
        words["other"]: [0] * len(day_list),
    }
    for g in groups:
        at = index.get(g.day)
        if at is None:
            continue
        if g.status is PaymentStatus.SUCCEEDED:
            outcome[words["succeeded"]][at] += g.count
        elif g.status is PaymentStatus.FAILED:
            outcome[words["failed"]][at] += g.count
        else:
            outcome[words["other"]][at] += g.count
    amounts = []
    for row in data["payments"]["currencies"][:CHARTED_CURRENCIES]:
        currency = row["currency"]
        per_day = [0.0] * len(day_list)
        for d in data["payments"]["perDay"]:
            if d["currency"] == currency:
                per_day[index[d["day"]]] = float(Decimal(d["amount"]))
        label = words["amounts"].format(currency=currency)
        amounts.append(
            {
                "currency": currency,
                "title": label,
                "svg": charts.amount_per_day(day_list, per_day, currency, label),
            }
        )
    rated = [w for w in data["wallets"] if w["successRate"] is not None]
    return {
        "payments": {
            "title": words["payments"],
            "svg": charts.payments_per_day(day_list, outcome, words["payments"]),
        },
        "amounts": amounts,
        "wallets": {
            "title": words["rates"],
            "svg": charts.success_rates(
                [w["walletName"] for w in rated],
                [w["successRate"] for w in rated],
                words["rates"],
            )
            if rated
            else None,
        },
    }


def shape(
    found: Gathered, days: int, lang: Language, *, with_charts: bool = True
) -> dict[str, Any]:
    day_list = _day_list(found.since, found.now)
    data: dict[str, Any] = {
        "days": days,
        "since": iso_time(found.since),
        "generatedAt": iso_time(found.now),
        "payments": _payments(found.payments, day_list),
        "wallets": _wallets(found.payments),
        "failures": _failures(found.payments),
        "agreements": {
            "active": found.agreements.get(AgreementStatus.ACTIVE, 0),
            "revoked": found.agreements.get(AgreementStatus.REVOKED, 0),
            "invalid": found.agreements.get(AgreementStatus.INVALID, 0),
            "expired": found.agreements.get(AgreementStatus.EXPIRED, 0),
            "expiring": found.expiring,
            "expiringWithinDays": EXPIRING_WITHIN.days,
        },
        "refunds": _refunds(found.refunds),
        "attention": _attention(found),
        "stuckAfterMinutes": int(STUCK_AFTER.total_seconds() // 60),
    }
    if with_charts:
        data["charts"] = _charts(data, found.payments, day_list, lang)
    return data


async def overview(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    *,
    days: int = 30,
    lang: Language = "en",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The Overview page's data: aggregates, the attention lists and the charts (SVG text)."""
    found = await gather(sessions, installation_id, days, now)
    return shape(found, days, lang)
