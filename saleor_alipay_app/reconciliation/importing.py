"""Importing Antom's report files (API.md §13) into the reconciliation tables.

- Each report file is imported in one transaction, streamed in batches (memory does not grow
  with the file). Each batch is bulk-loaded into a staging table and matched against ours in
  SQL, set-based (`repository.MATCH_SQL`, the rules of `matching.classify`), while the next
  batch is parsed.
- A file whose content hash is already imported is skipped; a file of the same name with new
  content replaces the old import; a malformed file raises
  :class:`~saleor_alipay_app.reconciliation.parser.ReportFormatError` and leaves nothing behind.
- `report_files` picks a day's files out of a folder laid out like Antom's SFTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.reconciliation.matching import IMPORT_BATCH as BATCH
from saleor_alipay_app.reconciliation.matching import amount_detail
from saleor_alipay_app.reconciliation.models import DayStatus, ReconciliationFile, ReportKind
from saleor_alipay_app.reconciliation.parser import (
    ItemBatch,
    ReportFormatError,
    ReportReader,
    detect_kind,
    kind_from_name,
    report_day,
)
from saleor_alipay_app.reconciliation.repository import ReconciliationRepository

log = logging.getLogger(__name__)

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


def file_sha256(path: Path) -> tuple[str, int]:
    """The file's content hash (hex) and size, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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
        repo = ReconciliationRepository(session)
        known = await repo.file_by_sha(installation_id, sha256)
        if known is not None:
            known_day = await repo.day_by_id(known.day_id)
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
        await repo.add_file(file)
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
    """Parse, stage and match in batches: each batch is loaded into the staging table, then
    classified and stored by one statement that runs while the next batch is parsed."""
    await repo.open_stage()
    count = 0
    matching: asyncio.Future[None] | None = None

    async def send(batch: ItemBatch) -> None:
        nonlocal matching, count
        if matching is not None:
            await matching
            matching = None
        await repo.stage(batch)
        count += len(batch)
        matching = asyncio.ensure_future(repo.match_staged(installation_id, day_id, file_id, kind))
        await asyncio.sleep(0)  # the statement is on its way before parsing goes on
        if progress is not None:
            progress(reader.bytes_read)

    try:
        batch: ItemBatch | None = None
        for chunk in reader.item_batches(1):  # each chunk of the file as it is parsed
            if batch is None:
                batch = chunk
            else:
                batch.extend(chunk.columns)
            if len(batch) >= BATCH:
                await send(batch)
                batch = None  # in the database now: one batch in memory, the one being parsed
            else:
                # The event loop's poll between chunks lets the database thread hand back a
                # finished statement at once rather than wait for the interpreter lock.
                await asyncio.sleep(0)
        if batch is not None:
            await send(batch)
            batch = None
        if matching is not None:
            await matching
            matching = None
    finally:
        if matching is not None:
            # A parse error while a batch was being matched: let it finish, then roll back.
            with contextlib.suppress(Exception):
                await matching
    for row in await repo.amount_mismatches(day_id, file_id):
        await repo.update_row(
            row.id, {"detail": amount_detail(row.amount_minor, row.our_amount_minor, row.currency)}
        )
    await repo.close_stage()
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
