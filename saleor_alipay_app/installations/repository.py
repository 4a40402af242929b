"""Every query on installations (the app's auth store, Saleor's "APL")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.installations.models import TOKEN_PURPOSE, Installation


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
        app_url: str | None = None,
        saleor_version: str | None = None,
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
        record.app_url = app_url
        record.saleor_version = saleor_version or record.saleor_version
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

    async def save_saleor_version(self, installation_id: int, version: str) -> None:
        """Record the Saleor an installation serves ("3.22"), when it says another one."""
        await self.session.execute(
            update(Installation)
            .where(col(Installation.id) == installation_id)
            .where(
                or_(
                    col(Installation.saleor_version).is_(None),
                    col(Installation.saleor_version) != version,
                )
            )
            .values(saleor_version=version)
        )

    async def delete(self, installation: Installation) -> None:
        await self.session.delete(installation)
        await self.session.flush()
