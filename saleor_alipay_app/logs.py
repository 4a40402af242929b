"""Structured (JSON) logs in which tokens and keys never appear.

Every record goes through `redact`, which masks bearer tokens, PEM blocks, bare base64 keys and
token-like JSON fields, whatever code wrote the record. With traces on (`tracing.py`), every line
written inside a span carries its `trace_id` and `span_id`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"-----BEGIN [A-Z ]*KEY-----.*?(-----END [A-Z ]*KEY-----|$)", re.S),
        "[REDACTED KEY]",
    ),
    (re.compile(r"(?i)\b(bearer|jwt)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [REDACTED]"),
    (
        re.compile(
            r"(?i)([\"']?(?:auth_token|authToken|accessToken|refreshToken|access_token|"
            r"refresh_token|authCode|auth_code|token|private_?key|password|secret)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\"',\s}]+"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"\bMII[A-Za-z0-9+/=]{60,}"), "[REDACTED KEY]"),
    (re.compile(r"enc:v1:[0-9a-f]{8}:[A-Za-z0-9+/=]+"), "[ENCRYPTED]"),
]

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colour codes
}


def _span_getter() -> Callable[[], Any] | None:
    try:  # OpenTelemetry is optional (the `otel` extra)
        from opentelemetry.trace import get_current_span
    except ImportError:
        return None
    return get_current_span


_CURRENT_SPAN = _span_getter()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if _CURRENT_SPAN is not None:
            context = _CURRENT_SPAN().get_span_context()
            if context.is_valid:
                entry["trace_id"] = format(context.trace_id, "032x")
                entry["span_id"] = format(context.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = (
                    value
                    if isinstance(value, int | float | bool) or value is None
                    else (redact(str(value)))
                )
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # Third-party libraries may log request bodies at DEBUG; keep them at WARNING at most.
    for noisy in ("gql", "httpx", "httpcore", "aiohttp", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
