"""The use-cases of reconciliation against Antom's reports (API.md §13): a run (import a day's
files, then reconcile the day), and reading the days and one day's rows.

A run imports each file in its own transaction (`importing`) and, when all of them are good,
reconciles the day (`matching`); a malformed file is reported and leaves the day IMPORTED.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.reconciliation.importing import ImportResult, Progress, import_file
from saleor_alipay_app.reconciliation.matching import reconcile_day
from saleor_alipay_app.reconciliation.models import DayStatus, MatchKind, ReconciliationDay
from saleor_alipay_app.reconciliation.parser import ReportFormatError
from saleor_alipay_app.reconciliation.repository import ReconciliationRepository
from saleor_alipay_app.reconciliation.schemas import DayDetail

log = logging.getLogger(__name__)


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


async def day_detail(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    day: date,
    *,
    kinds: Sequence[MatchKind] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> DayDetail | None:
    """A reconciled day with its files and one page of its rows (of ``kinds``); None when the
    day was never imported."""
    async with sessions() as session:
        repo = ReconciliationRepository(session)
        record = await repo.day(installation_id, day)
        if record is None or record.id is None:
            return None
        rows, total = await repo.day_rows(record.id, kinds, limit, offset)
        files = await repo.files_of_day(record.id)
    return DayDetail(record=record, files=files, rows=rows, total=total)


async def list_days(
    sessions: async_sessionmaker[AsyncSession],
    installation_id: int,
    *,
    limit: int = 60,
    offset: int = 0,
) -> list[ReconciliationDay]:
    """The installation's days, newest first."""
    async with sessions() as session:
        return await ReconciliationRepository(session).days(installation_id, limit, offset)
