"""OpenTelemetry traces and Sentry, both optional.

Traces need the `otel` extra (`pip install 'saleor-alipay-app[otel]'`) and are switched on by the
standard variables: an exporter (`OTEL_TRACES_EXPORTER=otlp` or `console`) or an OTLP endpoint
(`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless
`OTEL_SDK_DISABLED=true`. The SDK reads the rest itself (`OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`).
Then FastAPI (server spans), aiohttp (the transport under every httpx call to Saleor and Antom)
and SQLAlchemy are instrumented, each Saleor webhook has a span of its own, and every log line
carries the trace and span ids (`logs.py`).

Sentry needs the `sentry` extra and `SENTRY_DSN`. Without the extras the app runs as before;
every import of them is guarded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

SERVICE_NAME: Final = "saleor-alipay-app"
# Health checks and scrapes are not worth a trace each.
EXCLUDED_URLS: Final = "/healthz,/readyz,/metrics"


class SpanLike(Protocol):
    def set_attribute(self, key: str, value: str | int | float | bool) -> Any: ...


class _NoSpan:
    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        return None


_NO_SPAN: Final = _NoSpan()


class _Tracing:
    """What is switched on in this process."""

    provider: Any = None  # an opentelemetry.sdk.trace.TracerProvider
    tracer: Any = None
    aiohttp: Any = None  # the aiohttp instrumentor, to undo
    sqlalchemy = False  # an engine is instrumented (one per process), to undo


_STATE = _Tracing()


def installed() -> bool:
    try:
        import opentelemetry.sdk.trace  # noqa: F401
        from opentelemetry.instrumentation.aiohttp_client import (  # noqa: F401
            AioHttpClientInstrumentor,
        )
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: F401
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor  # noqa: F401
    except ImportError:
        return False
    return True


def wanted(environ: dict[str, str] | None = None) -> bool:
    """Whether the standard OTEL_* variables ask for traces."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def active() -> bool:
    return _STATE.tracer is not None


def start_from_environment() -> bool:
    """Switch traces on in this process when the OTEL_* variables ask for them (once)."""
    if active() or not wanted():
        return active()
    if not installed():
        log.warning(
            "OTEL_* variables ask for traces but OpenTelemetry is not installed: "
            "pip install 'saleor-alipay-app[otel]'"
        )
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    resource = Resource.create(
        {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    )
    provider = TracerProvider(resource=resource)
    exporters: list[SpanExporter] = []
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower()
    for name in (part.strip() for part in names.split(",")):
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name and name != "none":
            log.warning("OTEL_TRACES_EXPORTER %r is not supported (otlp, console): ignored", name)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    start(provider)
    log.info("traces on", extra={"exporters": ",".join(names.split(","))})
    return True


def start(provider: Any) -> None:
    """Trace with ``provider`` (an SDK `TracerProvider`): outbound HTTP from now on, and the apps
    and engines handed to `instrument_app` / `instrument_engine`. Tests hand in a provider with
    an in-memory exporter."""
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

    stop()
    _STATE.provider = provider
    _STATE.tracer = provider.get_tracer("saleor_alipay_app")
    _STATE.aiohttp = AioHttpClientInstrumentor()
    _STATE.aiohttp.instrument(tracer_provider=provider)


def stop() -> None:
    """Stop tracing in this process (outbound HTTP is no longer instrumented)."""
    if _STATE.aiohttp is not None:
        _STATE.aiohttp.uninstrument()
    if _STATE.sqlalchemy:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().uninstrument()
        _STATE.sqlalchemy = False
    _STATE.provider = _STATE.tracer = _STATE.aiohttp = None


def instrument_app(app: FastAPI) -> None:
    if not active():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_STATE.provider, excluded_urls=EXCLUDED_URLS
    )


def instrument_engine(engine: AsyncEngine) -> None:
    if not active():
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation's declared SQLAlchemy range lags behind (2.1 works): skip that check.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine,
        tracer_provider=_STATE.provider,
        enable_commenter=False,
        skip_dep_check=True,
    )
    _STATE.sqlalchemy = True


@contextmanager
def span(name: str, **attributes: str) -> Iterator[SpanLike]:
    """A span around a unit of work (a no-op object when traces are off)."""
    tracer = _STATE.tracer
    if tracer is None:
        yield _NO_SPAN
        return
    with tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


# -- Sentry ------------------------------------------------------------------------------------


class SentryMissing(Exception):
    """SENTRY_DSN is set but sentry-sdk is not installed."""


def start_sentry(dsn: str | None, *, environment: str, release: str) -> bool:
    """Send errors to Sentry when ``dsn`` is set. Local variables, request bodies and personal
    data are never sent, and every message goes through the log redaction first."""
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        raise SentryMissing(
            "SENTRY_DSN is set but sentry-sdk is not installed: "
            "pip install 'saleor-alipay-app[sentry]' (or unset SENTRY_DSN)"
        ) from None
    sentry_sdk.init(
        dsn=dsn,
        environment=os.environ.get("SENTRY_ENVIRONMENT", environment),
        release=os.environ.get("SENTRY_RELEASE", f"{SERVICE_NAME}@{release}"),
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=_scrub_event,
        before_breadcrumb=_scrub_breadcrumb,
    )
    return True


def _scrub(value: Any) -> Any:
    from saleor_alipay_app.logs import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _scrub_event(event: Any, _hint: Any) -> Any:
    return _scrub(event)


def _scrub_breadcrumb(crumb: Any, _hint: Any) -> Any:
    return _scrub(crumb)
