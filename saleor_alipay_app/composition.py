"""The long-lived objects one app process shares: settings, database, keys, HTTP clients."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.payments.service import PaymentDeps
from saleor_alipay_app.saleor.client import SaleorClient


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    http: httpx.AsyncClient
    saleor: SaleorClient
    payments: PaymentDeps
    # Monotonic time of the last JWKS refetch per installation (bounds refetches from forgeries).
    jwks_refetched_at: dict[int, float] = field(default_factory=dict)

    def base_url(self, request: Request) -> str:
        """APP_URL, or else the request's own base URL."""
        if self.settings.app_url:
            return self.settings.app_url
        return str(request.base_url).rstrip("/")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
