"""The sandbox's notion of "now": real time plus an offset that tests may move forward or back.

Every business time (authCode age, token expiry, cancel and refund windows, declaration
progress, timestamps in answers and reports) reads this clock. Notification re-sends and the
HANG scenario use real time, since they are about waiting, not about dates.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["ANTOM_TZ", "SandboxClock", "fmt_time", "new_digits", "parse_time"]

# Antom answers with times in UTC+8 (its reports cut off days at 23:59:59 UTC+8).
ANTOM_TZ = timezone(timedelta(hours=8))


class SandboxClock:
    def __init__(self, offset: timedelta | None = None) -> None:
        self.offset = offset or timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def set_offset(self, seconds: float) -> None:
        self.offset = timedelta(seconds=seconds)


def fmt_time(moment: datetime) -> str:
    """ISO-8601 with offset, seconds precision, in UTC+8: ``2024-03-01T12:00:00+08:00``."""
    return moment.astimezone(ANTOM_TZ).replace(microsecond=0).isoformat()


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 time with an offset; raise ``ValueError`` otherwise."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time has no UTC offset")
    return moment


def new_digits(count: int) -> str:
    """``count`` random decimal digits (one draw, not one per digit)."""
    return f"{secrets.randbelow(10**count):0{count}d}"
