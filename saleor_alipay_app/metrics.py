"""Prometheus metrics: in-process counters and histograms, cheap enough for every request.

One process (`serve`): the metrics live in prometheus-client's default registry, with its process,
platform and garbage-collector collectors. Several worker processes (`serve --workers N`):
`serve` points ``PROMETHEUS_MULTIPROC_DIR`` at a folder before the workers start, every worker
writes its counters and histograms to memory-mapped files there, and a scrape, answered by any
worker, adds up the files of all of them (prometheus-client's multiprocess mode). The work still
pending (reports, payments, refunds) is not counted here: `/metrics` reads it from the database
at scrape time (`payments/monitoring.py`), which is right whatever the number of processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

MULTIPROC_DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
PREFIX: Final = "saleor_alipay"

# Saleor gives a sync webhook 20 s; Antom calls are bounded by ANTOM_CALL_TIMEOUT (10 s).
_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
# Antom re-sends a notification after 2 min, 10 min, ... (the lag grows with every re-send).
_LAG_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

WEBHOOK_SECONDS = Histogram(
    f"{PREFIX}_webhook_duration_seconds",
    "Time to answer a Saleor webhook, by event and result (the answer's result, or "
    "refused/invalid_payload/error).",
    ["event", "result"],
    buckets=_SECONDS,
)
ANTOM_CALL_SECONDS = Histogram(
    f"{PREFIX}_antom_call_duration_seconds",
    "Time of one call to Antom, from signing to a checked answer or a failure, by API.",
    ["api"],
    buckets=_SECONDS,
)
ANTOM_CALLS = Counter(
    f"{PREFIX}_antom_calls",
    "Calls to Antom by API, result status (S, F, U; UNAVAILABLE when no usable answer came "
    "back) and result code (Antom's, or why the answer was unusable: TIMEOUT, HTTP_STATUS...).",
    ["api", "result_status", "result_code"],
)
NOTIFICATIONS = Counter(
    f"{PREFIX}_antom_notifications",
    "Antom notifications received and verified, by kind and whether they were acknowledged.",
    ["kind", "result"],
)
NOTIFICATION_LAG_SECONDS = Histogram(
    f"{PREFIX}_antom_notification_lag_seconds",
    "From a notification's request-time header (when Antom sent it) to the end of its "
    "processing here.",
    ["kind"],
    buckets=_LAG_SECONDS,
)
SWEEPER_RUNS = Counter(
    f"{PREFIX}_sweeper_runs",
    "Sweeper rounds this app ran (rounds left to another process holding the lock excluded).",
)
SWEEPER_FAILURES = Counter(f"{PREFIX}_sweeper_failures", "Sweeper rounds that failed.")
SWEEPER_SECONDS = Histogram(
    f"{PREFIX}_sweeper_run_duration_seconds", "Time of one sweeper round.", buckets=_SECONDS
)
SWEEPER_LAST_SUCCESS = Gauge(
    f"{PREFIX}_sweeper_last_success_timestamp_seconds",
    "Unix time of the last sweeper round that finished without an error, in any process.",
    multiprocess_mode="max",
)
REFUSED = Counter(
    f"{PREFIX}_requests_refused",
    "Requests refused before any work, by source (webhook, notification) and reason "
    "(bad_signature, unknown_installation, bad_payload, wrong_recipient, too_large).",
    ["source", "reason"],
)

# Why a request was refused, from the AppError codes of the door.
REFUSAL_REASONS: Final = {
    "INVALID_SIGNATURE": "bad_signature",
    "MISSING_SIGNATURE": "bad_signature",
    "UNKNOWN_INSTALLATION": "unknown_installation",
    "MISSING_SALEOR_API_URL": "unknown_installation",
    "INVALID_PAYLOAD": "bad_payload",
    "EVENT_MISMATCH": "bad_payload",
    "RECIPIENT_MISMATCH": "wrong_recipient",
    "PAYLOAD_TOO_LARGE": "too_large",
}


def refused(source: str, code: str) -> None:
    REFUSED.labels(source, REFUSAL_REASONS.get(code, "other")).inc()


def observe_antom_call(api: str, started: float, result_status: str, result_code: str) -> None:
    """One call to Antom; ``started`` is its `time.monotonic()` start."""
    ANTOM_CALL_SECONDS.labels(api).observe(time.monotonic() - started)
    ANTOM_CALLS.labels(api, result_status, result_code).inc()


def observe_notification(kind: str, acknowledged: bool, request_time: str | None) -> None:
    NOTIFICATIONS.labels(kind, "acknowledged" if acknowledged else "not_acknowledged").inc()
    sent = _parse_time(request_time)
    if sent is not None:
        NOTIFICATION_LAG_SECONDS.labels(kind).observe(
            max(0.0, (datetime.now(UTC) - sent).total_seconds())
        )


def _parse_time(value: str | None) -> datetime | None:
    """Antom's request-time: ISO 8601 with an offset (``2024-03-01T12:00:00+08:00``)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@contextlib.contextmanager
def sweeper_round() -> Iterator[None]:
    """Count a round this process ran, its time, and its failure (the exception goes on)."""
    started = time.monotonic()
    SWEEPER_RUNS.inc()
    try:
        yield
    except asyncio.CancelledError:
        raise
    except Exception:
        SWEEPER_FAILURES.inc()
        raise
    finally:
        SWEEPER_SECONDS.observe(time.monotonic() - started)
    SWEEPER_LAST_SUCCESS.set(time.time())


# -- several worker processes --------------------------------------------------------------------


def multiprocess_dir() -> str | None:
    """The folder of the multiprocess mode, when this process writes its metrics there."""
    from prometheus_client import values

    path = os.environ.get(MULTIPROC_DIR_VARIABLE)
    return path if path and values.ValueClass is not values.MutexValue else None


def prepare_multiprocess_dir(path: Path) -> None:
    """Before the workers start: an existing folder, emptied of an earlier run's files (those of
    this process aside, which it may already hold open)."""
    path.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db"
    for stale in path.glob("*.db"):
        if not stale.name.endswith(own):
            stale.unlink(missing_ok=True)


def _process_gauges() -> dict[str, Gauge]:
    """The process metrics of a worker in multiprocess mode: one series per live worker (`pid`
    label). prometheus-client's process collector reads only the process that answers."""
    names = {
        "process_resident_memory_bytes": "Resident memory size in bytes.",
        "process_virtual_memory_bytes": "Virtual memory size in bytes.",
        "process_cpu_seconds_total": "Total user and system CPU time spent in seconds.",
        "process_open_fds": "Number of open file descriptors.",
        "process_start_time_seconds": "Start time of the process since unix epoch in seconds.",
    }
    # Written to this worker's files only: the default registry has the process collector.
    return {
        name: Gauge(name, text, multiprocess_mode="liveall", registry=None)
        for name, text in names.items()
    }


_PROCESS_GAUGES: dict[str, Gauge] = {}
_PROCESS = ProcessCollector(registry=None)


def sample_process() -> None:
    """Copy this worker's process metrics into its files (multiprocess mode only)."""
    if multiprocess_dir() is None:
        return
    if not _PROCESS_GAUGES:
        _PROCESS_GAUGES.update(_process_gauges())
    for family in _PROCESS.collect():
        gauge = _PROCESS_GAUGES.get(family.name) or _PROCESS_GAUGES.get(family.name + "_total")
        if gauge is not None and family.samples:
            gauge.set(family.samples[0].value)


async def sample_process_every(seconds: float) -> None:
    while True:
        try:
            sample_process()
        except Exception:  # never let metrics take a worker down
            log.exception("process metrics not sampled")
        await asyncio.sleep(seconds)


def worker_stopped() -> None:
    """Drop this worker's live series (its counters stay: totals never go down)."""
    path = multiprocess_dir()
    if path is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


# -- the scrape ----------------------------------------------------------------------------------


class _Scrape:
    """What one scrape answers: the metrics of this process (or of every worker), then
    ``extra``."""

    def __init__(self, source: Collector, extra: Iterable[Metric]) -> None:
        self._source = source
        self._extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from self._source.collect()
        yield from self._extra


def exposition(extra: Iterable[Metric] = ()) -> bytes:
    """The text of a scrape: this process's metrics (or every worker's), then ``extra``."""
    source: Collector = REGISTRY
    path = multiprocess_dir()
    if path is not None:
        from prometheus_client import multiprocess

        sample_process()
        source = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(source, path=path)  # type: ignore[no-untyped-call]
    return generate_latest(_Scrape(source, extra))
