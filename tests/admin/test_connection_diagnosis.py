"""The plain words of "Test connection" for answers the sandbox does not produce: a clock off
by minutes, unsigned answers, HTTP errors, answers that are not Antom's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_alipay_app.antom.client import AntomUnavailable, UnavailableReason
from saleor_alipay_app.antom.results import Call
from saleor_alipay_app.channels.diagnosis import (
    ConnectionCheck,
    clock_skew,
    diagnose_answer,
    diagnose_unavailable,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
URL = "https://open-sea-global.alipay.com"


def answer(
    code: str,
    *,
    verified: bool = True,
    offset: timedelta | None = None,
    message: str | None = None,
) -> ConnectionCheck:
    response_time = None
    if offset is not None:
        response_time = (NOW + offset).astimezone(UTC).isoformat()
    return diagnose_answer(
        result_code=code,
        result_message=message,
        verified=verified,
        response_time=response_time,
        url=URL,
        now=NOW,
    )


def unavailable(reason: UnavailableReason, status: int | None = None) -> AntomUnavailable:
    return AntomUnavailable(
        call=Call.INQUIRY_PAYMENT,
        reason=reason,
        detail="detail",
        trace_id="t",
        request_id="r",
        sent=True,
        status_code=status,
    )


def test_a_verified_order_not_exist_is_a_working_connection() -> None:
    check = answer("ORDER_NOT_EXIST", offset=timedelta(seconds=3))
    assert (check.ok, check.problem) == (True, "OK")


def test_a_clock_off_by_minutes_is_named() -> None:
    check = answer("ORDER_NOT_EXIST", offset=timedelta(minutes=-12))
    assert (check.ok, check.problem) == (False, "CLOCK")
    assert check.message.startswith("clock: this server's clock is about 12 minute(s) ahead of")
    behind = answer("INVALID_SIGNATURE", offset=timedelta(minutes=30))
    assert behind.problem == "CLOCK"
    assert "30 minute(s) behind" in behind.message
    by_words = answer("PARAM_ILLEGAL", message="request-time is expired")
    assert by_words.problem == "CLOCK"
    assert clock_skew("not a time") is None
    assert clock_skew("2026-11-26T12:00:00") is None  # no offset: unknown


def test_other_answers() -> None:
    assert answer("ORDER_NOT_EXIST", verified=False).problem == "UNSIGNED"
    assert answer("INVALID_SIGNATURE").problem == "PRIVATE_KEY"
    for code in ("KEY_NOT_FOUND", "UNKNOWN_CLIENT", "ACCESS_DENIED", "INVALID_CLIENT_STATUS"):
        check = answer(code)
        assert check.problem == "CLIENT_ID", code
        assert check.message.startswith(f"client id unknown: Antom answered {code}")
    assert answer("INVALID_API").problem == "URL"
    system = answer("SYSTEM_ERROR")
    assert system.problem == "ANTOM_ERROR"
    assert system.message.startswith("Antom answered SYSTEM_ERROR: Antom system error")


@pytest.mark.parametrize(
    ("reason", "status", "problem", "start"),
    [
        (UnavailableReason.SIGNATURE_REFUSED, 200, "ANTOM_PUBLIC_KEY", "Antom public key is wrong"),
        (UnavailableReason.CONNECTION_ERROR, None, "URL", "wrong region or URL: could not"),
        (UnavailableReason.TIMEOUT, None, "URL", "wrong region or URL: "),
        (UnavailableReason.HTTP_STATUS, 404, "URL", "wrong region or URL: "),
        (UnavailableReason.HTTP_STATUS, 502, "ANTOM_ERROR", "Antom answered HTTP 502"),
        (UnavailableReason.NOT_JSON, 200, "URL", "wrong region or URL: "),
        (UnavailableReason.BAD_RESPONSE, 200, "URL", "wrong region or URL: "),
    ],
)
def test_no_usable_answer(
    reason: UnavailableReason, status: int | None, problem: str, start: str
) -> None:
    check = diagnose_unavailable(unavailable(reason, status), URL)
    assert (check.ok, check.problem) == (False, problem)
    assert check.message.startswith(start), check.message
