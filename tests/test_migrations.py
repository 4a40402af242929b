"""Migrations and key rotation, on the database of the run (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from saleor_alipay_app.cli import app as cli_app
from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import CryptoError, KeyRing, generate_key
from saleor_alipay_app.db import (
    alembic_config,
    create_engine,
    migrate_async,
    session_factory,
    transaction,
)
from saleor_alipay_app.installations.repository import InstallationRepository
from saleor_alipay_app.models import metadata, rotate_key


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def test_migrations_create_every_table_and_match_the_models(settings: Settings) -> None:
    await migrate_async(settings)
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))

            def diff(sync_conn: Connection) -> list[Any]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))

            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert version == _head()
    assert set(metadata.tables) <= tables
    assert differences == [], f"models and migrations disagree: {differences}"


async def _tables(settings: Settings) -> set[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_downgrade_and_upgrade_again(settings: Settings) -> None:
    await migrate_async(settings)
    await asyncio.to_thread(command.downgrade, alembic_config(settings.database_url), "base")
    assert not (set(metadata.tables) & await _tables(settings))
    await migrate_async(settings)
    assert set(metadata.tables) <= await _tables(settings)
    await migrate_async(settings)  # applying again is a no-op


async def _store_installation(settings: Settings, keys: KeyRing, token: str) -> None:
    engine = create_engine(settings)
    try:
        async with transaction(session_factory(engine)) as session:
            await InstallationRepository(session).save_installation(
                saleor_api_url="http://127.0.0.1:1/graphql/",
                saleor_domain="127.0.0.1:1",
                app_id="QXBwOjE=",
                app_token=token,
                jwks={"keys": []},
                keys=keys,
            )
    finally:
        await engine.dispose()


async def _read_token(settings: Settings, keys: KeyRing) -> str:
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            record = await InstallationRepository(session).get_by_api_url(
                "http://127.0.0.1:1/graphql/"
            )
            assert record is not None
            assert "app-token-secret" not in record.app_token_encrypted
            return record.app_token(keys)
    finally:
        await engine.dispose()


async def test_rotate_key_re_encrypts_every_secret_without_loss(settings: Settings) -> None:
    await migrate_async(settings)
    assert settings.encryption_key is not None
    old_ring = KeyRing(settings.encryption_key)
    await _store_installation(settings, old_ring, "app-token-secret")

    new_key = generate_key()
    report = await rotate_key(settings, new_key)
    assert report.rewritten == 1
    assert await _read_token(settings, KeyRing(new_key)) == "app-token-secret"
    # The old key alone can no longer read it: every value moved.
    with pytest.raises(CryptoError, match="neither ENCRYPTION_KEY"):
        await _read_token(settings, old_ring)
    # Running it again is a no-op.
    again = await rotate_key(settings.model_copy(update={"encryption_key": new_key}), new_key)
    assert (again.rewritten, again.already_current) == (0, 1)


async def test_rotate_key_with_a_wrong_current_key_changes_nothing(settings: Settings) -> None:
    await migrate_async(settings)
    assert settings.encryption_key is not None
    await _store_installation(settings, KeyRing(settings.encryption_key), "app-token-secret")
    wrong = settings.model_copy(update={"encryption_key": generate_key()})
    with pytest.raises(CryptoError, match="neither ENCRYPTION_KEY"):
        await rotate_key(wrong, generate_key())
    assert await _read_token(settings, KeyRing(settings.encryption_key)) == "app-token-secret"


def test_rotate_key_command(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(migrate_async(settings))
    assert settings.encryption_key is not None
    asyncio.run(_store_installation(settings, KeyRing(settings.encryption_key), "app-token-secret"))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ENCRYPTION_KEY", settings.encryption_key)
    new_key = generate_key()
    result = CliRunner().invoke(cli_app, ["rotate-key", "--new-key", new_key])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 secret(s)" in result.output
    assert new_key not in result.output  # a key given by the operator is not echoed back
    assert asyncio.run(_read_token(settings, KeyRing(new_key))) == "app-token-secret"
