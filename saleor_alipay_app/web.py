"""The FastAPI app factory: routers, lifespan and the clients one process shares."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from saleor_alipay_app import metrics, tracing
from saleor_alipay_app.admin import endpoints as admin
from saleor_alipay_app.admin import pages
from saleor_alipay_app.composition import open_services
from saleor_alipay_app.config import (
    ConfigError,
    Settings,
    get_settings,
    warn_development_defaults,
)
from saleor_alipay_app.customs import endpoints as customs_endpoints
from saleor_alipay_app.errors import AppError, Invalid
from saleor_alipay_app.faults import ARMED, CRASH_AT_VARIABLE, CRASH_POINTS
from saleor_alipay_app.installations import endpoints as register
from saleor_alipay_app.logs import configure_logging
from saleor_alipay_app.overview import endpoints as overview_endpoints
from saleor_alipay_app.payments import endpoints as antom_notifications
from saleor_alipay_app.payments import monitoring, status_stream
from saleor_alipay_app.payments.sweeper import Sweeper
from saleor_alipay_app.payments.webhooks import router as payment_webhooks
from saleor_alipay_app.reconciliation import endpoints as reconciliation_endpoints
from saleor_alipay_app.saleor.manifest import app_version

log = logging.getLogger(__name__)

# How often each worker copies its process metrics (memory, CPU) for the others' scrapes.
PROCESS_SAMPLE_SECONDS = 10.0


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    settings = settings or get_settings()
    if ARMED is not None and ARMED not in CRASH_POINTS:
        raise ConfigError(
            f"{CRASH_AT_VARIABLE}={ARMED!r} names no crash point; use one of "
            + ", ".join(sorted(CRASH_POINTS))
        )
    try:
        tracing.start_sentry(
            settings.sentry_dsn, environment=settings.app_env.value, release=app_version()
        )
    except tracing.SentryMissing as exc:
        raise ConfigError(str(exc)) from None
    tracing.start_from_environment()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warn_development_defaults(settings, log)
        if ARMED is not None:
            log.warning("testing hook armed: this process kills itself at crash point %s", ARMED)
        async with open_services(settings, migrate=run_migrations) as services:
            app.state.services = services
            tracing.instrument_engine(services.engine)
            sweeper = Sweeper(services.payments, interval=settings.sweeper_interval)
            sweeper.start()
            sampler = (
                asyncio.create_task(metrics.sample_process_every(PROCESS_SAMPLE_SECONDS))
                if metrics.multiprocess_dir() is not None
                else None
            )
            log.info("app started", extra={"version": app_version(), "env": settings.app_env.value})
            try:
                yield
            finally:
                await sweeper.stop()
                if sampler is not None:
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
                metrics.worker_stopped()

    app = FastAPI(
        title="saleor-alipay-app",
        version=app_version(),
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )

    @app.exception_handler(AppError)
    async def api_error(_request: Request, exc: AppError) -> Response:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        """FastAPI's own refusals (no route, a body it cannot read) in the same form too."""
        code = "NOT_FOUND" if exc.status_code == 404 else "INVALID_REQUEST"
        return AppError(code, str(exc.detail), status=exc.status_code).response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """Malformed input answers in the same form as every other refusal."""
        problems = "; ".join(
            ".".join(str(part) for part in error["loc"] if part != "body") + ": " + error["msg"]
            for error in exc.errors()[:5]
        )
        return Invalid("INVALID_INPUT", f"invalid request: {problems}").response()

    app.include_router(pages.router)
    app.include_router(register.router)
    app.include_router(antom_notifications.router)
    app.include_router(payment_webhooks.build_router())
    app.include_router(status_stream.router)
    app.include_router(admin.router)
    app.include_router(overview_endpoints.router)
    app.include_router(customs_endpoints.router)
    app.include_router(reconciliation_endpoints.router)
    app.include_router(monitoring.router)
    tracing.instrument_app(app)
    return app


def worker_app() -> FastAPI:
    """The app of one `serve --workers N` process: settings from the environment, logging set
    up, migrations already applied by the parent."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings, run_migrations=False)
