"""The composition root: the one place that builds what a process shares (the database, the key
ring, one HTTP pool per upstream, the Saleor client, the Antom client pool and the reporter).

The web app (`web.py`'s lifespan), every command (through `CommandOperator`, which `cli.py` puts in
typer's context) and the tests open the same `payments.deps.Services` with `open_services`. Only
the entry points import this module: the domains are handed what it builds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import typer

from saleor_alipay_app.channels.service import AntomClientPool
from saleor_alipay_app.config import ConfigError, Settings, load_settings
from saleor_alipay_app.crypto import load_key_ring
from saleor_alipay_app.db import create_engine, migrate_async, session_factory
from saleor_alipay_app.http import make_http_client
from saleor_alipay_app.logs import configure_logging
from saleor_alipay_app.payments.deps import PaymentDeps, Services
from saleor_alipay_app.payments.reporting import SaleorReporter
from saleor_alipay_app.saleor.client import SaleorClient


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


def cli_settings() -> Settings:
    """The settings for a command, with logging set up; a bad setting exits 2 saying why."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


class CommandOperator:
    """What a command is handed (`installations.cli.Operator`): settings and services."""

    def settings(self) -> Settings:
        return cli_settings()

    def services(self, settings: Settings) -> AbstractAsyncContextManager[Services]:
        return open_services(settings, migrate=True)
