"""The import classifies rows in SQL (`repository.MATCH_SQL`) and reads plain rows a column at a
time: both must give exactly what `matching.classify` and the row-by-row reader give."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from saleor_alipay_app.reconciliation import importing, service
from saleor_alipay_app.reconciliation.matching import classify, our_values
from saleor_alipay_app.reconciliation.models import ReportKind
from saleor_alipay_app.reconciliation.parser import (
    CHUNK_CHARS,
    ITEM_WIDTH,
    ReportReader,
    _item,
    _ItemColumns,
)
from saleor_alipay_app.reconciliation.repository import Ours
from tests.reconciliation.conftest import TRANSACTION_ITEM_COLUMNS, Db, csv_text

DAY = date(2026, 11, 26)
NAME = "transactionItems_20261126_000.csv"

# Ours: request id -> (table, status, amount in minor units, currency).
OURS: dict[str, tuple[str, str, int, str]] = {
    "saa-paid": ("payment", PaymentStatus.SUCCEEDED, 12345, "HKD"),
    "saa-paid-less": ("payment", PaymentStatus.SUCCEEDED, 12300, "HKD"),
    "saa-paid-usd": ("payment", PaymentStatus.SUCCEEDED, 12345, "USD"),
    "saa-processing": ("payment", PaymentStatus.PROCESSING, 12345, "HKD"),
    "saa-cancelled": ("payment", PaymentStatus.CANCELLED, 12345, "HKD"),
    "saa-krw": ("payment", PaymentStatus.SUCCEEDED, 18000, "KRW"),
    "saa-refunded": ("refund", RefundStatus.SUCCEEDED, 2000, "HKD"),
    "saa-refund-failed": ("refund", RefundStatus.FAILED, 2000, "HKD"),
}

# Report rows: (transactionType, transactionRequestId, amount, currency).
ROWS: list[tuple[str, str, str, str]] = [
    ("PAYMENT", "saa-paid", "123.45", "HKD"),  # matched
    ("PAYMENT", "saa-unknown", "123.45", "HKD"),  # missing here
    ("PAYMENT", "saa-paid-less", "123.45", "HKD"),  # amount
    ("PAYMENT", "saa-paid-usd", "123.45", "HKD"),  # currency
    ("PAYMENT", "saa-processing", "123.45", "HKD"),  # status
    ("PAYMENT", "saa-cancelled", "123.45", "HKD"),  # matched, cancelled later
    ("CANCEL", "saa-cancelled", "-123.45", "HKD"),  # matched
    ("CANCEL", "saa-paid", "-123.45", "HKD"),  # status
    ("CANCEL", "saa-paid", "123.45", "HKD"),  # amount (sign)
    ("PAYMENT", "saa-krw", "18000", "KRW"),  # matched, no decimals
    ("REFUND", "saa-refunded", "-20.00", "HKD"),  # matched
    ("REFUND", "saa-refunded", "20", "HKD"),  # amount (sign)
    ("REFUND", "saa-refund-failed", "-20.00", "HKD"),  # status
    ("REFUND", "saa-paid", "-20.00", "HKD"),  # missing: a payment's id is no refund
    ("PAYMENT", "saa-refunded", "20.00", "HKD"),  # missing: a refund's id is no payment
    ("DISPUTE", "saa-paid", "-1.00", "HKD"),  # not made by this app
    ("SETTLEMENT_FEE", "", "", ""),  # settlement only
    (" payment ", "saa-paid", " 123.450 ", "hkd"),  # read row by row, then matched
]


async def _ours(db: Db) -> dict[str, Ours]:
    now = utcnow()
    async with transaction(db.sessions) as session:
        config = ChannelConfig(
            installation_id=db.installation_id,
            channel_slug="hk-web",
            public_id="cfg_match",
            client_id="SANDBOX_5Y000",
            merchant_private_key_encrypted="unused",
            antom_public_key="unused",
            region="asia",
            base_url="http://127.0.0.1:9",
            sandbox=True,
            enabled_wallets=["ALIPAY_HK"],
            created_at=now,
            updated_at=now,
        )
        session.add(config)
        await session.flush()
        assert config.id is not None
        carrier: Payment | None = None
        for n, (request_id, (table, status, minor, currency)) in enumerate(OURS.items()):
            amount = Decimal(minor) / (1 if currency == "KRW" else 100)
            if table == "payment":
                payment = Payment(
                    installation_id=db.installation_id,
                    channel_config_id=config.id,
                    channel_slug="hk-web",
                    saleor_transaction_id=f"VHJhbnNhY3Rpb246{n}",
                    attempt=1,
                    payment_request_id=request_id,
                    wallet="ALIPAY_HK",
                    currency=currency,
                    amount=amount,
                    amount_minor=minor,
                    status=PaymentStatus(status),
                    paid_at=now,
                    created_at=now,
                    updated_at=now,
                )
                session.add(payment)
                await session.flush()
                carrier = payment
            else:
                assert carrier is not None
                assert carrier.id is not None
                session.add(
                    Refund(
                        payment_id=carrier.id,
                        installation_id=db.installation_id,
                        saleor_request_key=f"key-{n}",
                        refund_request_id=request_id,
                        currency=currency,
                        amount=amount,
                        amount_minor=minor,
                        status=RefundStatus(status),
                        created_at=now,
                        updated_at=now,
                    )
                )
    return {rid: Ours(status, minor, cur) for rid, (_, status, minor, cur) in OURS.items()}


async def test_the_import_classifies_every_row_like_classify(db: Db) -> None:
    ours = await _ours(db)
    rows = [
        {
            "transactionId": f"2026112619400000{n:08d}" if kind != "SETTLEMENT_FEE" else "",
            "transactionRequestId": request_id,
            "transactionType": kind,
            "paymentTime": "2026-11-26T12:00:00+08:00",
            "transactionAmountValue": amount,
            "transactionCurrency": currency,
        }
        for n, (kind, request_id, amount, currency) in enumerate(ROWS)
    ]
    path = db.write(NAME, csv_text(TRANSACTION_ITEM_COLUMNS, rows))
    result = await importing.import_file(db.sessions, db.installation_id, path, day=DAY)
    assert result.rows == len(ROWS)
    detail = await service.day_detail(db.sessions, db.installation_id, DAY, limit=100)
    assert detail is not None
    found = {row.line: row for row in detail.rows}
    assert sorted(found) == list(range(2, len(ROWS) + 2))
    columns = _ItemColumns.of({name: i for i, name in enumerate(TRANSACTION_ITEM_COLUMNS)})
    for line, raw in enumerate(rows, 2):
        record = _item(line, columns, [raw.get(c, "") for c in TRANSACTION_ITEM_COLUMNS], False)
        _line, _tid, request_id, kind, amount_minor, currency, _time = record
        pick = ours.get(request_id or "")
        is_payment = pick is not None and OURS[request_id or ""][0] == "payment"
        expected_kind, matched, reason = classify(
            kind,
            amount_minor,
            currency,
            pick if is_payment else None,
            pick if pick is not None and not is_payment else None,
        )
        row = found[line]
        assert (row.kind, row.detail) == (expected_kind, reason), (line, raw)
        assert (row.our_amount_minor, row.our_currency, row.our_status) == our_values(
            kind, matched
        ), (line, raw)
        assert (row.amount_minor, row.currency, row.transaction_type) == (
            amount_minor,
            currency,
            kind,
        )


def _slowly(path: Path) -> list[tuple[Any, ...]]:
    """The same file read by csv and checked row by row."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = _ItemColumns.of({name: i for i, name in enumerate(header)})
        return [
            _item(reader.line_num, columns, row, False) for row in reader if len(row) == len(header)
        ]


def test_plain_rows_read_a_column_at_a_time_as_row_by_row(tmp_path: Path) -> None:
    """Several chunks of plain rows, some of them unusual (which sends their chunk row by
    row), one with a quoted field, one not ASCII, a needed column last on the line: the batches
    hold exactly what the row-by-row reader gives."""
    rows = []
    for n in range(1, 15001):
        row = {
            "transactionId": f"2026112619400000{n:08d}",
            "transactionRequestId": f"saa-test-{n}",
            "transactionType": "PAYMENT" if n % 7 else "REFUND",
            "paymentTime": "" if n % 11 == 0 else "2026-11-26T12:00:00+08:00",
            "transactionAmountValue": f"{'-' if n % 7 == 0 else ''}{n}.{n % 100:02d}",
            "transactionCurrency": "HKD",
        }
        if n == 1000:
            row.update(orderDescription="订单")
        if n == 3000:
            row.update(orderDescription='Order, "gift"')
        if n == 8000:
            row.update(transactionAmountValue="45", transactionType="payment")
        if n == 12000:
            row.update(transactionAmountValue="18000", transactionCurrency="KRW")
        rows.append(row)
    path = tmp_path / NAME
    columns = [c for c in TRANSACTION_ITEM_COLUMNS if c != "transactionCurrency"]
    text = csv_text([*columns, "transactionCurrency"], rows)
    assert len(text) > 4 * CHUNK_CHARS
    path.write_text(text, encoding="utf-8", newline="")
    reader = ReportReader(path, ReportKind.TRANSACTION_ITEMS)
    batches = list(reader.item_batches(2000))
    assert len(batches) > 4
    assert all(len(batch.columns) == ITEM_WIDTH for batch in batches)
    read = [record for batch in batches for record in batch.records()]
    assert read == _slowly(path)


def test_windows_line_endings_read_like_unix_ones(tmp_path: Path) -> None:
    rows = [
        {
            "transactionId": f"2026112619400000{n:08d}",
            "transactionRequestId": f"saa-test-{n}",
            "transactionType": "PAYMENT",
            "transactionAmountValue": f"{n}.05",
            "transactionCurrency": "HKD",
        }
        for n in range(1, 101)
    ]
    unix = csv_text(TRANSACTION_ITEM_COLUMNS, rows)
    read = []
    for name, text in (("unix", unix), ("windows", unix.replace("\n", "\r\n"))):
        path = tmp_path / name / NAME
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8", newline="")
        batches = ReportReader(path, ReportKind.TRANSACTION_ITEMS).item_batches(1000)
        read.append([record for batch in batches for record in batch.records()])
    assert read[0] == read[1]
    assert len(read[0]) == 100
    assert read[0][-1] == (101, "202611261940000000000100", "saa-test-100", "PAYMENT", 10005,
                           "HKD", None)  # fmt: skip
