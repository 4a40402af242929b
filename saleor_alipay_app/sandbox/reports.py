"""Antom's reconciliation reports (API.md §13), generated from the sandbox's own state.

- transactionItems for day T: every successful payment, refund and cancellation (a reversal of
  a paid payment) whose time falls on T in UTC+8.
- settlementItems / settlementSummary for settlement day S: the transactions of day
  S − ``settlement_delay_days``, one batch per merchant and settlement currency.

CSV with a header row of Antom's column names, data rows, and a last line ``<END>``. Amounts
are in major units with the currency's digits (``123.45``; KRW ``18000``); refunds and
cancellations are negative. The sandbox charges a fixed fee of 10 minor units of the settlement
currency on each payment and refund (none on cancellations); ``feeAmountValue`` is that fee as
a positive number and ``settlementAmountValue`` = transaction amount in the settlement currency
− fee.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from saleor_alipay_app.antom.models import PaymentStatus, RefundStatus
from saleor_alipay_app.antom.money import Amount, minor_digits

from . import fx
from .clock import ANTOM_TZ, fmt_time
from .models import Payment
from .store import Store

__all__ = [
    "SANDBOX_FEE_MINOR_UNITS",
    "SETTLEMENT_ITEM_COLUMNS",
    "SETTLEMENT_SUMMARY_COLUMNS",
    "TRANSACTION_ITEM_COLUMNS",
    "ReportFile",
    "ReportKind",
    "parse_report_date",
    "report_csv",
    "report_files",
]

SANDBOX_FEE_MINOR_UNITS: Final = 10
ACQUIRER: Final = "ALIPAY"
PRODUCT_CODE: Final = "AGREEMENT_PAYMENT"
END_MARKER: Final = "<END>"

TRANSACTION_ITEM_COLUMNS: Final = (
    "customerId", "acquirer", "acquirerReferenceNo", "referenceMerchantId", "referenceStoreId",
    "transactionId", "originalTransactionId", "transactionRequestId", "referenceTransactionId",
    "orderDescription", "paymentMethodType", "pspName", "transactionType", "paymentTime",
    "productCode", "transactionAmountValue", "transactionCurrency",
    "originalTransactionRequestId", "installmentsNum", "issuingCountry", "cardBrand", "funding",
)  # fmt: skip

SETTLEMENT_ITEM_COLUMNS: Final = (
    "settlementBatchId", "customerId", "acquirer", "acquirerReferenceNo", "referenceMerchantId",
    "referenceStoreId", "transactionId", "originalTransactionId", "transactionRequestId",
    "referenceTransactionId", "paymentMethodType", "pspName", "transactionType", "paymentTime",
    "settlementTime", "productCode", "transactionAmountValue", "transactionCurrency",
    "settlementAmountValue", "settlementCurrency", "quoteCurrencyPair", "quotePrice",
    "feeAmountValue", "feeCurrency", "taxFeeAmountValue", "taxFeeCurrency",
    "processingFeeAmountValue", "processingFeeCurrency", "nonGuaranteeCouponValue",
    "nonGuaranteeCouponCurrency", "disputeHandlingFee", "disputeHandlingFeeCurrency",
    "disputeReverseFee", "disputeReverseFeeCurrency", "originalTransactionRequestId",
    "installmentsNum", "issuingCountry", "cardBrand", "funding", "interchangeFeeAmountValue",
    "interchangeFeeCurrency", "schemeFeeAmountValue", "schemeFeeCurrency",
    "acquirerMarkupAmountValue", "acquirerMarkupCurrency", "refundFeeAmountValue",
    "refundFeeCurrency", "region",
)  # fmt: skip

SETTLEMENT_SUMMARY_COLUMNS: Final = (
    "settlementBatchId", "customerId", "acquirer", "summaryType", "settlementTime", "count",
    "settlementAmountValue", "settlementCurrency", "feeAmountValue", "feeCurrency",
    "taxFeeAmountValue", "taxFeeCurrency", "processingFeeAmountValue", "processingFeeCurrency",
    "nonGuaranteeCouponValue", "nonGuaranteeCouponCurrency", "disputeHandlingFee",
    "disputeHandlingFeeCurrency", "disputeReverseFee", "disputeReverseFeeCurrency",
    "interchangeFeeAmountValue", "interchangeFeeCurrency", "schemeFeeAmountValue",
    "schemeFeeCurrency", "acquirerMarkupAmountValue", "acquirerMarkupCurrency",
    "refundFeeAmountValue", "refundFeeCurrency",
)  # fmt: skip

_TYPE_ORDER: Final = ("PAYMENT", "REFUND", "CANCEL")


class ReportKind(StrEnum):
    TRANSACTION_ITEMS = "transactionItems"
    SETTLEMENT_ITEMS = "settlementItems"
    SETTLEMENT_SUMMARY = "settlementSummary"


@dataclass(frozen=True)
class ReportFile:
    name: str
    kind: ReportKind
    content: str


@dataclass(frozen=True)
class _Transaction:
    client_id: str
    customer_id: str
    transaction_type: str
    at: datetime
    transaction_id: str
    original_transaction_id: str
    request_id: str
    original_request_id: str
    payment: Payment
    amount: Amount  # positive; the sign comes from the type
    price: Decimal | None

    @property
    def sign(self) -> int:
        return 1 if self.transaction_type == "PAYMENT" else -1

    @property
    def day(self) -> date:
        return self.at.astimezone(ANTOM_TZ).date()

    @property
    def settlement_currency(self) -> str:
        return self.payment.settlement_currency

    def settled(self) -> Decimal:
        """Signed transaction amount converted to the settlement currency (major units)."""
        if self.price is None:
            gross = self.amount.to_decimal()
        else:
            gross = fx.convert(self.amount, self.settlement_currency, self.price).to_decimal()
        return gross * self.sign

    def fee(self) -> Decimal:
        if self.transaction_type == "CANCEL":
            return Decimal(0)
        return Decimal(SANDBOX_FEE_MINOR_UNITS).scaleb(-minor_digits(self.settlement_currency))


def parse_report_date(text: str) -> date:
    """``YYYYMMDD`` → date; ``ValueError`` otherwise."""
    if len(text) != 8 or not text.isdigit():
        raise ValueError("date must be YYYYMMDD")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _money(value: Decimal, currency: str) -> str:
    digits = minor_digits(currency)
    return format(value.quantize(Decimal(1).scaleb(-digits)), "f")


def _transactions(store: Store) -> list[_Transaction]:
    found: list[_Transaction] = []
    for payment in store.payments.values():
        if payment.payment_time is None:
            continue
        merchant = store.merchants.get(payment.client_id)
        customer_id = merchant.merchant_id if merchant is not None else ""
        price = Decimal(payment.quote.price) if payment.quote is not None else None
        amount = payment.amount.amount()
        found.append(
            _Transaction(
                client_id=payment.client_id,
                customer_id=customer_id,
                transaction_type="PAYMENT",
                at=payment.payment_time,
                transaction_id=payment.payment_id,
                original_transaction_id="",
                request_id=payment.payment_request_id,
                original_request_id="",
                payment=payment,
                amount=amount,
                price=price,
            )
        )
        if payment.status is PaymentStatus.CANCELLED and payment.cancel_time is not None:
            found.append(
                _Transaction(
                    client_id=payment.client_id,
                    customer_id=customer_id,
                    transaction_type="CANCEL",
                    at=payment.cancel_time,
                    transaction_id=payment.cancel_id or payment.payment_id,
                    original_transaction_id=payment.payment_id,
                    request_id=payment.payment_request_id,
                    original_request_id=payment.payment_request_id,
                    payment=payment,
                    amount=amount,
                    price=price,
                )
            )
    for refund in store.refunds.values():
        if refund.status is not RefundStatus.SUCCESS or refund.refund_time is None:
            continue
        payment = store.payments[refund.payment_id]
        merchant = store.merchants.get(refund.client_id)
        found.append(
            _Transaction(
                client_id=refund.client_id,
                customer_id=merchant.merchant_id if merchant is not None else "",
                transaction_type="REFUND",
                at=refund.refund_time,
                transaction_id=refund.refund_id,
                original_transaction_id=payment.payment_id,
                request_id=refund.refund_request_id,
                original_request_id=payment.payment_request_id,
                payment=payment,
                amount=refund.amount.amount(),
                price=Decimal(refund.quote.price) if refund.quote is not None else None,
            )
        )
    found.sort(key=lambda t: (t.at, t.transaction_id))
    return found


def _batch_id(client_id: str, currency: str, day: date) -> str:
    digest = hashlib.sha256(f"{client_id}:{currency}".encode()).hexdigest()
    return f"{day:%Y%m%d}{str(int(digest, 16))[:8]}"


def _settlement_time(day: date) -> str:
    return fmt_time(datetime.combine(day, time(12, 0), tzinfo=ANTOM_TZ))


def _csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    out.write(END_MARKER + "\n")
    return out.getvalue()


def _transaction_row(t: _Transaction) -> dict[str, str]:
    return {
        "customerId": t.customer_id,
        "acquirer": ACQUIRER,
        "referenceMerchantId": t.payment.reference_merchant_id,
        "transactionId": t.transaction_id,
        "originalTransactionId": t.original_transaction_id,
        "transactionRequestId": t.request_id,
        "referenceTransactionId": t.payment.reference_order_id,
        "orderDescription": t.payment.order_description,
        "paymentMethodType": t.payment.wallet.value,
        "pspName": t.payment.wallet.value,
        "transactionType": t.transaction_type,
        "paymentTime": fmt_time(t.at),
        "productCode": PRODUCT_CODE,
        "transactionAmountValue": _money(t.amount.to_decimal() * t.sign, t.amount.currency),
        "transactionCurrency": t.amount.currency,
        "originalTransactionRequestId": t.original_request_id,
    }


def _settlement_row(t: _Transaction, batch_id: str, settlement_day: date) -> dict[str, str]:
    currency = t.settlement_currency
    row = _transaction_row(t)
    del row["orderDescription"]
    row.update(
        {
            "settlementBatchId": batch_id,
            "settlementTime": _settlement_time(settlement_day),
            "settlementAmountValue": _money(t.settled() - t.fee(), currency),
            "settlementCurrency": currency,
            "feeAmountValue": _money(t.fee(), currency),
            "feeCurrency": currency,
        }
    )
    if t.price is not None:
        row["quoteCurrencyPair"] = f"{t.amount.currency}/{currency}"
        row["quotePrice"] = str(t.price)
    return row


def _summary_rows(
    group: Sequence[_Transaction], batch_id: str, settlement_day: date, currency: str
) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def summary(summary_type: str, items: Sequence[_Transaction]) -> dict[str, str]:
        net = sum((t.settled() - t.fee() for t in items), Decimal(0))
        fees = sum((t.fee() for t in items), Decimal(0))
        return {
            "settlementBatchId": batch_id,
            "customerId": group[0].customer_id,
            "acquirer": ACQUIRER,
            "summaryType": summary_type,
            "settlementTime": _settlement_time(settlement_day),
            "count": str(len(items)),
            "settlementAmountValue": _money(net, currency),
            "settlementCurrency": currency,
            "feeAmountValue": _money(fees, currency),
            "feeCurrency": currency,
        }

    for transaction_type in _TYPE_ORDER:
        items = [t for t in group if t.transaction_type == transaction_type]
        if items:
            rows.append(summary(transaction_type, items))
    rows.append(summary("TOTAL", group))
    return rows


def _batches(
    store: Store, settlement_day: date, delay_days: int, client_id: str | None
) -> dict[tuple[str, str], list[_Transaction]]:
    day = settlement_day - timedelta(days=delay_days)
    batches: dict[tuple[str, str], list[_Transaction]] = {}
    for t in _transactions(store):
        if t.day == day and (client_id is None or t.client_id == client_id):
            batches.setdefault((t.client_id, t.settlement_currency), []).append(t)
    return batches


def report_csv(
    store: Store,
    kind: ReportKind,
    day: date,
    *,
    client_id: str | None = None,
    currency: str | None = None,
    settlement_delay_days: int = 1,
) -> str:
    """One report as CSV text (header and ``<END>`` only when nothing matches).

    ``day`` is the transaction day for transactionItems and the settlement day otherwise;
    ``currency`` narrows settlement reports to one settlement currency.
    """
    if kind is ReportKind.TRANSACTION_ITEMS:
        rows = [
            _transaction_row(t)
            for t in _transactions(store)
            if t.day == day and (client_id is None or t.client_id == client_id)
        ]
        return _csv(TRANSACTION_ITEM_COLUMNS, rows)
    batches = _batches(store, day, settlement_delay_days, client_id)
    chosen = sorted(
        ((key, group) for key, group in batches.items() if currency is None or key[1] == currency),
        key=lambda item: item[0],
    )
    if kind is ReportKind.SETTLEMENT_ITEMS:
        rows = [
            _settlement_row(t, _batch_id(client, cur, day), day)
            for (client, cur), group in chosen
            for t in group
        ]
        return _csv(SETTLEMENT_ITEM_COLUMNS, rows)
    rows = [
        row
        for (client, cur), group in chosen
        for row in _summary_rows(group, _batch_id(client, cur, day), day, cur)
    ]
    return _csv(SETTLEMENT_SUMMARY_COLUMNS, rows)


def report_files(
    store: Store, day: date, client_id: str, *, settlement_delay_days: int = 1
) -> list[ReportFile]:
    """The files Antom would drop for one merchant on ``day``, with its default names.

    As at Antom, a report without rows produces no file. ``day`` is both the transaction day
    of transactionItems and the settlement day of the settlement reports.
    """
    files: list[ReportFile] = []
    transactions = [t for t in _transactions(store) if t.day == day and t.client_id == client_id]
    if transactions:
        files.append(
            ReportFile(
                name=f"transactionItems_{day:%Y%m%d}_000.csv",
                kind=ReportKind.TRANSACTION_ITEMS,
                content=_csv(TRANSACTION_ITEM_COLUMNS, map(_transaction_row, transactions)),
            )
        )
    batches = _batches(store, day, settlement_delay_days, client_id)
    for (client, currency), group in sorted(batches.items(), key=lambda item: item[0]):
        batch_id = _batch_id(client, currency, day)
        files.append(
            ReportFile(
                name=f"settlementItems_{currency}_{batch_id}_000.csv",
                kind=ReportKind.SETTLEMENT_ITEMS,
                content=_csv(
                    SETTLEMENT_ITEM_COLUMNS, (_settlement_row(t, batch_id, day) for t in group)
                ),
            )
        )
        files.append(
            ReportFile(
                name=f"settlementSummary_{currency}_{batch_id}_000.csv",
                kind=ReportKind.SETTLEMENT_SUMMARY,
                content=_csv(
                    SETTLEMENT_SUMMARY_COLUMNS, _summary_rows(group, batch_id, day, currency)
                ),
            )
        )
    return files
