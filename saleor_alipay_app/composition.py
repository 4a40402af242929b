"""The composition root: the one place that builds what a process shares (settings, database,
key ring, one HTTP pool per upstream, the Saleor client, the Antom clients and the reporter).

The web app (`web.py`'s lifespan), every CLI command and the tests open the same `Services`
with `open_services`, and choose an installation with the one `pick_installation`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import httpx
import typer
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from saleor_alipay_app.channels.service import AntomClientPool
from saleor_alipay_app.config import Settings
from saleor_alipay_app.crypto import CryptoError, KeyRing, load_key_ring
from saleor_alipay_app.db import create_engine, migrate, migrate_async, session_factory
from saleor_alipay_app.errors import AppError, Invalid, NotFound
from saleor_alipay_app.http import make_http_client
from saleor_alipay_app.installations.repository import Installation, InstallationRepository
from saleor_alipay_app.payments.deps import PaymentDeps
from saleor_alipay_app.payments.reporting import SaleorReporter
from saleor_alipay_app.saleor.client import SaleorClient

T = TypeVar("T")


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
        antom=AntomClientPool(antom_http, keys, call_timeout=settings.antom_call_timeout),
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


def cli_settings() -> Settings:
    """The settings for a CLI command, with logging set up; a bad setting exits 2 saying why."""
    import typer

    from saleor_alipay_app.config import ConfigError, load_settings
    from saleor_alipay_app.logs import configure_logging

    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


SaleorApiUrl = Annotated[
    str | None,
    typer.Option(help="Which installation (needed when several Saleors installed the app)."),
]


AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


Limit = Annotated[int, typer.Option(help="At most this many rows (newest first).")]


def run_for_installation(
    saleor_api_url: str | None, work: Callable[[PaymentDeps, Installation], Awaitable[T]]
) -> T:
    """For a CLI command: migrate, open the services, pick the installation and run ``work``;
    an `AppError` exits 1 (2 for bad input)."""
    settings = cli_settings()
    migrate(settings)

    async def run() -> T:
        async with open_services(settings) as services:
            installation = await pick_installation(services.sessions, saleor_api_url)
            return await work(services.payments, installation)

    try:
        return asyncio.run(run())
    except AppError as exc:
        typer.echo(f"{exc.message} ({exc.code})", err=True)
        raise typer.Exit(2 if exc.status_code == 400 else 1) from None
    except CryptoError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def installation_id(installation: Installation) -> int:
    assert installation.id is not None
    return installation.id


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def time_text(value: str | None) -> str:
    return (value or "-")[:19].replace("T", " ")
