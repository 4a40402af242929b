"""A migrated database with one installation, and report files written as Antom writes them."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import create_engine, migrate_async, session_factory, transaction
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.reconciliation.models import (
    ReconciliationDay,
    ReconciliationFile,
    ReconciliationRow,
    ReconciliationSummary,
)
from saleor_alipay_app.sandbox.reports import (
    SETTLEMENT_ITEM_COLUMNS,
    SETTLEMENT_SUMMARY_COLUMNS,
    TRANSACTION_ITEM_COLUMNS,
)

__all__ = [
    "SETTLEMENT_ITEM_COLUMNS",
    "SETTLEMENT_SUMMARY_COLUMNS",
    "TRANSACTION_ITEM_COLUMNS",
    "Db",
    "csv_text",
    "table_counts",
]


@dataclass
class Db:
    sessions: async_sessionmaker[AsyncSession]
    installation_id: int
    folder: Path

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.folder / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", newline="")
        else:
            path.write_bytes(content)
        return path


@pytest.fixture
async def db(settings: Settings, tmp_path: Path) -> AsyncIterator[Db]:
    await migrate_async(settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    assert settings.encryption_key is not None
    async with transaction(sessions) as session:
        installation = await InstallationRepository(session).save_installation(
            saleor_api_url="http://127.0.0.1:1/graphql/",
            saleor_domain="127.0.0.1:1",
            app_id="QXBwOjE=",
            app_token="app-token",
            jwks={"keys": []},
            keys=KeyRing(settings.encryption_key),
        )
    assert installation.id is not None
    folder = tmp_path / "reports"
    folder.mkdir()
    try:
        yield Db(sessions, installation.id, folder)
    finally:
        await engine.dispose()


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, str]], *, end: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    if end:
        out.write("<END>\n")
    return out.getvalue()


async def table_counts(db: Db) -> dict[str, int]:
    """Rows in each reconciliation table."""
    counts: dict[str, int] = {}
    async with db.sessions() as session:
        for model in (
            ReconciliationDay,
            ReconciliationFile,
            ReconciliationRow,
            ReconciliationSummary,
        ):
            result = await session.execute(select(func.count()).select_from(model))
            counts[model.__tablename__] = int(result.scalar_one())  # type: ignore[arg-type]
    return counts
