"""The composition root: the one place that builds what a process shares (settings, database,
key ring, one HTTP pool per upstream, the Saleor client, the Antom clients and the reporter).

The web app (`web.py`'s lifespan), every CLI command and the tests open the same `Services`
with `open_services`, and choose an installation with the one `pick_installation`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from saleor_alipay_app.channels.service import AntomClients
from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import KeyRing, load_key_ring
from saleor_alipay_app.db import create_engine, migrate_async, session_factory
from saleor_alipay_app.errors import Invalid, NotFound
from saleor_alipay_app.http import make_http_client
from saleor_alipay_app.installations.repository import Installation, InstallationRepository
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.reporting import SaleorReporter
from saleor_alipay_app.saleor.client import SaleorClient


@dataclass
class Services:
    """The long-lived objects of one process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    # The pool for Saleor; Antom has a pool of its own (neither can starve the other).
    http: httpx.AsyncClient
    antom_http: httpx.AsyncClient
    saleor: SaleorClient
    payments: PaymentDeps
    # Monotonic time of the last JWKS refetch per installation (bounds refetches from forgeries).
    jwks_refetched_at: dict[int, float] = field(default_factory=dict)

    def base_url(self, request: Request) -> str:
        """APP_URL, or else the request's own base URL."""
        if self.settings.app_url:
            return self.settings.app_url
        return str(request.base_url).rstrip("/")


@asynccontextmanager
async def open_services(settings: Settings, *, migrate: bool = False) -> AsyncIterator[Services]:
    """Build the process's services; on exit, drain queued reports and close every pool."""
    keys = load_key_ring(settings)
    if migrate:
        await migrate_async(settings)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    saleor_http = make_http_client(timeout=settings.saleor_call_timeout)
    antom_http = make_http_client(timeout=settings.antom_call_timeout)
    saleor = SaleorClient(saleor_http, timeout=settings.saleor_call_timeout)
    payments = PaymentDeps(
        sessions=sessions,
        keys=keys,
        antom=AntomClients(antom_http, keys, call_timeout=settings.antom_call_timeout),
        reporter=SaleorReporter(sessions, saleor, keys),
        confirm_delay=timedelta(seconds=settings.report_confirm_delay),
    )
    try:
        yield Services(
            settings=settings,
            engine=engine,
            sessions=sessions,
            keys=keys,
            http=saleor_http,
            antom_http=antom_http,
            saleor=saleor,
            payments=payments,
        )
    finally:
        await payments.reporter.drain()
        await saleor_http.aclose()
        await antom_http.aclose()
        await engine.dispose()


async def pick_installation(
    sessions: async_sessionmaker[AsyncSession], api_url: str | None
) -> Installation:
    """The installation named by its Saleor API URL, or the only one there is."""
    async with sessions() as session:
        repo = InstallationRepository(session)
        if api_url:
            found = await repo.get_by_api_url(api_url)
            if found is None:
                raise NotFound(
                    "UNKNOWN_INSTALLATION",
                    f"the app is not installed in {api_url}: install it from that Saleor first",
                )
            return found
        installations = await repo.list_all()
    if not installations:
        raise NotFound("NO_INSTALLATION", "no Saleor has installed the app yet: install it first")
    if len(installations) > 1:
        urls = ", ".join(i.saleor_api_url for i in installations)
        raise Invalid(
            "SEVERAL_INSTALLATIONS",
            f"several Saleors installed the app ({urls}): pass --saleor-api-url",
        )
    return installations[0]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
