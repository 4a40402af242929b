"""Importing report files: every malformed case is refused with the file, the line and the
reason, and nothing of the file is kept; good files are read by column name, once."""

from __future__ import annotations

import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from saleor_alipay_app.reconciliation import importing, schemas, service
from saleor_alipay_app.reconciliation.importing import ImportOutcome
from saleor_alipay_app.reconciliation.parser import ReportFormatError
from tests.reconciliation.conftest import (
    SETTLEMENT_ITEM_COLUMNS,
    SETTLEMENT_SUMMARY_COLUMNS,
    TRANSACTION_ITEM_COLUMNS,
    Db,
    csv_text,
    table_counts,
)

DAY = date(2026, 11, 26)
NAME = "transactionItems_20261126_000.csv"
EMPTY = {
    "reconciliation_day": 0,
    "reconciliation_file": 0,
    "reconciliation_row": 0,
    "reconciliation_summary": 0,
}


def item(n: int, **changes: str) -> dict[str, str]:
    row = {
        "customerId": "1022188000000000001",
        "acquirer": "ALIPAY",
        "transactionId": f"2026112619400000{n:08d}",
        "transactionRequestId": f"saa-test-{n}",
        "transactionType": "PAYMENT",
        "paymentTime": "2026-11-26T12:00:00+08:00",
        "productCode": "AGREEMENT_PAYMENT",
        "transactionAmountValue": "123.45",
        "transactionCurrency": "HKD",
        "orderDescription": "Order",
        "paymentMethodType": "ALIPAY_HK",
    }
    row.update(changes)
    return row


def good(rows: int = 3) -> str:
    return csv_text(TRANSACTION_ITEM_COLUMNS, [item(n) for n in range(1, rows + 1)])


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _without_column(text: str, column: str) -> str:
    columns = [c for c in TRANSACTION_ITEM_COLUMNS if c != column]
    return csv_text(columns, [item(n) for n in range(1, 4)])


WIDTH = len(TRANSACTION_ITEM_COLUMNS)
GOOD = good()
GOOD_LINES = lines(GOOD)

MALFORMED: list[tuple[str, bytes, int, str]] = [
    (
        "missing column",
        _without_column(GOOD, "transactionRequestId").encode(),
        1,
        "wrong columns for a transactionItems report: missing transactionRequestId",
    ),
    (
        "duplicated column",
        GOOD.replace("orderDescription", "transactionId", 1).encode(),
        1,
        "wrong columns: 'transactionId' appears twice",
    ),
    (
        "no header",
        b"<END>\n",
        1,
        "no header row before <END>",
    ),
    ("empty file", b"", 0, "empty file: no header row"),
    (
        "truncated: no end marker",
        "".join(GOOD_LINES[:-1]).encode(),
        4,
        "truncated: the file ends at line 4 without the <END> marker",
    ),
    (
        "truncated in the middle of a row",
        ("".join(GOOD_LINES[:3]) + GOOD_LINES[3][:40]).encode(),
        4,
        f"expected {WIDTH} fields, found 6 (the file is truncated: no <END> marker)",
    ),
    (
        "a row with fields missing",
        (
            "".join(GOOD_LINES[:2])
            + GOOD_LINES[2].rsplit(",", 1)[0]
            + "\n"
            + "".join(GOOD_LINES[3:])
        ).encode(),
        3,
        f"expected {WIDTH} fields, found {WIDTH - 1}",
    ),
    (
        "data after the end marker",
        (GOOD + "saa-late,1\n").encode(),
        6,
        "data after the <END> marker",
    ),
    (
        "amount is not a number",
        csv_text(
            TRANSACTION_ITEM_COLUMNS, [item(1), item(2, transactionAmountValue="12,34")]
        ).encode(),
        3,
        "transactionAmountValue '12,34' is not an amount",
    ),
    (
        "amount with too many decimals",
        csv_text(
            TRANSACTION_ITEM_COLUMNS, [item(1), item(2, transactionAmountValue="12.345")]
        ).encode(),
        3,
        "transactionAmountValue 12.345 has more decimals than HKD allows (2)",
    ),
    (
        "amount with decimals in a currency without",
        csv_text(
            TRANSACTION_ITEM_COLUMNS,
            [item(1, transactionAmountValue="18000.5", transactionCurrency="KRW")],
        ).encode(),
        2,
        "transactionAmountValue 18000.5 has more decimals than KRW allows (0)",
    ),
    (
        "empty amount",
        csv_text(TRANSACTION_ITEM_COLUMNS, [item(1, transactionAmountValue="")]).encode(),
        2,
        "transactionAmountValue '' is not an amount",
    ),
    (
        "unknown currency",
        csv_text(
            TRANSACTION_ITEM_COLUMNS, [item(1), item(2), item(3, transactionCurrency="XXX")]
        ).encode(),
        4,
        "transactionCurrency 'XXX' is not a supported currency",
    ),
    (
        "no request id",
        csv_text(TRANSACTION_ITEM_COLUMNS, [item(1, transactionRequestId="")]).encode(),
        2,
        "transactionRequestId is empty",
    ),
    (
        "wrong encoding (GBK)",
        csv_text(TRANSACTION_ITEM_COLUMNS, [item(1), item(2, orderDescription="订单")])
        .encode("utf-8")
        .replace("订单".encode(), "订单".encode("gbk")),
        3,
        "not UTF-8 text (byte 0xb6): wrong encoding",
    ),
    (
        "wrong encoding (UTF-16)",
        GOOD.encode("utf-16"),
        1,
        "not UTF-8 text (byte 0xff): wrong encoding",
    ),
    (
        "unterminated quote",
        (GOOD_LINES[0] + GOOD_LINES[1] + '"saa-open,1,2\n').encode(),
        3,
        "not valid CSV: unexpected end of data",
    ),
]


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [pytest.param(c, ln, r, id=name) for name, c, ln, r in MALFORMED],
)
async def test_malformed_file_is_refused_with_file_line_and_reason(
    db: Db, content: bytes, line: int, reason: str
) -> None:
    path = db.write(NAME, content)
    with pytest.raises(ReportFormatError) as caught:
        await importing.import_file(db.sessions, db.installation_id, path, day=DAY)
    error = caught.value
    assert (error.file, error.line, error.reason) == (NAME, line, reason)
    assert str(error) == (f"{NAME}:{line}: {reason}" if line else f"{NAME}: {reason}")
    assert await table_counts(db) == EMPTY


async def test_a_late_error_leaves_nothing_of_a_large_file(db: Db) -> None:
    """Thousands of good rows (several batches) then one bad one: one transaction, all gone."""
    rows = [item(n) for n in range(1, 5001)]
    rows.append(item(5001, transactionAmountValue="1.2.3"))
    path = db.write(NAME, csv_text(TRANSACTION_ITEM_COLUMNS, rows))
    with pytest.raises(ReportFormatError) as caught:
        await importing.import_file(db.sessions, db.installation_id, path, day=DAY)
    assert (caught.value.line, caught.value.reason) == (
        5002,
        "transactionAmountValue '1.2.3' is not an amount",
    )
    assert await table_counts(db) == EMPTY


async def test_summary_with_a_bad_count_is_refused(db: Db) -> None:
    path = db.write(
        "settlementSummary_HKD_2026112612345678_000.csv",
        csv_text(
            SETTLEMENT_SUMMARY_COLUMNS,
            [
                {
                    "settlementBatchId": "2026112612345678",
                    "summaryType": "TOTAL",
                    "count": "two",
                    "settlementAmountValue": "10.00",
                    "settlementCurrency": "HKD",
                    "feeAmountValue": "0.10",
                    "feeCurrency": "HKD",
                }
            ],
        ),
    )
    with pytest.raises(ReportFormatError, match=r":2: count 'two' is not a whole number$"):
        await importing.import_file(db.sessions, db.installation_id, path, day=DAY)
    assert await table_counts(db) == EMPTY


async def test_reimporting_the_same_file_changes_nothing(db: Db) -> None:
    path = db.write(NAME, good(3))
    first = await importing.import_file(db.sessions, db.installation_id, path)
    assert (first.outcome, first.rows, first.day, first.kind.value) == (
        ImportOutcome.IMPORTED,
        3,
        DAY,
        "transactionItems",
    )
    counts = await table_counts(db)
    assert counts["reconciliation_row"] == 3
    # The same content under another name is the same file.
    copy = db.write("copy_of_" + NAME, good(3))
    again = await importing.import_file(db.sessions, db.installation_id, copy, day=DAY)
    assert (again.outcome, again.rows, again.day) == (ImportOutcome.ALREADY_IMPORTED, 3, DAY)
    assert await table_counts(db) == counts
    # New content under the same name replaces the old import.
    path = db.write(NAME, good(5))
    replaced = await importing.import_file(db.sessions, db.installation_id, path)
    assert (replaced.outcome, replaced.rows) == (ImportOutcome.REPLACED, 5)
    assert (await table_counts(db))["reconciliation_row"] == 5
    assert (await table_counts(db))["reconciliation_file"] == 1


async def test_columns_are_read_by_name_and_unknown_ones_ignored(db: Db) -> None:
    columns = ["newColumn", *reversed(TRANSACTION_ITEM_COLUMNS)]
    rows = [
        dict(item(1), newColumn="x"),
        item(2, transactionType="REFUND", transactionAmountValue="-20"),
    ]
    path = db.write(NAME, csv_text(columns, rows))
    result = await importing.import_file(db.sessions, db.installation_id, path)
    assert result.rows == 2
    found = await service.day_detail(db.sessions, db.installation_id, DAY)
    assert found is not None
    detail = schemas.describe_day_detail(found)
    assert [(r["transactionRequestId"], r["transactionType"], r["amount"], r["currency"], r["kind"])
            for r in detail["rows"]] == [
        ("saa-test-1", "PAYMENT", "123.45", "HKD", "MISSING_HERE"),
        ("saa-test-2", "REFUND", "-20.00", "HKD", "MISSING_HERE"),
    ]  # fmt: skip


async def test_an_error_correction_row_before_the_end_is_tolerated(db: Db) -> None:
    text = good(2).replace("<END>\n", "ERROR_CORRECTION,-0.01\n<END>\n")
    path = db.write(NAME, text)
    result = await importing.import_file(db.sessions, db.installation_id, path)
    assert result.rows == 2


def test_report_files_of_a_day_skip_uploads_and_other_days(db: Db, tmp_path: Path) -> None:
    db.write(NAME, good(1))
    db.write("transactionItems_20261125_000.csv", good(1))
    db.write("transactionItems_20261126_001.csv.tmp", good(1))
    db.write("transactionItems_20261126_002.csv.asc", "-----BEGIN PGP MESSAGE-----\n")
    db.write("notes.txt", "hello")
    settlement = {
        "settlementBatchId": "2026112612345678",
        "transactionId": "t1",
        "transactionRequestId": "saa-test-1",
        "transactionType": "PAYMENT",
        "transactionAmountValue": "1.00",
        "transactionCurrency": "HKD",
        "settlementAmountValue": "0.90",
        "settlementCurrency": "HKD",
        "feeAmountValue": "0.10",
        "feeCurrency": "HKD",
        "settlementTime": "2026-11-26T12:00:00+08:00",
    }
    db.write(
        "settlementItems_HKD_2026112612345678_000.csv",
        csv_text(SETTLEMENT_ITEM_COLUMNS, [settlement]),
    )
    db.write(
        "settlementItems_HKD_2026112512345678_000.csv",
        csv_text(
            SETTLEMENT_ITEM_COLUMNS, [dict(settlement, settlementTime="2026-11-25T12:00:00+08:00")]
        ),
    )
    files, notes = importing.report_files(db.folder, DAY)
    assert [f.name for f in files] == [
        "settlementItems_HKD_2026112612345678_000.csv",
        NAME,
    ]
    assert notes == [
        "transactionItems_20261126_001.csv.tmp: still uploading (.tmp), skipped",
        "transactionItems_20261126_002.csv.asc: PGP-encrypted, decrypt it first; skipped",
    ]


async def test_memory_does_not_grow_with_the_file(db: Db) -> None:
    async def peak(rows: int, name: str) -> int:
        path = db.write(name, good(rows))
        tracemalloc.start()
        try:
            await importing.import_file(db.sessions, db.installation_id, path, day=DAY)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    await peak(500, "transactionItems_20261126_warm.csv")  # warm caches up
    small = await peak(4_000, "transactionItems_20261126_small.csv")
    large = await peak(40_000, "transactionItems_20261126_large.csv")
    # Ten times the rows, about the same peak: one batch of rows is held at a time (a file
    # held whole would take ten times as much).
    assert large < small * 2, (small, large)
