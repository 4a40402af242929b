"""What people ask for and see of reconciliation: the ``kind=`` filter of the admin API and the
CLI, amounts as decimal strings, and a day, its files and its rows as JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from saleor_alipay_app.antom.money import CURRENCIES
from saleor_alipay_app.reconciliation.models import (
    MISMATCH_KINDS,
    MatchKind,
    ReconciliationDay,
    ReconciliationFile,
    ReconciliationRow,
)


@dataclass(frozen=True)
class DayDetail:
    """A reconciled day with its files and one page of its rows (``total`` rows in all)."""

    record: ReconciliationDay
    files: list[ReconciliationFile]
    rows: list[ReconciliationRow]
    total: int


def parse_kinds(text: str | None) -> list[MatchKind] | None:
    """``kind=`` of the admin API and CLI: one or more kinds, comma-separated; ``MISMATCHED``
    stands for the three mismatch kinds. ValueError for an unknown name."""
    if not text:
        return None
    kinds: list[MatchKind] = []
    for part in text.split(","):
        name = part.strip().upper()
        if not name:
            continue
        if name == "MISMATCHED":
            kinds.extend(sorted(MISMATCH_KINDS))
            continue
        kinds.append(MatchKind(name))
    return kinds or None


def money(minor: int | None, currency: str | None) -> str | None:
    """Minor units → a decimal string in the currency's digits (sign kept)."""
    if minor is None or currency is None:
        return None
    digits = CURRENCIES.get(currency, 2)
    if not digits:
        return str(minor)
    step = Decimal(1).scaleb(-digits)
    return format(Decimal(minor).scaleb(-digits).quantize(step), "f")


def counts_of(record: ReconciliationDay) -> dict[str, int]:
    return {
        "matched": record.matched,
        "missingHere": record.missing_here,
        "missingAtAntom": record.missing_at_antom,
        "mismatched": record.mismatched,
        "other": record.other,
    }


def describe_day(record: ReconciliationDay) -> dict[str, Any]:
    return {
        "date": record.day.isoformat(),
        "status": record.status.value,
        "counts": counts_of(record),
        "importedAt": record.imported_at.isoformat(),
        "reconciledAt": record.reconciled_at.isoformat() if record.reconciled_at else None,
        "hasTransactionReport": record.has_transaction_report,
    }


def describe_row(row: ReconciliationRow) -> dict[str, Any]:
    currency = row.currency or row.our_currency
    return {
        "kind": row.kind.value,
        "source": row.source.value if row.source else None,
        "line": row.line,
        "transactionId": row.transaction_id,
        "transactionRequestId": row.transaction_request_id,
        "transactionType": row.transaction_type,
        "amount": money(row.amount_minor, row.currency),
        "currency": currency,
        "ourAmount": money(row.our_amount_minor, row.our_currency),
        "ourCurrency": row.our_currency,
        "ourStatus": row.our_status,
        "detail": row.detail,
    }


def describe_file(file: ReconciliationFile) -> dict[str, Any]:
    return {
        "name": file.name,
        "kind": file.kind.value,
        "rows": file.rows,
        "importedAt": file.imported_at.isoformat(),
    }


def describe_day_detail(detail: DayDetail) -> dict[str, Any]:
    """A day as the admin API and the CLI show it: counts, currencies, files and rows."""
    item = describe_day(detail.record)
    item["currencies"] = detail.record.currencies
    item["files"] = [describe_file(f) for f in detail.files]
    item["rows"] = [describe_row(r) for r in detail.rows]
    item["total"] = detail.total
    return item
