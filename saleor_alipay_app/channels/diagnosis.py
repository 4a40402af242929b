"""Test connection: one real signed call with a configuration (nothing saved), and plain words for
what Antom answered: which of the client id, the keys, the URL or the clock to fix."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from saleor_alipay_app.antom.client import AntomClient, AntomUnavailable, UnavailableReason
from saleor_alipay_app.antom.models import InquiryPaymentRequest
from saleor_alipay_app.antom.results import Call, merchant_message
from saleor_alipay_app.channels.deps import ANTOM_BUDGET
from saleor_alipay_app.channels.schemas import ChannelConfigForm
from saleor_alipay_app.channels.service import (
    checked_config,
)
from saleor_alipay_app.crypto import KeyRing
from saleor_alipay_app.db import Sessions
from saleor_alipay_app.http import deadline_in

log = logging.getLogger(__name__)


CLOCK_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of one test call; ``problem`` names what to fix (OK when nothing)."""

    ok: bool
    problem: str
    message: str
    result_code: str | None = None
    detail: str | None = None
    elapsed_ms: int | None = None

    def view(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problem": self.problem,
            "message": self.message,
            "resultCode": self.result_code,
            "detail": self.detail,
            "elapsedMs": self.elapsed_ms,
        }


CLIENT_ID_CODES = frozenset(
    {
        "KEY_NOT_FOUND",
        "UNKNOWN_CLIENT",
        "ACCESS_DENIED",
        "INVALID_CLIENT_STATUS",
        "CLIENT_FORBIDDEN_ACCESS_API",
        "MERCHANT_NOT_REGISTERED",
    }
)


URL_CODES = frozenset({"INVALID_API", "NO_INTERFACE_DEF"})


_CLOCK_WORDS = ("request-time", "request time", "timestamp", "clock", "time expired")


def clock_skew(response_time: str | None, now: datetime | None = None) -> float | None:
    """Seconds between Antom's `response-time` and our clock (None when unknown)."""
    if not response_time:
        return None
    try:
        when = datetime.fromisoformat(response_time.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return ((now or datetime.now(UTC)) - when).total_seconds()


def _clock_message(skew: float) -> str:
    minutes = round(abs(skew) / 60)
    direction = "ahead of" if skew > 0 else "behind"
    return (
        f"clock: this server's clock is about {minutes} minute(s) {direction} Antom's. Antom "
        "refuses requests whose request-time is off; set the clock (NTP) and test again"
    )


def diagnose_answer(
    *,
    result_code: str,
    result_message: str | None,
    verified: bool,
    response_time: str | None,
    url: str,
    now: datetime | None = None,
) -> ConnectionCheck:
    """Plain words for Antom's answer to a signed inquiry of a payment that does not exist."""
    skew = clock_skew(response_time, now)
    text = (result_message or "").lower()
    if result_code == "ORDER_NOT_EXIST":
        if not verified:
            return ConnectionCheck(
                False,
                "UNSIGNED",
                "Antom accepted our signature and client id but sent an unsigned answer, so "
                "the Antom public key could not be checked",
                result_code,
            )
        if skew is not None and abs(skew) > CLOCK_TOLERANCE_SECONDS:
            return ConnectionCheck(False, "CLOCK", _clock_message(skew), result_code)
        return ConnectionCheck(
            True,
            "OK",
            "Connected: Antom accepted our signature and client id, and its signed answer "
            "verified with the Antom public key",
            result_code,
        )
    if (skew is not None and abs(skew) > CLOCK_TOLERANCE_SECONDS) or any(
        word in text for word in _CLOCK_WORDS
    ):
        return ConnectionCheck(
            False,
            "CLOCK",
            _clock_message(skew)
            if skew is not None
            else "clock: Antom refused the request time; set this server's clock (NTP)",
            result_code,
            result_message,
        )
    if result_code == "INVALID_SIGNATURE":
        return ConnectionCheck(
            False,
            "PRIVATE_KEY",
            "Antom rejected our signature: the private key does not match the public key "
            "uploaded to Antom",
            result_code,
            result_message,
        )
    if result_code in CLIENT_ID_CODES:
        return ConnectionCheck(
            False,
            "CLIENT_ID",
            f"client id unknown: Antom answered {result_code} (check the client id and that "
            f"it belongs to {url}; upload your public key in Antom Dashboard)",
            result_code,
            result_message,
        )
    if result_code in URL_CODES:
        return ConnectionCheck(
            False,
            "URL",
            f"wrong region or URL: {url} does not serve this API ({result_code})",
            result_code,
            result_message,
        )
    return ConnectionCheck(
        False,
        "ANTOM_ERROR",
        f"Antom answered {result_code}: {merchant_message(result_code)}",
        result_code,
        result_message,
    )


def diagnose_unavailable(exc: AntomUnavailable, url: str) -> ConnectionCheck:
    """Plain words for a call that brought back no usable answer."""
    match exc.reason:
        case UnavailableReason.SIGNATURE_REFUSED:
            return ConnectionCheck(
                False,
                "ANTOM_PUBLIC_KEY",
                "Antom public key is wrong: Antom answered, but its signature does not verify "
                "with the Antom public key entered (copy 'Antom public key' from Antom Dashboard)",
                detail=exc.detail,
            )
        case UnavailableReason.CONNECTION_ERROR:
            return ConnectionCheck(
                False,
                "URL",
                f"wrong region or URL: could not connect to {url}",
                detail=exc.detail,
            )
        case UnavailableReason.TIMEOUT | UnavailableReason.DEADLINE_EXCEEDED:
            return ConnectionCheck(
                False,
                "URL",
                f"wrong region or URL: {url} did not answer in time (or the network blocks it)",
                detail=exc.detail,
            )
        case UnavailableReason.HTTP_STATUS:
            if exc.status_code in (404, 405):
                return ConnectionCheck(
                    False,
                    "URL",
                    f"wrong region or URL: {url} answered HTTP {exc.status_code} (no Antom API "
                    "there)",
                    detail=exc.detail,
                )
            return ConnectionCheck(
                False,
                "ANTOM_ERROR",
                f"Antom answered HTTP {exc.status_code}: try again later; if it lasts, check "
                "the region or URL",
                detail=exc.detail,
            )
        case UnavailableReason.NOT_JSON | UnavailableReason.BAD_RESPONSE:
            return ConnectionCheck(
                False,
                "URL",
                f"wrong region or URL: {url} answered, but not as Antom does",
                detail=exc.detail,
            )


async def check_connection(
    sessions: Sessions,
    keys: KeyRing,
    http: httpx.AsyncClient,
    installation_id: int,
    slug: str,
    form: ChannelConfigForm,
    *,
    call_timeout: float = ANTOM_BUDGET,
) -> dict[str, Any]:
    """One real signed call with the configuration being tested (nothing is saved): an
    inquiry of a payment that cannot exist. ORDER_NOT_EXIST, signed and verified, proves the
    client id, both keys and the URL are right."""
    valid = await checked_config(sessions, keys, installation_id, slug, form)
    client = AntomClient(
        base_url=valid.base_url,
        client_id=valid.client_id,
        private_key=valid.private_key,
        antom_public_key=valid.public_key,
        http=http,
        sandbox=valid.sandbox,
        call_timeout=call_timeout,
    )
    request = InquiryPaymentRequest(payment_request_id="saa-test-" + secrets.token_hex(12))
    started = time.monotonic()
    try:
        response = await client.inquiry_payment(request, deadline=deadline_in(call_timeout))
    except AntomUnavailable as exc:
        check = diagnose_unavailable(exc, valid.base_url)
    else:
        result = response.model.result
        check = diagnose_answer(
            result_code=result.result_code,
            result_message=result.result_message,
            verified=response.verified,
            response_time=response.response_time,
            url=valid.base_url,
        )
    elapsed = int((time.monotonic() - started) * 1000)
    log.info(
        "connection tested",
        extra={"channel": slug, "problem": check.problem, "code": check.result_code},
    )
    return {
        **check.view(),
        "elapsedMs": elapsed,
        "clientId": valid.client_id,
        "url": valid.base_url + client.path_for(Call.INQUIRY_PAYMENT),
    }
