"""What every edge of the app (routes and commands) is handed: the long-lived objects of one
process. `payments.deps.Services` adds the payment use-cases' dependencies; the composition root
(`saleor_alipay_app.composition`) builds it and hands it over (`app.state.services` for routes),
so no domain imports the root."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import KeptRows
from saleor_alipay_app.installations.jwks import SigningKeys
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.installations.service import installation_cache
from saleor_alipay_app.saleor.client import SaleorClient


@dataclass(kw_only=True)
class AppServices:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    # The pool for Saleor; Antom has a pool of its own (neither can starve the other).
    http: httpx.AsyncClient
    antom_http: httpx.AsyncClient
    saleor: SaleorClient
    # Saleor's JWKS fetched again for an unknown key id only (see `installations.jwks`).
    signing_keys: SigningKeys = field(default_factory=SigningKeys)
    # Installations (with their JWKS) by Saleor API URL, for webhooks (see `db.KeptRows`).
    installations: KeptRows[str, Installation] = field(default_factory=installation_cache)

    def base_url(self, request: Request) -> str:
        """APP_URL, or else the request's own base URL."""
        if self.settings.app_url:
            return self.settings.app_url
        return str(request.base_url).rstrip("/")


def app_services(request: Request) -> AppServices:
    services = request.app.state.services
    assert isinstance(services, AppServices)
    return services
