"""Matching Antom's report rows against our payments and refunds (API.md §13), and
reconciling a day.

- **Match** every transaction and settlement detail row by ``transactionRequestId``
  (= our paymentRequestId / refundRequestId): MATCHED, MISSING_HERE, or an AMOUNT, CURRENCY or
  STATUS mismatch; settlement-only rows (fees, reserves) are OTHER.
- **Reconcile the day**: rows not matched are matched again (our side may have moved on), our
  succeeded payments and refunds of the day (UTC+8) that no imported transaction details report
  lists become MISSING_AT_ANTOM rows, fees and net settlement are summed per currency, and each
  settlement summary row is checked against the detail rows of its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final, assert_never

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.payments.models import PaymentStatus, RefundStatus
from saleor_alipay_app.reconciliation.models import (
    DayStatus,
    MatchKind,
    ReconciliationDay,
    ReportKind,
)
from saleor_alipay_app.reconciliation.parser import ANTOM_TZ, SETTLEMENT_ONLY_TYPES
from saleor_alipay_app.reconciliation.repository import (
    CANCELLED_LATER,
    NO_PAYMENT,
    NO_REFUND,
    NOT_OURS,
    SETTLEMENT_ONLY,
    Ours,
    ReconciliationRepository,
)
from saleor_alipay_app.reconciliation.schemas import money

BATCH: Final = 2000  # rows per batch when matching again
IMPORT_BATCH: Final = 4000  # rows per batch staged and matched when importing

# -- matching one row -------------------------------------------------------------------------

COUNT_KEYS: Final = ("matched", "missingHere", "missingAtAntom", "mismatched", "other")


def count_key(kind: MatchKind) -> str:
    """Which of a day's counts a row of ``kind`` adds to."""
    match kind:
        case MatchKind.MATCHED:
            return "matched"
        case MatchKind.MISSING_HERE:
            return "missingHere"
        case MatchKind.MISSING_AT_ANTOM:
            return "missingAtAntom"
        case MatchKind.AMOUNT_MISMATCH | MatchKind.CURRENCY_MISMATCH | MatchKind.STATUS_MISMATCH:
            return "mismatched"
        case MatchKind.OTHER:
            return "other"
        case _:
            assert_never(kind)


def classify(
    transaction_type: str,
    amount_minor: int | None,
    currency: str | None,
    payment: Ours | None,
    refund: Ours | None,
) -> tuple[MatchKind, Ours | None, str | None]:
    """How one report row compares with ours: (kind, what we have, why). The import does the
    same in SQL (`repository.MATCH_SQL`); this one matches rows again when a day is reconciled.
    """
    match transaction_type:
        case "PAYMENT" | "CANCEL":
            ours, sign, missing = payment, 1 if transaction_type == "PAYMENT" else -1, NO_PAYMENT
        case "REFUND":
            ours, sign, missing = refund, -1, NO_REFUND
        case _ if transaction_type in SETTLEMENT_ONLY_TYPES:
            return MatchKind.OTHER, None, transaction_type + SETTLEMENT_ONLY
        case _:
            return MatchKind.MISSING_HERE, None, transaction_type + NOT_OURS
    if ours is None:
        return MatchKind.MISSING_HERE, None, missing
    if currency != ours.currency:
        return (
            MatchKind.CURRENCY_MISMATCH,
            ours,
            f"Antom {currency}, here {ours.currency}",
        )
    expected = sign * ours.amount_minor
    if amount_minor != expected:
        return MatchKind.AMOUNT_MISMATCH, ours, amount_detail(amount_minor, expected, currency)
    if transaction_type == "PAYMENT":
        if ours.status == PaymentStatus.CANCELLED.value:
            return MatchKind.MATCHED, ours, CANCELLED_LATER
        wanted = PaymentStatus.SUCCEEDED.value
    elif transaction_type == "CANCEL":
        wanted = PaymentStatus.CANCELLED.value
    else:
        wanted = RefundStatus.SUCCEEDED.value
    if ours.status != wanted:
        return (
            MatchKind.STATUS_MISMATCH,
            ours,
            f"Antom lists a successful {transaction_type.lower()}; here it is {ours.status}",
        )
    return MatchKind.MATCHED, ours, None


def amount_detail(amount_minor: int | None, expected: int | None, currency: str | None) -> str:
    """Why an AMOUNT_MISMATCH row does not match: both amounts, with the report's sign."""
    return f"Antom {money(amount_minor, currency)}, here {money(expected, currency)}"


def our_values(
    transaction_type: str, ours: Ours | None
) -> tuple[int | None, str | None, str | None]:
    """What a row matched here: (our amount with the report's sign, our currency, our status)."""
    if ours is None:
        return None, None, None
    sign = 1 if transaction_type == "PAYMENT" else -1
    return sign * ours.amount_minor, ours.currency, ours.status


async def match_batch(
    repo: ReconciliationRepository, installation_id: int, items: Sequence[tuple[str, str]]
) -> tuple[dict[str, Ours], dict[str, Ours]]:
    """Our payments and refunds named by a batch of (transactionType, requestId)."""
    payment_ids = [rid for kind, rid in items if kind in ("PAYMENT", "CANCEL") and rid]
    refund_ids = [rid for kind, rid in items if kind == "REFUND" and rid]
    payments = await repo.payments_by_request_id(installation_id, payment_ids)
    refunds = await repo.refunds_by_request_id(installation_id, refund_ids)
    return payments, refunds


# -- reconciling a day --------------------------------------------------------------------------


def day_window(day: date) -> tuple[datetime, datetime]:
    """Antom's day: 00:00 to 24:00 UTC+8."""
    start = datetime.combine(day, time(0), tzinfo=ANTOM_TZ)
    return start, start + timedelta(days=1)


async def _rematch(repo: ReconciliationRepository, installation_id: int, day_id: int) -> None:
    after = 0
    while True:
        rows = await repo.rows_to_rematch(day_id, after, BATCH)
        if not rows:
            return
        after = rows[-1].id
        payments, refunds = await match_batch(
            repo, installation_id, [(r.transaction_type, r.transaction_request_id) for r in rows]
        )
        for row in rows:
            request_id = row.transaction_request_id or ""
            found_kind, ours, detail = classify(
                row.transaction_type,
                row.amount_minor,
                row.currency,
                payments.get(request_id),
                refunds.get(request_id),
            )
            if found_kind.value != row.kind or ours is not None:
                our_amount, our_currency, our_status = our_values(row.transaction_type, ours)
                await repo.update_row(
                    row.id,
                    {
                        "kind": found_kind.value,
                        "detail": detail[:256] if detail else None,
                        "our_amount_minor": our_amount,
                        "our_currency": our_currency,
                        "our_status": our_status,
                    },
                )


def _summary_problems(
    summaries: Sequence[Any], totals: Sequence[Any]
) -> tuple[dict[str, list[str]], set[str]]:
    """Check each summary row against its batch's detail rows: problems per currency, and the
    currencies that have a summary at all."""
    by_batch: dict[str, list[Any]] = {}
    for total in totals:
        by_batch.setdefault(total.settlement_batch_id, []).append(total)
    problems: dict[str, list[str]] = {}
    summarised: set[str] = set()
    seen_batches: set[str] = set()
    for summary in summaries:
        currency = summary.settlement_currency
        summarised.add(currency)
        seen_batches.add(summary.settlement_batch_id)
        parts = by_batch.get(summary.settlement_batch_id, [])
        if summary.summary_type != "TOTAL":
            parts = [p for p in parts if p.transaction_type == summary.summary_type]
        count = sum(p.count for p in parts)
        settled = sum(p.settlement_minor for p in parts)
        fees = sum(p.fee_minor for p in parts)
        where = f"batch {summary.settlement_batch_id} {summary.summary_type} (line {summary.line})"
        found = problems.setdefault(currency, [])
        if count != summary.count:
            found.append(f"{where}: count {summary.count}, detail rows {count}")
        if settled != summary.settlement_amount_minor:
            found.append(
                f"{where}: settlement {money(summary.settlement_amount_minor, currency)}, "
                f"detail rows {money(settled, currency)}"
            )
        if summary.fee_minor is not None and fees != summary.fee_minor:
            fee_currency = summary.fee_currency or currency
            found.append(
                f"{where}: fees {money(summary.fee_minor, fee_currency)}, "
                f"detail rows {money(fees, fee_currency)}"
            )
    for batch, parts in by_batch.items():
        if batch not in seen_batches:
            for currency in sorted({c for p in parts for c in p.currencies}):
                problems.setdefault(currency, []).append(
                    f"batch {batch}: no settlement summary imported"
                )
    return problems, summarised


def _currencies(
    settlement_totals: Sequence[tuple[str, str | None, int, int]],
    problems: dict[str, list[str]],
    summarised: set[str],
) -> list[dict[str, Any]]:
    """Gross, fees and net per currency, and whether its settlement summaries check."""
    totals: dict[str, dict[str, int]] = {}
    for settlement_currency, fee_currency, settled, fees in settlement_totals:
        entry = totals.setdefault(settlement_currency, {"net": 0, "fees": 0})
        entry["net"] += settled
        if fee_currency is None or fee_currency == settlement_currency:
            entry["fees"] += fees
        else:
            totals.setdefault(fee_currency, {"net": 0, "fees": 0})["fees"] += fees
    currencies = []
    for currency in sorted(set(totals) | summarised):
        entry = totals.get(currency, {"net": 0, "fees": 0})
        issues = list(problems.get(currency, []))
        if currency not in summarised:
            issues.append("no settlement summary imported")
        currencies.append(
            {
                "currency": currency,
                "gross": money(entry["net"] + entry["fees"], currency),
                "fees": money(entry["fees"], currency),
                "net": money(entry["net"], currency),
                "summaryChecked": not issues,
                "problems": issues,
            }
        )
    return currencies


async def reconcile_day(
    sessions: async_sessionmaker[AsyncSession], installation_id: int, day: date
) -> ReconciliationDay:
    """Match the day's imported rows again, find what Antom lacks, total and check; store."""
    start, end = day_window(day)
    async with transaction(sessions) as session:
        repo = ReconciliationRepository(session)
        record = await repo.day_or_new(installation_id, day)
        assert record.id is not None
        await _rematch(repo, installation_id, record.id)
        await repo.replace_missing_at_antom(installation_id, record.id, start, end)

        # Settlement detail rows exist only with a settlement details file: without one, the
        # totals are not looked for among (possibly a million) transaction detail rows.
        settled = await repo.has_rows_of(record.id, ReportKind.SETTLEMENT_ITEMS)
        settlement_totals = await repo.settlement_totals(record.id) if settled else []
        batch_totals = await repo.batch_totals(record.id) if settled else []
        summaries = await repo.summaries(record.id)
        problems, summarised = _summary_problems(summaries, batch_totals)
        currencies = _currencies(settlement_totals, problems, summarised)
        counts = dict.fromkeys(COUNT_KEYS, 0)
        for kind, count in (await repo.counts(record.id)).items():
            counts[count_key(kind)] += count
        record.matched = counts["matched"]
        record.missing_here = counts["missingHere"]
        record.missing_at_antom = counts["missingAtAntom"]
        record.mismatched = counts["mismatched"]
        record.other = counts["other"]
        record.currencies = currencies
        record.has_transaction_report = await repo.has_rows_of(
            record.id, ReportKind.TRANSACTION_ITEMS
        )
        clean = (
            record.missing_here == 0
            and record.missing_at_antom == 0
            and record.mismatched == 0
            and all(c["summaryChecked"] for c in currencies)
        )
        record.status = DayStatus.MATCHED if clean else DayStatus.MISMATCHED
        record.reconciled_at = utcnow()
        session.add(record)
    return record
