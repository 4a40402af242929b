"""Reconciliation against Antom's reports (API.md §13): import, match, check, store per day.

- **Import**: each report file in one transaction, streamed in batches (memory does not grow
  with the file); a file whose content hash is already imported is skipped; a file of the same
  name with new content replaces the old import; a malformed file raises
  :class:`~saleor_alipay_app.reconciliation.parser.ReportFormatError` and leaves nothing behind.
- **Match** every transaction and settlement detail row by ``transactionRequestId``
  (= our paymentRequestId / refundRequestId): MATCHED, MISSING_HERE, or an AMOUNT, CURRENCY or
  STATUS mismatch; settlement-only rows (fees, reserves) are OTHER.
- **Reconcile the day**: rows not matched are matched again (our side may have moved on), our
  succeeded payments and refunds of the day (UTC+8) that no imported transaction details report
  lists become MISSING_AT_ANTOM rows, fees and net settlement are summed per currency, and each
  settlement summary row is checked against the detail rows of its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, assert_never

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.antom.money import CURRENCIES
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.payments.models import PaymentStatus, RefundStatus
from saleor_alipay_app.reconciliation.models import (
    MISMATCH_KINDS,
    DayStatus,
    MatchKind,
    ReconciliationDay,
    ReconciliationFile,
    ReconciliationRow,
    ReportKind,
)
from saleor_alipay_app.reconciliation.parser import (
    ANTOM_TZ,
    SETTLEMENT_ONLY_TYPES,
    ItemRow,
    ReportFormatError,
    ReportReader,
    detect_kind,
    kind_from_name,
    report_day,
)
from saleor_alipay_app.reconciliation.repository import Ours, ReconciliationRepository

log = logging.getLogger(__name__)

BATCH: Final = 2000
YIELD_EVERY: Final = 250
HASH_CHUNK: Final = 1 << 20
Progress = Callable[[int], None]
"""Called with the number of bytes of the current file read so far."""


class ImportOutcome(StrEnum):
    IMPORTED = "imported"
    REPLACED = "replaced"  # a file of the same name with other content was imported before
    ALREADY_IMPORTED = "already imported"


@dataclass(frozen=True)
class ImportResult:
    name: str
    kind: ReportKind
    outcome: ImportOutcome
    rows: int
    day: date


@dataclass
class RunResult:
    day: date
    imports: list[ImportResult] = field(default_factory=list)
    errors: list[ReportFormatError] = field(default_factory=list)
    record: ReconciliationDay | None = None

    @property
    def ok(self) -> bool:
        """True when every file imported and the day matches: a scheduler's green light."""
        return (
            not self.errors and self.record is not None and self.record.status is DayStatus.MATCHED
        )


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


def money(minor: int | None, currency: str | None) -> str | None:
    """Minor units → a decimal string in the currency's digits (sign kept)."""
    if minor is None or currency is None:
        return None
    digits = CURRENCIES.get(currency, 2)
    if not digits:
        return str(minor)
    step = Decimal(1).scaleb(-digits)
    return format(Decimal(minor).scaleb(-digits).quantize(step), "f")


def classify(
    transaction_type: str,
    amount_minor: int | None,
    currency: str | None,
    payment: Ours | None,
    refund: Ours | None,
) -> tuple[MatchKind, Ours | None, str | None]:
    """How one report row compares with ours: (kind, what we have, why)."""
    match transaction_type:
        case "PAYMENT" | "CANCEL":
            ours, sign, noun = payment, 1 if transaction_type == "PAYMENT" else -1, "payment"
        case "REFUND":
            ours, sign, noun = refund, -1, "refund"
        case _ if transaction_type in SETTLEMENT_ONLY_TYPES:
            return MatchKind.OTHER, None, f"{transaction_type}: settlement only"
        case _:
            return (
                MatchKind.MISSING_HERE,
                None,
                f"{transaction_type} transactions are not made by this app",
            )
    if ours is None:
        return MatchKind.MISSING_HERE, None, f"no {noun} with this request id here"
    if currency != ours.currency:
        return (
            MatchKind.CURRENCY_MISMATCH,
            ours,
            f"Antom {currency}, here {ours.currency}",
        )
    expected = sign * ours.amount_minor
    if amount_minor != expected:
        return (
            MatchKind.AMOUNT_MISMATCH,
            ours,
            f"Antom {money(amount_minor, currency)}, here {money(expected, currency)}",
        )
    if transaction_type == "PAYMENT":
        if ours.status == PaymentStatus.CANCELLED.value:
            return MatchKind.MATCHED, ours, "cancelled here later (Antom reverses it)"
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


def _our_values(transaction_type: str, ours: Ours | None) -> dict[str, Any]:
    if ours is None:
        return {"our_amount_minor": None, "our_currency": None, "our_status": None}
    sign = 1 if transaction_type == "PAYMENT" else -1
    return {
        "our_amount_minor": sign * ours.amount_minor,
        "our_currency": ours.currency,
        "our_status": ours.status,
    }


async def _match_batch(
    repo: ReconciliationRepository, installation_id: int, items: Sequence[tuple[str, str]]
) -> tuple[dict[str, Ours], dict[str, Ours]]:
    """Our payments and refunds named by a batch of (transactionType, requestId)."""
    payment_ids = [rid for kind, rid in items if kind in ("PAYMENT", "CANCEL") and rid]
    refund_ids = [rid for kind, rid in items if kind == "REFUND" and rid]
    payments = await repo.payments_by_request_id(installation_id, payment_ids)
    refunds = await repo.refunds_by_request_id(installation_id, refund_ids)
    return payments, refunds


# -- importing one file -----------------------------------------------------------------------


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


async def _next_batch(rows: Iterator[ItemRow], size: int) -> list[ItemRow]:
    """Up to ``size`` parsed rows. It yields to the event loop now and then, so that the
    database keeps working on the previous batch while this one is parsed."""
    batch: list[ItemRow] = []
    append = batch.append
    for row in rows:
        append(row)
        if len(batch) >= size:
            break
        if not len(batch) % YIELD_EVERY:
            await asyncio.sleep(0)
    return batch


async def import_file(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    path: Path,
    *,
    day: date | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one report file in one transaction; see the module docstring."""
    label = name or path.name
    try:
        sha256, size = file_sha256(path)
    except OSError as exc:
        raise ReportFormatError(label, 0, f"cannot read the file: {exc.strerror}") from None
    kind = detect_kind(path, label)
    async with sessions() as session:
        known = await ReconciliationRepository(session).file_by_sha(installation_id, sha256)
        if known is not None:
            known_day = await session.get(ReconciliationDay, known.day_id)
            assert known_day is not None
            return ImportResult(
                label, known.kind, ImportOutcome.ALREADY_IMPORTED, known.rows, known_day.day
            )
    if day is None:
        day = report_day(path, kind, label)
        if day is None:
            raise ReportFormatError(label, 0, "cannot tell the report's day: it has no rows")
    reader = ReportReader(path, kind, name=label)
    try:
        return await _import(sessions, installation_id, reader, sha256, size, day, progress)
    except IntegrityError:
        # The same file imported at the same moment by another process: it is there now.
        async with sessions() as session:
            known = await ReconciliationRepository(session).file_by_sha(installation_id, sha256)
        if known is None:
            raise
        return ImportResult(label, known.kind, ImportOutcome.ALREADY_IMPORTED, known.rows, day)


async def _import(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    reader: ReportReader,
    sha256: str,
    size: int,
    day: date,
    progress: Progress | None,
) -> ImportResult:
    label, kind = reader.name, reader.kind
    async with transaction(sessions) as session:
        repo = ReconciliationRepository(session)
        await repo.prepare_bulk_work()
        outcome = ImportOutcome.IMPORTED
        for old in await repo.files_named(installation_id, label):
            assert old.id is not None
            await repo.delete_file(old.id)
            outcome = ImportOutcome.REPLACED
        record = await repo.day_or_new(installation_id, day)
        assert record.id is not None
        file = ReconciliationFile(
            installation_id=installation_id,
            day_id=record.id,
            name=label[:255],
            kind=kind,
            sha256=sha256,
            size=size,
            rows=0,
            imported_at=utcnow(),
        )
        session.add(file)
        await session.flush()
        assert file.id is not None
        if kind is ReportKind.SETTLEMENT_SUMMARY:
            count = await _import_summaries(repo, reader, installation_id, record.id, file.id)
        else:
            count = await _import_items(
                repo, reader, installation_id, record.id, file.id, kind, progress
            )
        file.rows = count
        if record.status is not DayStatus.IMPORTED:
            record.status = DayStatus.IMPORTED  # to be reconciled again
        record.imported_at = utcnow()
        session.add(file)
        session.add(record)
    log.info(
        "report imported",
        extra={"file": label, "kind": kind.value, "rows": count, "day": day.isoformat()},
    )
    return ImportResult(label, kind, outcome, count, day)


async def _import_items(
    repo: ReconciliationRepository,
    reader: ReportReader,
    installation_id: int,
    day_id: int,
    file_id: int,
    kind: ReportKind,
    progress: Progress | None,
) -> int:
    """Parse, match and insert in batches; each batch's insert runs while the next one is
    parsed."""
    rows = reader.items()
    source = kind.value
    count = 0
    inserting: asyncio.Task[None] | None = None
    try:
        batch = await _next_batch(rows, BATCH)
        while batch:
            if inserting is not None:
                await inserting
                inserting = None
            payments, refunds = await _match_batch(
                repo,
                installation_id,
                [(r.transaction_type, r.transaction_request_id) for r in batch],
            )
            values = []
            for item in batch:
                request_id = item.transaction_request_id
                found_kind, ours, detail = classify(
                    item.transaction_type,
                    item.amount_minor,
                    item.currency,
                    payments.get(request_id),
                    refunds.get(request_id),
                )
                if ours is None:
                    our_amount = our_currency = our_status = None
                else:
                    sign = 1 if item.transaction_type == "PAYMENT" else -1
                    our_amount = sign * ours.amount_minor
                    our_currency, our_status = ours.currency, ours.status
                values.append(
                    (
                        installation_id,
                        day_id,
                        file_id,
                        item.line,
                        source,
                        found_kind.value,
                        item.transaction_id or None,
                        request_id or None,
                        item.transaction_type[:32],
                        item.amount_minor,
                        item.currency,
                        item.settlement_batch_id,
                        item.settlement_amount_minor,
                        item.settlement_currency,
                        item.fee_minor,
                        item.fee_currency,
                        item.transaction_time,
                        our_amount,
                        our_currency,
                        our_status,
                        detail[:256] if detail else None,
                    )
                )
            inserting = asyncio.ensure_future(repo.insert_row_values(values))
            await asyncio.sleep(0)
            count += len(batch)
            if progress is not None:
                progress(reader.bytes_read)
            batch = await _next_batch(rows, BATCH)
        if inserting is not None:
            await inserting
            inserting = None
    finally:
        if inserting is not None:
            # A parse error while a batch was being inserted: let it finish, then roll back.
            with contextlib.suppress(Exception):
                await inserting
    return count


async def _import_summaries(
    repo: ReconciliationRepository,
    reader: ReportReader,
    installation_id: int,
    day_id: int,
    file_id: int,
) -> int:
    values = [
        {
            "installation_id": installation_id,
            "day_id": day_id,
            "file_id": file_id,
            "line": row.line,
            "settlement_batch_id": row.settlement_batch_id,
            "summary_type": row.summary_type[:32],
            "count": row.count,
            "settlement_amount_minor": row.settlement_amount_minor,
            "settlement_currency": row.settlement_currency,
            "fee_minor": row.fee_minor,
            "fee_currency": row.fee_currency,
        }
        for row in reader.summaries()
    ]
    await repo.insert_summaries(values)
    return len(values)


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
        payments, refunds = await _match_batch(
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
                await repo.update_row(
                    row.id,
                    {
                        "kind": found_kind.value,
                        "detail": detail[:256] if detail else None,
                        **_our_values(row.transaction_type, ours),
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

        totals: dict[str, dict[str, int]] = {}
        for settlement_currency, fee_currency, settled, fees in await repo.settlement_totals(
            record.id
        ):
            entry = totals.setdefault(settlement_currency, {"net": 0, "fees": 0})
            entry["net"] += settled
            if fee_currency is None or fee_currency == settlement_currency:
                entry["fees"] += fees
            else:
                totals.setdefault(fee_currency, {"net": 0, "fees": 0})["fees"] += fees
        summaries = await repo.summaries(record.id)
        problems, summarised = _summary_problems(summaries, await repo.batch_totals(record.id))
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


# -- a whole run ------------------------------------------------------------------------------


def report_files(folder: Path, day: date) -> tuple[list[Path], list[str]]:
    """The report files of ``day`` in ``folder`` (or its ``yyyyMMdd`` / ``yyyy-mm-dd``
    subfolder, Antom's SFTP layout): transaction details named for the day, settlement reports
    whose settlement time falls on it. Returns (files, notes on what was skipped)."""
    notes: list[str] = []
    candidates: list[Path] = []
    for place in (folder, folder / f"{day:%Y%m%d}", folder / day.isoformat()):
        if place.is_dir():
            candidates.extend(p for p in sorted(place.iterdir()) if p.is_file())
    chosen: list[Path] = []
    for path in candidates:
        name = path.name
        kind = kind_from_name(name)
        if kind is None:
            continue
        if name.endswith(".tmp"):
            notes.append(f"{name}: still uploading (.tmp), skipped")
            continue
        if name.endswith(".asc"):
            notes.append(f"{name}: PGP-encrypted, decrypt it first; skipped")
            continue
        if not name.endswith(".csv"):
            notes.append(f"{name}: only .csv reports are read; skipped")
            continue
        try:
            belongs = report_day(path, kind, name)
        except ReportFormatError:
            belongs = day  # import it anyway so that the problem is reported
        if belongs == day:
            chosen.append(path)
    return chosen, notes


async def run(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    day: date,
    files: Sequence[Path],
    *,
    on_file: Callable[[Path, int], Progress | None] | None = None,
) -> RunResult:
    """Import ``files`` (each in its own transaction) and, when all of them are good, reconcile
    the day. A malformed file is reported in ``errors`` and leaves the day IMPORTED."""
    result = RunResult(day=day)
    for path in files:
        progress = on_file(path, path.stat().st_size) if on_file is not None else None
        try:
            result.imports.append(
                await import_file(sessions, installation_id, path, day=day, progress=progress)
            )
        except ReportFormatError as exc:
            log.warning("report refused: %s", exc)
            result.errors.append(exc)
    if result.errors:
        async with sessions() as session:
            result.record = await ReconciliationRepository(session).day(installation_id, day)
        return result
    result.record = await reconcile_day(sessions, installation_id, day)
    return result


# -- reading ----------------------------------------------------------------------------------


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


async def day_detail(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    day: date,
    *,
    kinds: Sequence[MatchKind] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any] | None:
    async with sessions() as session:
        repo = ReconciliationRepository(session)
        record = await repo.day(installation_id, day)
        if record is None or record.id is None:
            return None
        rows, total = await repo.day_rows(record.id, kinds, limit, offset)
        files = await repo.files_of_day(record.id)
    detail = describe_day(record)
    detail["currencies"] = record.currencies
    detail["files"] = [
        {
            "name": f.name,
            "kind": f.kind.value,
            "rows": f.rows,
            "importedAt": f.imported_at.isoformat(),
        }
        for f in files
    ]
    detail["rows"] = [describe_row(r) for r in rows]
    detail["total"] = total
    return detail


async def list_days(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    *,
    limit: int = 60,
    offset: int = 0,
) -> list[ReconciliationDay]:
    async with sessions() as session:
        return await ReconciliationRepository(session).days(installation_id, limit, offset)
