"""Database engine, async sessions, shared column types and migrations.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is for several app processes.
Migrations are Alembic's, applied by `saleor-alipay-app migrate` and at start.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiosqlite
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    cast,
    event,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, select
from sqlmodel.sql.expression import SelectOfScalar

from saleor_alipay_app.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def iso_time(value: datetime | None) -> str | None:
    """An ISO-8601 time for people and JSON (None stays None)."""
    return value.isoformat() if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """JSON kept as text, identical on SQLite and PostgreSQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class StrEnumType(TypeDecorator[Any]):
    """A StrEnum stored as its value in a VARCHAR, read back as the enum member."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else self.enum_class(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class _InlineSQLite(aiosqlite.Connection):
    """aiosqlite's connection with every call made on the event loop's own thread.

    aiosqlite hands each call (a cursor, an execute, a fetch, a commit) to the connection's
    worker thread and back: about four thread hops per statement, each waiting for the GIL
    while the loop has other work, where the call itself (a point query or a small write on a
    local file in WAL mode) takes microseconds. bench/README.md has the profile.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


async def _inline_sqlite(path: str) -> aiosqlite.Connection:
    # Opened in aiosqlite's worker thread, then used from the loop's thread only.
    connection = _InlineSQLite(
        partial(sqlite3.connect, path, check_same_thread=False), iter_chunk_size=64
    )
    connection._thread.daemon = True
    return await connection


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # One connection, taken in turn: SQLite lets one writer in at a time, and writers that
        # wait on its lock sleep in its busy handler (1 to 100 ms a try), while requests that
        # queue for the one connection are woken the moment it is free.
        engine = create_async_engine(
            settings.database_url,
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
            async_creator=partial(_inline_sqlite, str(path) if path is not None else ":memory:"),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=1800,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Instead of a round trip per checkout (``pool_pre_ping``): a connection the server has
    closed since it was returned (a restart, ``pg_terminate_backend``, an idle timeout) is known
    to asyncpg without asking, and the pool then opens a fresh one in its place."""
    connection = getattr(dbapi_connection, "driver_connection", None)
    if connection is not None and connection.is_closed():
        raise DisconnectionError("the database closed this connection while it was idle")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed when the block ends, rolled back when it raises."""
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def exclusive(sessions: async_sessionmaker[AsyncSession], lock: int) -> AsyncIterator[bool]:
    """Whether this process holds ``lock`` for the block: work that one process at a time may do.

    On PostgreSQL, a session advisory lock held on one connection (outside any transaction) for
    the block; it is released at the end, or by the server if the process dies. On SQLite the
    app runs as one process (`serve --workers` needs PostgreSQL), so the answer is always yes.
    """
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as base:
        conn = await base.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:lock)"), {"lock": lock}))
        try:
            yield held
        finally:
            if held:
                await conn.execute(text("SELECT pg_advisory_unlock(:lock)"), {"lock": lock})


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def migrate(settings: Settings, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (blocking; runs its own event loop)."""
    command.upgrade(alembic_config(settings.database_url), revision)


async def migrate_async(settings: Settings, revision: str = "head") -> None:
    """Apply migrations from inside a running event loop (in a worker thread)."""
    await asyncio.to_thread(migrate, settings, revision)


# The session factory every repository-using function takes.
Sessions = async_sessionmaker[AsyncSession]


# -- paging and searching, for every repository -----------------------------------------------

MAX_PAGE = 200
Row = TypeVar("Row")


def page_window(limit: int, offset: int) -> tuple[int, int]:
    """A page size within 1..MAX_PAGE and a non-negative offset."""
    return max(1, min(limit, MAX_PAGE)), max(0, offset)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) that finds ``text`` anywhere."""
    return f"%{escape_like(text)}%"


async def paged(
    session: AsyncSession,
    query: SelectOfScalar[Row],
    order: Sequence[Any],
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    """One page of ``query`` in ``order``, with the total count."""
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    limit, offset = page_window(limit, offset)
    rows = await session.execute(query.order_by(*order).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)


# -- column helpers shared by the models ------------------------------------------------------


def utc_day(column: Any, dialect_name: str) -> Any:
    """The UTC day of a `UTCDateTime` column, as SQL whose value reads as YYYY-MM-DD: SQLite
    stores the UTC time as text (its first ten characters), PostgreSQL as timestamptz (a date,
    converted to UTC whatever the session's zone; cheaper to group than to_char's text)."""
    if dialect_name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.substr(column, 1, 10)


def foreign_key(target: str, *, nullable: bool = False) -> Any:
    """An integer column referencing ``target`` (``"table.id"``), deleted with it."""
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable),
    )


def created_at_field() -> Any:
    """A timestamp column set to now when the row is made."""
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# -- rows kept in memory per process ----------------------------------------------------------

Key = TypeVar("Key")


class KeptRows(Generic[Key, Row]):
    """Rows kept in memory per process, each read once through ``load`` and kept under
    ``index(key)``. A change made in this process clears them; a change made by another process
    shows up where the kept copy no longer fits (a refused signature, say), and the caller then
    reads the row again (``fresh=True``) before refusing."""

    def __init__(
        self,
        load: Callable[[AsyncSession, Key], Awaitable[Row | None]],
        index: Callable[[Key], Hashable] = lambda key: key,
    ) -> None:
        self._load = load
        self._index = index
        self._rows: dict[Hashable, Row] = {}

    async def get(
        self, sessions: async_sessionmaker[AsyncSession], key: Key, *, fresh: bool = False
    ) -> Row | None:
        index = self._index(key)
        if not fresh and index in self._rows:
            return self._rows[index]
        async with sessions() as session:
            row = await self._load(session, key)
        if row is None:
            self._rows.pop(index, None)
        else:
            self._rows[index] = row
        return row

    def clear(self) -> None:
        self._rows.clear()
