"""Observability: `GET /metrics` (parsed as Prometheus does), the metrics a webhook, an Antom
call, a notification, a refusal and a sweeper round leave, the pending-work gauges read from the
database, and traces (an in-memory exporter) with the trace id in the log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from saleor_alipay_app import tracing
from saleor_alipay_app.config import Settings
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.logs import JsonFormatter
from saleor_alipay_app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReportStatus,
    SaleorReport,
)
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import (
    Stack,
    app_database,
    channel_config,
    qr_purchase,
    started_stack,
)

INIT = SyncEvent.TRANSACTION_INITIALIZE_SESSION
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(stack: Stack, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await stack.http.get(stack.url("/metrics"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


async def test_a_purchase_shows_in_the_metrics(stack: Stack) -> None:
    before = await scrape(stack)
    transaction_id, psp = await qr_purchase(stack)
    # The authorization notification ends after the report it made reached Saleor; the report
    # counts as pending until the app has stored Saleor's answer, just after the event exists.
    lag = "saleor_alipay_antom_notification_lag_seconds_count"
    for _ in range(100):
        after = await scrape(stack)
        if value(after, lag, kind="authorization") > value(
            before, lag, kind="authorization"
        ) and not value(after, "saleor_alipay_pending_work", kind="report"):
            break
        await asyncio.sleep(0.05)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # The webhook's histogram, by event and result.
    webhook = "saleor_alipay_webhook_duration_seconds"
    labels = {"event": INIT.value, "result": "CHARGE_ACTION_REQUIRED"}
    assert delta(f"{webhook}_count", **labels) == 1
    assert delta(f"{webhook}_bucket", le="+Inf", **labels) == 1
    assert delta(f"{webhook}_sum", **labels) > 0
    # Antom's calls: the QR code (consult), then the token and the charge once approved.
    calls = "saleor_alipay_antom_calls_total"
    for api in ("CONSULT", "APPLY_TOKEN", "PAY"):
        assert delta(calls, api=api, result_status="S", result_code="SUCCESS") >= 1, api
        assert delta("saleor_alipay_antom_call_duration_seconds_count", api=api) >= 1, api
    # Antom's authorization notification (acknowledged, or not yet when it came before the
    # report reached Saleor: Antom sends it again), with its lag.
    kind = "authorization"
    notifications = "saleor_alipay_antom_notifications_total"
    received = delta(notifications, kind=kind, result="acknowledged") + delta(
        notifications, kind=kind, result="not_acknowledged"
    )
    assert received >= 1
    assert delta(lag, kind=kind) >= 1
    # Nothing left pending; the process metrics are there.
    for kind in ("report", "payment", "refund"):
        assert value(after, "saleor_alipay_pending_work", kind=kind) == 0, kind
    assert value(after, "saleor_alipay_pending_work_up") == 1
    assert value(after, "process_resident_memory_bytes") > 0
    assert transaction_id
    assert psp


async def test_refusals_and_sweeper_rounds_are_counted(stack: Stack) -> None:
    before = await scrape(stack)
    payload = stack.saleor.payload(INIT, amount=Decimal("10.00"))
    forged = await stack.saleor.deliver(stack.url(INIT.path), INIT, payload, signature="x..y")
    assert forged.status_code == 401
    stranger = await stack.saleor.deliver(
        stack.url(INIT.path),
        INIT,
        payload,
        headers={"Saleor-Api-Url": "https://elsewhere.example.com/graphql/"},
    )
    assert stranger.status_code == 401
    unknown = await stack.http.post(stack.url("/api/antom/nope/notify/payment"), content=b"{}")
    assert unknown.status_code == 404
    runs = "saleor_alipay_sweeper_runs_total"
    for _ in range(50):  # the sweeper runs every 0.3 s here
        after = await scrape(stack)
        if value(after, runs) > value(before, runs):
            break
        await asyncio.sleep(0.1)

    refused = "saleor_alipay_requests_refused_total"
    for source, reason, count in (
        ("webhook", "bad_signature", 1),
        ("webhook", "unknown_installation", 1),
        ("notification", "unknown_installation", 1),
    ):
        got = value(after, refused, source=source, reason=reason)
        assert got - value(before, refused, source=source, reason=reason) == count, reason
    refused_webhooks = {"event": INIT.value, "result": "refused"}
    assert value(after, "saleor_alipay_webhook_duration_seconds_count", **refused_webhooks) >= 2
    assert value(after, runs) > value(before, runs)
    assert value(after, "saleor_alipay_sweeper_last_success_timestamp_seconds") > 0


async def test_pending_work_gauges_and_the_token(settings: Settings, tmp_path: Path) -> None:
    """The gauges come from the database at scrape time: rows any process wrote count."""
    guarded = settings.model_copy(update={"metrics_token": "scrape-secret"})
    async with started_stack(guarded, tmp_path, sweeper_interval=0) as stack:
        refused = await stack.http.get(stack.url("/metrics"))
        assert refused.status_code == 401
        wrong = await stack.http.get(
            stack.url("/metrics"), headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401

        config = await channel_config(stack)
        now = utcnow()
        async with app_database(stack) as sessions, sessions() as session:
            payments = [
                Payment(
                    installation_id=config.installation_id,
                    channel_config_id=config.id,
                    channel_slug="hk-web",
                    saleor_transaction_id=f"tx-{n}",
                    attempt=1,
                    payment_request_id=f"saa-metrics-{n}",
                    wallet="ALIPAY_HK",
                    currency="HKD",
                    amount=Decimal("10.00"),
                    amount_minor=1000,
                    status=status,
                    created_at=now - timedelta(seconds=age),
                    updated_at=now,
                )
                for n, (status, age) in enumerate(
                    [
                        (PaymentStatus.PROCESSING, 300),
                        (PaymentStatus.PROCESSING, 30),
                        (PaymentStatus.SUCCEEDED, 900),
                    ]
                )
            ]
            session.add_all(payments)
            await session.flush()
            session.add(
                Refund(
                    payment_id=payments[2].id,
                    installation_id=config.installation_id,
                    saleor_request_key="metrics-refund",
                    refund_request_id="saa-metrics-2-r1",
                    currency="HKD",
                    amount=Decimal("5.00"),
                    amount_minor=500,
                    status=RefundStatus.PROCESSING,
                    created_at=now - timedelta(seconds=120),
                    updated_at=now,
                )
            )
            session.add(
                SaleorReport(
                    installation_id=config.installation_id,
                    report_key="metrics-report",
                    saleor_transaction_id="tx-2",
                    event_type="CHARGE_SUCCESS",
                    psp_reference="saa-metrics-2",
                    status=ReportStatus.PENDING,
                    next_attempt_at=now + timedelta(hours=1),
                    created_at=now - timedelta(seconds=60),
                )
            )
            await session.commit()

        samples = await scrape(stack, token="scrape-secret")
        pending = "saleor_alipay_pending_work"
        oldest = "saleor_alipay_pending_work_oldest_age_seconds"
        assert value(samples, pending, kind="payment") == 2
        assert value(samples, pending, kind="refund") == 1
        assert value(samples, pending, kind="report") == 1
        assert 300 <= value(samples, oldest, kind="payment") < 400
        assert 120 <= value(samples, oldest, kind="refund") < 220
        assert 60 <= value(samples, oldest, kind="report") < 160


# -- traces ------------------------------------------------------------------------------------


@pytest.fixture
def spans() -> Iterator[Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.start(provider)
    try:
        yield exporter
    finally:
        tracing.stop()
        provider.shutdown()


async def test_a_webhook_is_traced_and_its_logs_carry_the_trace_id(
    spans: Any, settings: Settings, tmp_path: Path
) -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    antom_log = logging.getLogger("saleor_alipay_app.antom.client")
    antom_log.addHandler(handler)
    level = antom_log.level
    antom_log.setLevel(logging.INFO)
    try:
        async with started_stack(settings, tmp_path) as stack:
            payload, body = await stack.start_qr_payment()
    finally:
        antom_log.removeHandler(handler)
        antom_log.setLevel(level)
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body

    finished = spans.get_finished_spans()
    [webhook] = [s for s in finished if s.name == f"saleor webhook {INIT.value}"]
    attributes = dict(webhook.attributes)
    assert attributes["saleor.event"] == INIT.value
    assert attributes["saleor.transaction.id"] == payload["transaction"]["id"]
    assert attributes["antom.payment_request_id"] == body["pspReference"]
    trace_id = webhook.context.trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    kinds = {s.kind.name for s in in_trace}
    # FastAPI's server span is the webhook span's parent; SQL and the call to Antom its children.
    assert {"SERVER", "CLIENT"} <= kinds, [(s.name, s.kind) for s in in_trace]
    server = {s.context.span_id for s in in_trace if s.kind.name == "SERVER"}
    assert webhook.parent is not None
    assert webhook.parent.span_id in server
    # The call to Antom (aiohttp, under httpx) and SQL statements, inside the webhook's span.
    children = [s for s in in_trace if s.parent and s.parent.span_id == webhook.context.span_id]
    http_calls = [s for s in children if s.kind.name == "CLIENT" and s.name == "POST"]
    assert http_calls, [s.name for s in children]
    sql = [s for s in children if any(k.startswith("db.") for k in s.attributes or {})]
    assert sql, [s.name for s in children]

    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    consult = [e for e in logged if e["message"].startswith("antom CONSULT")]
    assert consult, logged
    assert consult[0]["trace_id"] == format(trace_id, "032x")
    assert "span_id" in consult[0]


def test_the_app_runs_without_the_extras(tmp_path: Path) -> None:
    """OpenTelemetry's SDK and instrumentations and sentry-sdk hidden: the app builds, logs,
    and says what is missing."""
    script = """
import sys, importlib.abc
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        # FastAPI itself needs opentelemetry-api; the extras bring the rest.
        hidden = ("opentelemetry.sdk", "opentelemetry.instrumentation", "sentry_sdk")
        if name.startswith(hidden):
            raise ImportError(name)
sys.meta_path.insert(0, Hide())
import logging
from saleor_alipay_app.config import Settings, ConfigError
from saleor_alipay_app.logs import configure_logging
from saleor_alipay_app.web import create_app
from saleor_alipay_app import tracing
configure_logging("INFO")
create_app(Settings(database_url="sqlite+aiosqlite:///%s"))
assert not tracing.active() and not tracing.installed()
logging.getLogger("check").warning("still logging")
try:
    create_app(Settings(database_url="sqlite+aiosqlite:///%s", sentry_dsn="https://k@o.invalid/1"))
except ConfigError as exc:
    print("refused:", exc)
"""
    database = tmp_path / "app.db"
    result = subprocess.run(
        [sys.executable, "-c", script % (database, database)],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "OpenTelemetry is not installed" in result.stderr
    assert "still logging" in result.stderr
    assert "pip install 'saleor-alipay-app[sentry]'" in result.stdout


def test_sentry_is_configured_without_local_variables_or_bodies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sentry_sdk

    seen: dict[str, Any] = {}
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: seen.update(options))
    assert not tracing.start_sentry(None, environment="production", release="1")
    assert tracing.start_sentry("https://key@o.invalid/1", environment="production", release="1")
    assert seen["send_default_pii"] is False
    assert seen["include_local_variables"] is False
    assert seen["max_request_body_size"] == "never"
    event = {"message": "token=abc123 failed", "extra": {"h": ["Bearer eyJ.secret"]}}
    scrubbed = seen["before_send"](event, {})
    assert "abc123" not in json.dumps(scrubbed)
    assert "eyJ.secret" not in json.dumps(scrubbed)
