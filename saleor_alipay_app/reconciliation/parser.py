"""Streaming readers of Antom's reconciliation reports (API.md §13).

A report is UTF-8 CSV: a header row of field names (read by name: the order varies and new
columns may appear), data rows, and a last line ``<END>``. The reader holds one chunk of the
file at a time (:data:`CHUNK_CHARS`), so memory does not grow with the file. Anything malformed
raises :class:`ReportFormatError` naming the file, the line and the reason: missing or
duplicated columns, a row with the wrong number of fields, a file without its ``<END>`` marker
(truncated), data after it, bytes that are not UTF-8, an amount that is not a number or has
more decimals than its currency, an unknown currency.

Rows without quoting (what Antom writes) are split at their commas and checked a column at a
time for a whole chunk; anything else (quoted fields, odd spacing, lower case, another amount
form) is read by :mod:`csv` and checked row by row, with the same results.

Amounts are read as major units with at most the currency's digits (``123.45``; KRW ``18000``)
and returned as integers in minor units, with the report's sign (refunds are negative).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, NamedTuple

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
CHUNK_CHARS: Final = 1 << 18  # read at a time: about 1,300 rows of transaction details

# The columns of a parsed details row, as the import stages them (transaction details: the
# first ITEM_WIDTH).
STAGE_COLUMNS: Final = (
    "line", "transaction_id", "transaction_request_id", "transaction_type", "amount_minor",
    "currency", "transaction_time", "settlement_batch_id", "settlement_amount_minor",
    "settlement_currency", "fee_minor", "fee_currency",
)  # fmt: skip
ITEM_WIDTH: Final = 7
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


def _item(line: int, c: _ItemColumns, row: list[str], settlement: bool) -> tuple[Any, ...]:
    """One details row, checked field by field, as a record in :data:`STAGE_COLUMNS` order
    (the first :data:`ITEM_WIDTH` of them for transaction details)."""
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
        return (
            line,
            transaction_id or None,
            request_id or None,
            transaction_type,
            amount,
            currency,
            time_text,
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
    return (
        line,
        transaction_id or None,
        request_id or None,
        transaction_type,
        amount,
        currency,
        time_text,
        batch,
        settled,
        settlement_currency,
        fee,
        fee_currency,
    )


def _amounts_pattern(digits: int) -> re.Pattern[str]:
    """Amounts written exactly as Antom writes them (sign, whole part, all the currency's
    decimals), one a line."""
    one = f"-?[0-9]{{1,{MAX_AMOUNT_DIGITS}}}" + (f"\\.[0-9]{{{digits}}}" if digits else "")
    return re.compile(f"{one}(?:\\n{one})*")


_AMOUNTS: Final = {digits: _amounts_pattern(digits) for digits in set(CURRENCIES.values())}


def _plain(lines: list[str]) -> bool:
    """True when ``lines`` are CSV without quoting, so that splitting each at its commas reads
    them exactly as :mod:`csv` would: no quote, no carriage return except before a newline, no
    NUL, and valid UTF-8 throughout."""
    text = "".join(lines)
    if '"' in text or "\0" in text or text.count("\r") != text.count("\r\n"):
        return False
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def _plain_items(c: _ItemColumns, chunk: _Plain) -> tuple[Sequence[Any], ...] | None:
    """The columns of a chunk of plain transaction detail rows, checked a column at a time;
    None when any value is not in the form Antom writes (then the rows are checked one by one,
    which finds the first bad one, or reads the unusual but valid ones)."""
    wanted = [c.transaction_id, c.request_id, c.transaction_type, c.amount, c.currency]
    if c.time >= 0:
        wanted.append(c.time)
    fields = map(str.split, map(str.rstrip, chunk.lines, repeat("\r\n")), repeat(","))
    picked = zip(*map(itemgetter(*wanted), fields), strict=True)
    raw_transaction_ids, raw_request_ids, types, amounts, currencies, *times = picked
    for kind in set(types):
        if not kind or kind != kind.strip().upper() or kind in SETTLEMENT_ONLY_TYPES:
            return None
    transaction_ids = list(map(str.strip, raw_transaction_ids))
    request_ids = list(map(str.strip, raw_request_ids))
    for ids in (transaction_ids, request_ids):
        if "" in ids or max(map(len, ids)) > MAX_ID:
            return None
    digits = {CURRENCIES.get(currency, -1) for currency in set(currencies)}
    if len(digits) != 1 or -1 in digits:
        return None
    [places] = digits
    if _AMOUNTS[places].fullmatch("\n".join(amounts)) is None:
        return None
    if places:
        minor = list(map(int, map(str.replace, amounts, repeat("."), repeat(""))))
    else:
        minor = list(map(int, amounts))
    count = len(minor)
    if times:
        stamps: list[str | None] = list(map(str.strip, times[0]))
        if max(map(len, stamps)) > 40:  # type: ignore[arg-type]
            return None
        if "" in stamps:
            stamps = [stamp or None for stamp in stamps]
    else:
        stamps = [None] * count
    lines = range(chunk.line, chunk.line + count)
    return lines, transaction_ids, request_ids, types, minor, currencies, stamps


class ItemBatch:
    """Parsed details rows held by column, in :data:`STAGE_COLUMNS` order (``width`` of them):
    what the import loads into the database."""

    __slots__ = ("columns",)

    def __init__(self, width: int) -> None:
        self.columns: tuple[list[Any], ...] = tuple([] for _ in range(width))

    def __len__(self) -> int:
        return len(self.columns[0])

    def extend(self, columns: Sequence[Iterable[Any]]) -> None:
        for mine, more in zip(self.columns, columns, strict=True):
            mine.extend(more)

    def append(self, record: Sequence[Any]) -> None:
        for mine, value in zip(self.columns, record, strict=True):
            mine.append(value)

    def records(self) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples, made one at a time."""
        return zip(*self.columns, strict=True)


class _Plain(NamedTuple):
    """Lines of full rows without quoting (see :func:`_plain`), the first one at ``line``."""

    line: int
    lines: list[str]


_Chunk = _Plain | list[tuple[int, list[str]]]


class ReportReader:
    """Reads one report file in chunks, holding one chunk at a time. Use :meth:`item_batches`
    or :meth:`summaries` once."""

    def __init__(self, path: Path, kind: ReportKind, *, name: str | None = None) -> None:
        self.path = path
        self.kind = kind
        self.name = name or path.name
        self.skipped_rows = 0
        self._raw: io.BufferedReader | None = None
        self._index: dict[str, int] = {}

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

    def _chunks(self) -> Generator[_Chunk, None, None]:
        """The data rows, chunk by chunk, the framing checked: runs of plain full rows as
        :class:`_Plain` lines (the common case, split by the caller), anything else read by
        :mod:`csv` and given as (line, fields) pairs. An error is raised only once the rows
        before it have been given, so that a bad row earlier in the file is reported first."""
        with (
            self.path.open("rb") as raw,
            io.TextIOWrapper(
                raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
            ) as handle,
        ):
            self._raw = raw
            header_reader = csv.reader(handle, strict=True)
            header = self._next(header_reader)
            if header is None:
                raise self.error(0, "empty file: no header row")
            self._check_text(header_reader.line_num, header)
            names = [name.strip() for name in header]
            if names == [END_MARKER]:
                raise self.error(header_reader.line_num, "no header row before <END>")
            index: dict[str, int] = {}
            for position, name in enumerate(names):
                if name in index:
                    raise self.error(
                        header_reader.line_num, f"wrong columns: {name!r} appears twice"
                    )
                index[name] = position
            missing = [c for c in REQUIRED_COLUMNS[self.kind] if c not in index]
            if missing:
                raise self.error(
                    header_reader.line_num,
                    f"wrong columns for a {self.kind.value} report: missing {', '.join(missing)}",
                )
            self._index = index
            width = len(names)
            commas = width - 1
            done = header_reader.line_num  # physical lines read so far
            while True:
                lines = handle.readlines(CHUNK_CHARS)
                if not lines:
                    raise self.error(
                        done, f"truncated: the file ends at line {done} without the <END> marker"
                    )
                plain = 0
                if _plain(lines):
                    counts = list(map(str.count, lines, repeat(",")))
                    if counts.count(commas) == len(counts):
                        plain = len(counts)
                    else:
                        plain = next(i for i, n in enumerate(counts) if n != commas)
                if plain:
                    yield _Plain(done + 1, lines if plain == len(lines) else lines[:plain])
                    done += plain
                    if plain == len(lines):
                        continue
                    lines = lines[plain:]
                # The rest of the chunk row by row; csv may read on into the file to end a
                # quoted field, or to the end after a short row.
                ended = yield from self._general(chain(lines, handle), done, width, len(lines))
                if ended < 0:
                    return
                done = ended

    def _general(
        self, source: Iterator[str], done: int, width: int, chunk_lines: int
    ) -> Generator[_Chunk, None, int]:
        """Rows of ``source`` (the lines after line ``done``) by :mod:`csv`, until the chunk's
        ``chunk_lines`` are read at a row boundary (returns the lines read then) or the file is
        finished (returns -1)."""
        reader = csv.reader(source, strict=True)
        rows: list[tuple[int, list[str]]] = []
        pending: tuple[int, list[str]] | None = None
        try:
            for row in reader:
                line = done + reader.line_num
                if len(row) == width and pending is None:
                    self._check_text(line, row)
                    rows.append((line, row))
                elif not row or (len(row) == 1 and not row[0].strip()):
                    pass  # blank line
                else:
                    self._check_text(line, row)
                    if len(row) == 1 and row[0].strip() == END_MARKER:
                        if rows:
                            yield rows
                            rows = []
                        if pending is not None:
                            self.skipped_rows += 1
                        for after in reader:
                            if after and any(field.strip() for field in after):
                                raise self.error(
                                    done + reader.line_num, "data after the <END> marker"
                                )
                        return -1
                    if pending is not None:
                        yield rows
                        rows = []
                        raise self.error(
                            pending[0], f"expected {width} fields, found {len(pending[1])}"
                        )
                    # Tolerated only as Antom's "error correction" row just before <END>.
                    pending = (line, row)
                if reader.line_num >= chunk_lines and pending is None:
                    if rows:
                        yield rows
                    return done + reader.line_num
            if rows:
                yield rows
                rows = []
            last = done + reader.line_num
            if pending is not None:
                raise self.error(
                    pending[0],
                    f"expected {width} fields, found {len(pending[1])} "
                    "(the file is truncated: no <END> marker)",
                )
            raise self.error(
                last, f"truncated: the file ends at line {last} without the <END> marker"
            )
        except csv.Error as exc:
            if rows:
                yield rows
            raise self.error(done + reader.line_num, f"not valid CSV: {exc}") from None

    def _rows(self) -> Generator[tuple[int, dict[str, int], list[str]], None, None]:
        """(line, column index by name, fields) for each data row."""
        for chunk in self._chunks():
            if isinstance(chunk, _Plain):
                fields = map(str.split, map(str.rstrip, chunk.lines, repeat("\r\n")), repeat(","))
                for line, row in enumerate(fields, chunk.line):
                    yield line, self._index, row
            else:
                for line, row in chunk:
                    yield line, self._index, row

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

    def item_batches(self, rows: int) -> Iterator[ItemBatch]:
        """The rows of a transaction or settlement details report, checked, in batches of at
        least ``rows`` (the last one smaller)."""
        assert self.kind is not ReportKind.SETTLEMENT_SUMMARY
        settlement = self.kind is ReportKind.SETTLEMENT_ITEMS
        width = len(STAGE_COLUMNS) if settlement else ITEM_WIDTH
        columns: _ItemColumns | None = None
        batch = ItemBatch(width)
        for chunk in self._chunks():
            if columns is None:
                columns = _ItemColumns.of(self._index)
            if isinstance(chunk, _Plain):
                fast = None if settlement else _plain_items(columns, chunk)
                if fast is not None:
                    batch.extend(fast)
                else:
                    fields = map(
                        str.split, map(str.rstrip, chunk.lines, repeat("\r\n")), repeat(",")
                    )
                    self._checked(batch, columns, enumerate(fields, chunk.line), settlement)
            else:
                self._checked(batch, columns, chunk, settlement)
            if len(batch) >= rows:
                yield batch
                batch = ItemBatch(width)
        if len(batch):
            yield batch

    def _checked(
        self,
        batch: ItemBatch,
        columns: _ItemColumns,
        rows: Iterable[tuple[int, list[str]]],
        settlement: bool,
    ) -> None:
        """Rows checked one by one: the first bad one raises with its line and reason."""
        for line, row in rows:
            try:
                batch.append(_item(line, columns, row, settlement))
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
    "ITEM_WIDTH",
    "REQUIRED_COLUMNS",
    "SETTLEMENT_ONLY_TYPES",
    "STAGE_COLUMNS",
    "ItemBatch",
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
