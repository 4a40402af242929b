"""Installations: the app's auth store (Saleor's "APL"), one row per Saleor instance.

The app token is encrypted at rest; the JWKS is cached here so that webhook verification does
not fetch it on every delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col, select

from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import JSONText, UTCDateTime, utcnow

TOKEN_PURPOSE = "installation.app_token"  # noqa: S105 - a label, not a secret


class Installation(SQLModel, table=True):
    __tablename__ = "installation"

    id: int | None = Field(default=None, primary_key=True)
    saleor_api_url: str = Field(sa_column=Column(String(2048), unique=True, nullable=False))
    saleor_domain: str | None = Field(default=None, max_length=255)
    app_id: str = Field(max_length=255)
    app_token_encrypted: str = Field(sa_column=Column(String(1024), nullable=False))
    jwks: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONText))
    jwks_fetched_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    installed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    def app_token(self, keys: KeyRing) -> str:
        return keys.decrypt(self.app_token_encrypted, TOKEN_PURPOSE)


def normalize_api_url(url: str) -> str:
    """Saleor sends its API URL with a trailing slash; store and compare it in one form."""
    url = url.strip()
    return url if url.endswith("/") else url + "/"


class InstallationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_api_url(self, saleor_api_url: str) -> Installation | None:
        result = await self.session.execute(
            select(Installation).where(
                col(Installation.saleor_api_url) == normalize_api_url(saleor_api_url)
            )
        )
        return result.scalar_one_or_none()

    async def get(self, installation_id: int) -> Installation | None:
        return await self.session.get(Installation, installation_id)

    async def list_all(self) -> list[Installation]:
        result = await self.session.execute(select(Installation).order_by(col(Installation.id)))
        return list(result.scalars())

    async def save_installation(
        self,
        *,
        saleor_api_url: str,
        saleor_domain: str | None,
        app_id: str,
        app_token: str,
        jwks: dict[str, Any],
        keys: KeyRing,
    ) -> Installation:
        """Store an installation; a reinstall of the same Saleor replaces the old record.

        The row keeps its id so that channel configurations made before survive a reinstall; the
        app id, token and keys are all replaced.
        """
        now = utcnow()
        existing = await self.get_by_api_url(saleor_api_url)
        record = existing or Installation(
            saleor_api_url=normalize_api_url(saleor_api_url),
            app_id=app_id,
            app_token_encrypted="",
        )
        record.saleor_domain = saleor_domain
        record.app_id = app_id
        record.app_token_encrypted = keys.encrypt(app_token, TOKEN_PURPOSE)
        record.jwks = jwks
        record.jwks_fetched_at = now
        record.updated_at = now
        if existing is None:
            record.installed_at = now
        self.session.add(record)
        await self.session.flush()
        return record

    async def save_jwks(self, installation_id: int, jwks: dict[str, Any]) -> None:
        record = await self.session.get(Installation, installation_id)
        if record is None:
            return
        record.jwks = jwks
        record.jwks_fetched_at = utcnow()
        self.session.add(record)
        await self.session.flush()

    async def delete(self, installation: Installation) -> None:
        await self.session.delete(installation)
        await self.session.flush()
