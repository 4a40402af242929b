"""Streaming readers of Antom's reconciliation reports (API.md §13).

A report is UTF-8 CSV: a header row of field names (read by name: the order varies and new
columns may appear), data rows, and a last line ``<END>``. The reader holds one row at a time,
so memory does not grow with the file. Anything malformed raises :class:`ReportFormatError`
naming the file, the line and the reason: missing or duplicated columns, a row with the wrong
number of fields, a file without its ``<END>`` marker (truncated), data after it, bytes that
are not UTF-8, an amount that is not a number or has more decimals than its currency, an
unknown currency.

Amounts are read as major units with at most the currency's digits (``123.45``; KRW ``18000``)
and returned as integers in minor units, with the report's sign (refunds are negative).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Final, NamedTuple

from saleor_alipay_app.antom.money import CURRENCIES
from saleor_alipay_app.reconciliation.models import ReportKind

ANTOM_TZ: Final = timezone(timedelta(hours=8))  # Antom's cut-off is 23:59:59 UTC+8
END_MARKER: Final = "<END>"
MAX_ID: Final = 64

REQUIRED_COLUMNS: Final[dict[ReportKind, tuple[str, ...]]] = {
    ReportKind.TRANSACTION_ITEMS: (
        "transactionId",
        "transactionRequestId",
        "transactionType",
        "transactionAmountValue",
        "transactionCurrency",
    ),
    ReportKind.SETTLEMENT_ITEMS: (
        "settlementBatchId",
        "transactionId",
        "transactionRequestId",
        "transactionType",
        "transactionAmountValue",
        "transactionCurrency",
        "settlementAmountValue",
        "settlementCurrency",
        "feeAmountValue",
        "feeCurrency",
    ),
    ReportKind.SETTLEMENT_SUMMARY: (
        "settlementBatchId",
        "summaryType",
        "count",
        "settlementAmountValue",
        "settlementCurrency",
        "feeAmountValue",
        "feeCurrency",
    ),
}

# Transaction types with no payment or refund of ours behind them (settlement files only).
SETTLEMENT_ONLY_TYPES: Final = frozenset(
    {
        "SETTLEMENT_FEE",
        "COLLATERAL_WITHHOLDING",
        "RESERVE_WITHHOLDING",
        "RESERVE_RELEASE",
        "COLLATERAL_RELEASE",
        "DISPUTE_REVERSAL",
        "REFUND_REVERSAL",
    }
)

MAX_AMOUNT_DIGITS: Final = 16
_NAME_DAY: Final = re.compile(r"_(\d{8})_")


class ReportFormatError(Exception):
    """A malformed report: ``file``, ``line`` (1-based; 0 for the whole file) and ``reason``."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


def kind_from_name(name: str) -> ReportKind | None:
    for kind in ReportKind:
        if name.startswith(kind.value + "_") or name.startswith(kind.value + "."):
            return kind
    return None


def day_from_name(name: str) -> date | None:
    """``transactionItems_<yyyyMMdd>_<seq>.csv`` → the transaction day."""
    match = _NAME_DAY.search(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None


def antom_day(text: str) -> date | None:
    """The UTC+8 day of an ISO-8601 time from a report, or None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ANTOM_TZ)
    return moment.astimezone(ANTOM_TZ).date()


def parse_minor(text: str, currency: str, column: str) -> int:
    """``"-123.45"`` HKD → ``-12345``; ValueError with the reason otherwise."""
    digits = CURRENCIES[currency]
    number = text.strip()
    whole, dot, fraction = number.partition(".")
    negative = whole.startswith("-")
    if negative:
        whole = whole[1:]
    if not (
        whole.isascii()
        and whole.isdigit()
        and len(whole) <= MAX_AMOUNT_DIGITS
        and (not dot or (fraction.isascii() and fraction.isdigit()))
    ):
        raise ValueError(f"{column} {text[:40]!r} is not an amount")
    fraction = fraction.rstrip("0")
    if len(fraction) > digits:
        raise ValueError(f"{column} {number} has more decimals than {currency} allows ({digits})")
    value = int(whole + fraction.ljust(digits, "0")) if digits else int(whole)
    return -value if negative else value


def parse_currency(text: str, column: str) -> str:
    currency = text.strip().upper()
    if currency not in CURRENCIES:
        raise ValueError(f"{column} {text[:8]!r} is not a supported currency")
    return currency


class ItemRow(NamedTuple):
    """A data row of a transaction or settlement details report."""

    line: int
    transaction_id: str
    transaction_request_id: str
    transaction_type: str
    amount_minor: int | None
    currency: str | None
    transaction_time: str | None
    settlement_batch_id: str | None = None
    settlement_amount_minor: int | None = None
    settlement_currency: str | None = None
    fee_minor: int | None = None
    fee_currency: str | None = None
    settlement_time: str | None = None


@dataclass(frozen=True)
class SummaryRow:
    line: int
    settlement_batch_id: str
    summary_type: str
    count: int
    settlement_amount_minor: int
    settlement_currency: str
    fee_minor: int | None
    fee_currency: str | None
    settlement_time: str | None


class _ItemColumns(NamedTuple):
    """Positions of the columns a details row is read from (-1: the column is absent)."""

    transaction_id: int
    request_id: int
    transaction_type: int
    amount: int
    currency: int
    time: int
    batch: int
    settlement_amount: int
    settlement_currency: int
    fee: int
    fee_currency: int
    settlement_time: int

    @classmethod
    def of(cls, index: dict[str, int]) -> _ItemColumns:
        def at(name: str) -> int:
            return index.get(name, -1)

        return cls(
            at("transactionId"),
            at("transactionRequestId"),
            at("transactionType"),
            at("transactionAmountValue"),
            at("transactionCurrency"),
            at("paymentTime"),
            at("settlementBatchId"),
            at("settlementAmountValue"),
            at("settlementCurrency"),
            at("feeAmountValue"),
            at("feeCurrency"),
            at("settlementTime"),
        )


def _field(row: list[str], position: int) -> str:
    return row[position].strip() if position >= 0 else ""


def _item(line: int, c: _ItemColumns, row: list[str], settlement: bool) -> ItemRow:
    transaction_type = row[c.transaction_type].strip().upper()
    if not transaction_type:
        raise ValueError("transactionType is empty")
    transaction_id = row[c.transaction_id].strip()
    request_id = row[c.request_id].strip()
    ours = transaction_type not in SETTLEMENT_ONLY_TYPES
    if ours:
        if not transaction_id:
            raise ValueError("transactionId is empty")
        if not request_id:
            raise ValueError("transactionRequestId is empty")
    if len(transaction_id) > MAX_ID or len(request_id) > MAX_ID:
        raise ValueError(f"an id is longer than {MAX_ID} characters")
    amount_text = row[c.amount]
    currency: str | None = None
    amount: int | None = None
    if ours or amount_text.strip():
        currency = parse_currency(row[c.currency], "transactionCurrency")
        amount = parse_minor(amount_text, currency, "transactionAmountValue")
    time_text = _field(row, c.time)[:40] or None
    if not settlement:
        return ItemRow(
            line, transaction_id, request_id, transaction_type, amount, currency, time_text
        )
    batch = row[c.batch].strip()
    if not batch:
        raise ValueError("settlementBatchId is empty")
    if len(batch) > MAX_ID:
        raise ValueError(f"settlementBatchId is longer than {MAX_ID} characters")
    settlement_currency = parse_currency(row[c.settlement_currency], "settlementCurrency")
    settled = parse_minor(row[c.settlement_amount], settlement_currency, "settlementAmountValue")
    fee_text = row[c.fee].strip()
    fee_currency: str | None = None
    fee: int | None = None
    if fee_text:
        fee_currency = parse_currency(row[c.fee_currency] or settlement_currency, "feeCurrency")
        fee = parse_minor(fee_text, fee_currency, "feeAmountValue")
    return ItemRow(
        line,
        transaction_id,
        request_id,
        transaction_type,
        amount,
        currency,
        time_text,
        batch,
        settled,
        settlement_currency,
        fee,
        fee_currency,
        _field(row, c.settlement_time) or None,
    )


class ReportReader:
    """Reads one report file row by row. Use :meth:`items` or :meth:`summaries` once."""

    def __init__(self, path: Path, kind: ReportKind, *, name: str | None = None) -> None:
        self.path = path
        self.kind = kind
        self.name = name or path.name
        self.skipped_rows = 0
        self._raw: io.BufferedReader | None = None

    def error(self, line: int, reason: str) -> ReportFormatError:
        return ReportFormatError(self.name, line, reason)

    @property
    def bytes_read(self) -> int:
        """How far the reader got in the file (for progress bars)."""
        if self._raw is None:
            return 0
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    # -- the raw rows ---------------------------------------------------------------------------

    def _rows(self) -> Generator[tuple[int, dict[str, int], list[str]], None, None]:
        """(line, column index by name, fields) for each data row; checks the framing."""
        with (
            self.path.open("rb") as raw,
            io.TextIOWrapper(
                raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
            ) as handle,
        ):
            self._raw = raw
            reader = csv.reader(handle, strict=True)
            header = self._next(reader)
            if header is None:
                raise self.error(0, "empty file: no header row")
            self._check_text(reader.line_num, header)
            names = [name.strip() for name in header]
            if names == [END_MARKER]:
                raise self.error(reader.line_num, "no header row before <END>")
            index: dict[str, int] = {}
            for position, name in enumerate(names):
                if name in index:
                    raise self.error(reader.line_num, f"wrong columns: {name!r} appears twice")
                index[name] = position
            missing = [c for c in REQUIRED_COLUMNS[self.kind] if c not in index]
            if missing:
                raise self.error(
                    reader.line_num,
                    f"wrong columns for a {self.kind.value} report: missing {', '.join(missing)}",
                )
            width = len(names)
            pending: tuple[int, list[str]] | None = None
            ended = False
            is_ascii = str.isascii
            try:
                for row in reader:
                    line = reader.line_num
                    if len(row) == width and pending is None:
                        # The common case, kept fast: a full row of ASCII text.
                        if not all(map(is_ascii, row)):
                            self._check_text(line, row)
                        yield line, index, row
                        continue
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # blank line
                    self._check_text(line, row)
                    if len(row) == 1 and row[0].strip() == END_MARKER:
                        ended = True
                        break
                    if pending is not None:
                        raise self.error(
                            pending[0], f"expected {width} fields, found {len(pending[1])}"
                        )
                    # Tolerated only as Antom's "error correction" row just before <END>.
                    pending = (line, row)
                if not ended:
                    last = reader.line_num
                    if pending is not None:
                        raise self.error(
                            pending[0],
                            f"expected {width} fields, found {len(pending[1])} "
                            "(the file is truncated: no <END> marker)",
                        )
                    raise self.error(
                        last, f"truncated: the file ends at line {last} without the <END> marker"
                    )
                if pending is not None:
                    self.skipped_rows += 1
                for row in reader:
                    if row and any(field.strip() for field in row):
                        raise self.error(reader.line_num, "data after the <END> marker")
            except csv.Error as exc:
                raise self.error(reader.line_num, f"not valid CSV: {exc}") from None

    def _next(self, reader: Iterator[list[str]]) -> list[str] | None:
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            line = getattr(reader, "line_num", 0)
            raise self.error(line, f"not valid CSV: {exc}") from None

    def _check_text(self, line: int, fields: Sequence[str]) -> None:
        for field in fields:
            if not field.isascii():
                try:
                    field.encode("utf-8")
                except UnicodeEncodeError as exc:
                    bad = field[exc.start]
                    byte = ord(bad) - 0xDC00 if 0xDC80 <= ord(bad) <= 0xDCFF else ord(bad)
                    raise self.error(
                        line, f"not UTF-8 text (byte 0x{byte:02x}): wrong encoding"
                    ) from None

    # -- typed rows -----------------------------------------------------------------------------

    def items(self) -> Iterator[ItemRow]:
        """Rows of a transaction or settlement details report."""
        assert self.kind is not ReportKind.SETTLEMENT_SUMMARY
        settlement = self.kind is ReportKind.SETTLEMENT_ITEMS
        columns: _ItemColumns | None = None
        for line, index, row in self._rows():
            if columns is None:
                columns = _ItemColumns.of(index)
            try:
                yield _item(line, columns, row, settlement)
            except ValueError as exc:
                raise self.error(line, str(exc)) from None

    def summaries(self) -> Iterator[SummaryRow]:
        assert self.kind is ReportKind.SETTLEMENT_SUMMARY
        for line, index, row in self._rows():

            def get(name: str, index: dict[str, int] = index, row: list[str] = row) -> str:
                position = index.get(name)
                return row[position].strip() if position is not None else ""

            try:
                batch = get("settlementBatchId")
                if not batch or len(batch) > MAX_ID:
                    raise ValueError("settlementBatchId is empty or too long")
                summary_type = get("summaryType").upper()
                if not summary_type:
                    raise ValueError("summaryType is empty")
                count_text = get("count")
                if not count_text.isdigit():
                    raise ValueError(f"count {count_text[:20]!r} is not a whole number")
                currency = parse_currency(get("settlementCurrency"), "settlementCurrency")
                settled = parse_minor(
                    get("settlementAmountValue"), currency, "settlementAmountValue"
                )
                fee_text = get("feeAmountValue")
                fee_currency = (
                    parse_currency(get("feeCurrency") or currency, "feeCurrency")
                    if fee_text
                    else None
                )
                fee = (
                    parse_minor(fee_text, fee_currency, "feeAmountValue") if fee_currency else None
                )
            except ValueError as exc:
                raise self.error(line, str(exc)) from None
            yield SummaryRow(
                line=line,
                settlement_batch_id=batch,
                summary_type=summary_type,
                count=int(count_text),
                settlement_amount_minor=settled,
                settlement_currency=currency,
                fee_minor=fee,
                fee_currency=fee_currency,
                settlement_time=get("settlementTime") or None,
            )


def detect_kind(path: Path, name: str | None = None) -> ReportKind:
    """The report kind, from the file name or else from its header row."""
    label = name or path.name
    kind = kind_from_name(label)
    if kind is not None:
        return kind
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, csv.Error) as exc:
        raise ReportFormatError(label, 1, f"cannot read the header row: {exc}") from None
    names = {h.strip() for h in header}
    if "summaryType" in names:
        return ReportKind.SETTLEMENT_SUMMARY
    if "settlementBatchId" in names:
        return ReportKind.SETTLEMENT_ITEMS
    if "transactionRequestId" in names:
        return ReportKind.TRANSACTION_ITEMS
    raise ReportFormatError(
        label, 1, "not an Antom report: the name and the header name no known report"
    )


def report_day(path: Path, kind: ReportKind, name: str | None = None) -> date | None:
    """The day a report belongs to: the transaction day of transaction details (from the file
    name, else the first row's paymentTime), the settlement day of settlement reports (the first
    row's settlementTime, UTC+8). None when the file has no rows to tell."""
    label = name or path.name
    if kind is ReportKind.TRANSACTION_ITEMS:
        named = day_from_name(label)
        if named is not None:
            return named
    reader = ReportReader(path, kind, name=label)
    column = "paymentTime" if kind is ReportKind.TRANSACTION_ITEMS else "settlementTime"
    rows = reader._rows()
    try:
        for _line, index, row in rows:
            position = index.get(column)
            return antom_day(row[position]) if position is not None else None
    finally:
        rows.close()
    return None


__all__ = [
    "ANTOM_TZ",
    "END_MARKER",
    "REQUIRED_COLUMNS",
    "SETTLEMENT_ONLY_TYPES",
    "ItemRow",
    "ReportFormatError",
    "ReportReader",
    "SummaryRow",
    "antom_day",
    "day_from_name",
    "detect_kind",
    "kind_from_name",
    "parse_currency",
    "parse_minor",
    "report_day",
]
