"""Shared fixtures: a fresh database per test (SQLite by default, PostgreSQL when DATABASE_URL
names one), settings for the app under test, and the app served over real HTTP on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from saleor_alipay_app.config import Environment, Settings
from saleor_alipay_app.crypto import generate_key

# skips: fails the run when a test skips for a reason tests/support/skips.py does not allow;
# pytester: to test that.
pytest_plugins = ("tests.support.skips", "pytester")

_SERVER_URL = os.environ.get("DATABASE_URL", "")
POSTGRES = _SERVER_URL.startswith(("postgres://", "postgresql"))


def pytest_report_header() -> str:
    return "database: " + ("PostgreSQL at " + _plain_url(_SERVER_URL) if POSTGRES else "SQLite")


def _plain_url(url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    base = _plain_url(url).split("?", 1)[0]
    return base.rsplit("/", 1)[0] + "/" + name


async def create_postgres_database(server_url: str = _SERVER_URL) -> str:
    """A new empty database on the PostgreSQL server of ``server_url`` (DATABASE_URL's by
    default); returns its plain URL."""
    name = "saa_test_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(_plain_url(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(server_url, name)


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# The tests that need PostgreSQL itself (several app processes on one database, `serve
# --workers`, connections the server drops) use it in every run: DATABASE_URL's server, or in a
# run on SQLite the one at TEST_POSTGRES_URL (a local server by default) when it answers.
LOCAL_POSTGRES = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_reachable: dict[str, bool] = {}


async def postgres_server() -> str | None:
    """The PostgreSQL server the PostgreSQL-only tests use, or None when none answers."""
    if POSTGRES:
        return _SERVER_URL
    if LOCAL_POSTGRES not in _reachable:
        try:
            conn = await asyncpg.connect(_plain_url(LOCAL_POSTGRES), timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            _reachable[LOCAL_POSTGRES] = False
        else:
            await conn.close()
            _reachable[LOCAL_POSTGRES] = True
    return LOCAL_POSTGRES if _reachable[LOCAL_POSTGRES] else None


@pytest.fixture
async def postgres_settings(tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings on a fresh PostgreSQL database, whatever database the run is on."""
    server = await postgres_server()
    if server is None:
        pytest.skip(
            f"PostgreSQL only: no server answers at {_plain_url(LOCAL_POSTGRES)} "
            "(set DATABASE_URL=postgresql://... or TEST_POSTGRES_URL)"
        )
    url = await create_postgres_database(server)
    try:
        yield _settings(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    if POSTGRES:
        url = await create_postgres_database()
        try:
            yield url.replace("postgresql://", "postgresql+asyncpg://", 1)
        finally:
            await drop_postgres_database(url)
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return _settings(database_url)


def _settings(database_url: str) -> Settings:
    return Settings(
        app_env=Environment.DEVELOPMENT,
        database_url=database_url,
        encryption_key=generate_key(),
        allowed_saleor_api_urls="http://127.0.0.1:*/graphql/",
        log_level="INFO",
        saleor_call_timeout=5.0,
    )
