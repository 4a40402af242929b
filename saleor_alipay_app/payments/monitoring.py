"""`GET /metrics`: Prometheus' scrape.

The counters and histograms are the process's (or, with `serve --workers N`, every worker's:
`metrics.py`). The work still pending is read from the database at scrape time, one statement
(`PaymentsRepository.pending_work`): it is the same whichever process answers, survives restarts,
and costs nothing on the money paths. With `METRICS_TOKEN` set, a scrape must carry
`Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.exc import SQLAlchemyError

from saleor_alipay_app import metrics
from saleor_alipay_app.db import utcnow
from saleor_alipay_app.payments.deps import services_of
from saleor_alipay_app.payments.repository import PaymentsRepository

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

PendingWork = list[tuple[str, int, datetime | None]]


def _authorized(request: Request, token: str | None) -> bool:
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def pending_families(pending: PendingWork | None) -> Iterator[Metric]:
    """The pending-work gauges; ``None`` when the database did not answer (then only
    `saleor_alipay_pending_work_up` 0, rather than a failed scrape)."""
    up = GaugeMetricFamily(
        f"{metrics.PREFIX}_pending_work_up",
        "1 when the pending work below could be read from the database at this scrape.",
        value=0 if pending is None else 1,
    )
    yield up
    if pending is None:
        return
    rows = GaugeMetricFamily(
        f"{metrics.PREFIX}_pending_work",
        "Work awaiting an outcome, by kind: report (to Saleor, not confirmed yet), payment and "
        "refund (outcome unknown at Antom: PROCESSING).",
        labels=["kind"],
    )
    oldest = GaugeMetricFamily(
        f"{metrics.PREFIX}_pending_work_oldest_age_seconds",
        "Age of the oldest pending item of each kind (0 when there is none).",
        labels=["kind"],
    )
    now = utcnow()
    for kind, count, created_at in pending:
        rows.add_metric([kind], count)
        age = (now - created_at).total_seconds() if created_at is not None else 0.0
        oldest.add_metric([kind], max(0.0, age))
    yield rows
    yield oldest


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    services = services_of(request)
    if not _authorized(request, services.settings.metrics_token):
        return JSONResponse(
            status_code=401,
            content={
                "error": {
                    "code": "UNAUTHORIZED",
                    "message": "a valid bearer token is required (METRICS_TOKEN)",
                }
            },
            headers={"WWW-Authenticate": "Bearer"},
        )
    pending: PendingWork | None
    try:
        async with services.sessions() as session:
            pending = await PaymentsRepository(session).pending_work()
    except (SQLAlchemyError, OSError) as exc:
        log.warning("metrics: pending work unreadable", extra={"error": type(exc).__name__})
        pending = None
    return Response(
        content=metrics.exposition(pending_families(pending)),
        media_type=metrics.CONTENT_TYPE,
    )
