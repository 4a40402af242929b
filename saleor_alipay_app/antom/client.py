"""Async Antom client: signed calls, verified answers, and typed outcomes (API.md §1-3, §8).

One :class:`AntomClient` per Antom configuration, all sharing ONE long-lived
``httpx.AsyncClient`` per process (:func:`make_http_client`, on the ``httpx-aiohttp`` transport,
see ``bench/README.md``).

Every call either returns an :class:`AntomResponse` (a verified or acceptably unsigned answer,
with its :class:`~saleor_alipay_app.antom.results.Outcome`) or raises :class:`AntomUnavailable`
whose ``outcome`` is never a success nor a final failure: no answer, a timeout, HTTP≠200, a body
that is not JSON, or a signature that is missing or wrong all mean "unknown" (§8).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Generic, NoReturn, TypeVar
from urllib.parse import urlsplit

import aiohttp
import httpx
import pydantic
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.http import make_http_client
from saleor_alipay_app.metrics import observe_antom_call

from .models import (
    AntomModel,
    AntomResponseModel,
    ApplyTokenRequest,
    ApplyTokenResponse,
    CancelRequest,
    CancelResponse,
    ConsultRequest,
    ConsultResponse,
    DeclareRequest,
    DeclareResponse,
    InquiryDeclarationRequestsRequest,
    InquiryDeclarationRequestsResponse,
    InquiryPaymentRequest,
    InquiryPaymentResponse,
    InquiryRefundRequest,
    InquiryRefundResponse,
    PayRequest,
    PayResponse,
    RefundRequest,
    RefundResponse,
    RevokeRequest,
    RevokeResponse,
)
from .results import Call, Outcome, classify, unknown_outcome
from .signing import (
    SignatureError,
    header_value,
    now_request_time,
    sign,
    signature_header,
    verify,
)

__all__ = [
    "ENDPOINTS",
    "PRODUCTION_PREFIX",
    "REGION_DOMAINS",
    "SANDBOX_PREFIX",
    "AntomClient",
    "AntomResponse",
    "AntomUnavailable",
    "ResponseCheck",
    "UnavailableReason",
    "api_base",
    "check_response",
    "encode_body",
    "is_sandbox_client_id",
    "make_http_client",
    "signed_headers",
]

logger = logging.getLogger(__name__)

REGION_DOMAINS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "asia": "https://open-sea-global.alipay.com",
        "north_america": "https://open-na-global.alipay.com",
        "europe": "https://open-de-global.alipay.com",
        "us": "https://open.antglobal-us.com",
    }
)

PRODUCTION_PREFIX: Final = "/ams/api"
SANDBOX_PREFIX: Final = "/ams/sandbox/api"
SANDBOX_CLIENT_ID_PREFIX: Final = "SANDBOX_"

ENDPOINTS: Final[Mapping[Call, str]] = MappingProxyType(
    {
        Call.CONSULT: "/v1/authorizations/consult",
        Call.APPLY_TOKEN: "/v1/authorizations/applyToken",
        Call.REVOKE: "/v1/authorizations/revoke",
        Call.PAY: "/v1/payments/pay",
        Call.INQUIRY_PAYMENT: "/v1/payments/inquiryPayment",
        Call.CANCEL: "/v1/payments/cancel",
        Call.REFUND: "/v1/payments/refund",
        Call.INQUIRY_REFUND: "/v1/payments/inquiryRefund",
        Call.DECLARE: "/v1/customs/declare",
        Call.INQUIRY_DECLARATION: "/v1/customs/inquiryDeclarationRequests",
    }
)

CONTENT_TYPE: Final = "application/json; charset=UTF-8"
MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024


def is_sandbox_client_id(client_id: str) -> bool:
    """The official SDK switches to the sandbox path purely on this prefix (API.md §1)."""
    return client_id.startswith(SANDBOX_CLIENT_ID_PREFIX)


def api_base(domain: str, sandbox: bool) -> str:
    """``https://<domain>/ams/api`` or ``.../ams/sandbox/api``; ``domain`` may be a region key."""
    origin = REGION_DOMAINS.get(domain, domain).rstrip("/")
    if "://" not in origin:
        origin = f"https://{origin}"
    return origin + (SANDBOX_PREFIX if sandbox else PRODUCTION_PREFIX)


def encode_body(request: AntomModel) -> bytes:
    """Serialise a request once: compact JSON, ASCII-escaped (safe under any charset)."""
    return json.dumps(request.to_wire(), separators=(",", ":"), ensure_ascii=True).encode("ascii")


def signed_headers(
    private_key: rsa.RSAPrivateKey,
    *,
    client_id: str,
    path: str,
    body: bytes,
    request_time: str,
    key_version: int = 1,
) -> dict[str, str]:
    """The headers of a signed Antom POST (API.md §2)."""
    value = sign(
        private_key,
        method="POST",
        path=path,
        client_id=client_id,
        request_time=request_time,
        body=body,
    )
    return {
        "Content-Type": CONTENT_TYPE,
        "client-id": client_id,
        "request-time": request_time,
        "signature": signature_header(value, key_version),
    }


def _result_status(body: bytes) -> str | None:
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    result = data.get("result")
    if not isinstance(result, dict):
        return None
    status = result.get("resultStatus")
    return status if isinstance(status, str) else None


@dataclass(frozen=True)
class ResponseCheck:
    """How a response passed :func:`check_response`."""

    verified: bool
    """True: signed and the signature is valid. False: unsigned F/U, accepted by rule."""
    result_status: str | None = None


def check_response(
    public_key: rsa.RSAPublicKey,
    *,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    client_id: str,
) -> ResponseCheck:
    """Apply API.md §3 (the SDK 1.7.1 rule) to a response; raises :class:`SignatureError`.

    - ``signature`` and ``response-time`` both present: verify
      ``POST <path>\\n<client-id>.<response-time>.<body>`` (``client-id`` from the response,
      ours when absent);
    - both absent: accept only when ``result.resultStatus`` is F or U;
    - only one present: refuse.
    """
    signature = header_value(headers, "signature")
    response_time = header_value(headers, "response-time")
    if signature is None and response_time is None:
        status = _result_status(body)
        if status in ("F", "U"):
            return ResponseCheck(verified=False, result_status=status)
        raise SignatureError(
            f"unsigned response refused: only resultStatus F or U may come unsigned "
            f"(got {str(status)[:8]!r})"
        )
    if signature is None or response_time is None:
        missing = "signature" if signature is None else "response-time"
        raise SignatureError(f"incomplete signature headers: {missing} is missing")
    verify(
        public_key,
        method="POST",
        path=path,
        client_id=header_value(headers, "client-id") or client_id,
        time=response_time,
        body=body,
        signature=signature,
    )
    return ResponseCheck(verified=True, result_status=_result_status(body))


def _is_connect_failure(exc: BaseException) -> bool:
    """True when the connection could not be opened, so the request was never sent.

    httpx-aiohttp reports a refused connection as ``httpx.ConnectTimeout``; look at the cause.
    """
    if isinstance(exc, httpx.ConnectError):
        return True
    cause = exc.__cause__
    return isinstance(cause, aiohttp.ClientConnectorError) and not isinstance(cause, TimeoutError)


class UnavailableReason(StrEnum):
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    """The caller's time budget was spent before the request was sent."""
    TIMEOUT = "TIMEOUT"
    CONNECTION_ERROR = "CONNECTION_ERROR"
    HTTP_STATUS = "HTTP_STATUS"
    NOT_JSON = "NOT_JSON"
    SIGNATURE_REFUSED = "SIGNATURE_REFUSED"
    BAD_RESPONSE = "BAD_RESPONSE"
    """JSON that does not fit the response model (missing ``result``, malformed amount...)."""


class AntomUnavailable(Exception):
    """No usable answer from Antom. ``outcome`` is UNKNOWN_INQUIRE (pay/refund/cancel) or
    RETRY_SAME_REQUEST: never a success, never a final failure.

    ``sent`` is False only when the request never left (deadline already spent). The message
    and attributes carry no secrets; ``raw_body`` (Antom's answer, if any) is kept out of repr.
    """

    def __init__(
        self,
        *,
        call: Call,
        reason: UnavailableReason,
        detail: str,
        trace_id: str,
        request_id: str | None,
        sent: bool,
        status_code: int | None = None,
        raw_body: bytes | None = None,
    ) -> None:
        super().__init__(f"Antom {call} unavailable ({reason}): {detail}")
        self.call = call
        self.reason = reason
        self.detail = detail
        self.trace_id = trace_id
        self.request_id = request_id
        self.sent = sent
        self.status_code = status_code
        self.raw_body = raw_body
        self.outcome: Outcome = unknown_outcome(call)


ResponseT = TypeVar("ResponseT", bound=AntomResponseModel)


@dataclass(frozen=True)
class AntomResponse(Generic[ResponseT]):
    """A usable Antom answer."""

    call: Call
    model: ResponseT
    outcome: Outcome
    request_id: str | None
    """The request's Antom key: paymentRequestId, refundRequestId, authState, ... (None for
    applyToken and revoke, whose keys are secrets)."""
    trace_id: str
    """Our id for this HTTP exchange, in every log line about it."""
    path: str
    request_time: str
    status_code: int
    verified: bool
    """True when the response signature was checked; False for an unsigned F/U."""
    response_time: str | None = None
    raw_body: bytes = field(default=b"", repr=False)

    @property
    def result_code(self) -> str:
        return self.model.result.result_code

    @property
    def result_status(self) -> str:
        return self.model.result.result_status


_TRANSPORT_ERRORS: Final = (TimeoutError, httpx.HTTPError, aiohttp.ClientError, OSError)
"""What the transport raises when no usable HTTP answer came back."""


@dataclass(frozen=True)
class _Exchange:
    """One call to Antom: what every log line and :class:`AntomUnavailable` about it names."""

    call: Call
    request_id: str | None
    path: str
    trace_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.monotonic)

    def unavailable(
        self,
        reason: UnavailableReason,
        detail: str,
        *,
        sent: bool = True,
        status_code: int | None = None,
        raw_body: bytes | None = None,
    ) -> AntomUnavailable:
        """Log the failure, count it, and return the exception to raise."""
        observe_antom_call(self.call, self.started, "UNAVAILABLE", reason)
        logger.warning(
            "antom %s unavailable: %s (%s) trace_id=%s request_id=%s",
            self.call,
            reason,
            detail,
            self.trace_id,
            self.request_id,
        )
        return AntomUnavailable(
            call=self.call,
            reason=reason,
            detail=detail,
            trace_id=self.trace_id,
            request_id=self.request_id,
            sent=sent,
            status_code=status_code,
            raw_body=raw_body,
        )

    def refused(
        self, reason: UnavailableReason, detail: str, incoming: _Incoming
    ) -> AntomUnavailable:
        """:meth:`unavailable` for an answer that came back but cannot be used."""
        return self.unavailable(
            reason, detail, status_code=incoming.status_code, raw_body=incoming.body
        )


@dataclass(frozen=True)
class _Outgoing:
    """A built request: signed, with the time it may take."""

    exchange: _Exchange
    url: str
    body: bytes
    headers: Mapping[str, str]
    request_time: str
    budget: float


@dataclass(frozen=True)
class _Incoming:
    """Antom's HTTP answer, not yet checked."""

    status_code: int
    headers: httpx.Headers
    body: bytes
    elapsed_ms: float


class AntomClient:
    """Signed, verified, deadline-aware calls to Antom's Scan to Bind APIs.

    ``base_url`` is the gateway origin (``https://open-sea-global.alipay.com``, or a simulator's
    URL, optionally with a path prefix); the client appends ``/ams/api/v1/...`` or, in sandbox
    mode (``sandbox=True`` or a ``SANDBOX_`` client id), ``/ams/sandbox/api/v1/...``. The path
    signed is the path requested.
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        private_key: rsa.RSAPrivateKey,
        antom_public_key: rsa.RSAPublicKey,
        http: httpx.AsyncClient,
        sandbox: bool = False,
        call_timeout: float = 10.0,
        request_time: Callable[[], str] = now_request_time,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "base_url must be an http(s) URL such as https://open-sea-global.alipay.com"
            )
        if parts.query or parts.fragment:
            raise ValueError("base_url must not have a query or fragment")
        prefix_path = parts.path.rstrip("/")
        if prefix_path.endswith((PRODUCTION_PREFIX, SANDBOX_PREFIX)):
            raise ValueError(
                "base_url must be the gateway origin, without /ams/api or /ams/sandbox/api: "
                "the client adds the API prefix itself"
            )
        if not client_id:
            raise ValueError("client_id is required")
        if call_timeout <= 0:
            raise ValueError("call_timeout must be positive")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._prefix_path = prefix_path
        self.client_id = client_id
        self.sandbox = sandbox or is_sandbox_client_id(client_id)
        self._private_key = private_key
        self._public_key = antom_public_key
        self._http = http
        self.call_timeout = call_timeout
        self._request_time = request_time

    def __repr__(self) -> str:
        return f"AntomClient(base_url={self._origin + self._prefix_path!r}, sandbox={self.sandbox})"

    def path_for(self, call: Call) -> str:
        """The request path (and signed path) of ``call``."""
        api_prefix = SANDBOX_PREFIX if self.sandbox else PRODUCTION_PREFIX
        return f"{self._prefix_path}{api_prefix}{ENDPOINTS[call]}"

    # -- the calls -----------------------------------------------------------------------------

    async def consult(
        self, request: ConsultRequest, *, deadline: float | None = None
    ) -> AntomResponse[ConsultResponse]:
        return await self._call(
            Call.CONSULT, request, ConsultResponse, deadline, request.auth_state
        )

    async def apply_token(
        self, request: ApplyTokenRequest, *, deadline: float | None = None
    ) -> AntomResponse[ApplyTokenResponse]:
        """Both grant types: ``ApplyTokenRequest.with_auth_code`` / ``.with_refresh_token``."""
        return await self._call(Call.APPLY_TOKEN, request, ApplyTokenResponse, deadline, None)

    async def revoke(
        self, request: RevokeRequest, *, deadline: float | None = None
    ) -> AntomResponse[RevokeResponse]:
        return await self._call(Call.REVOKE, request, RevokeResponse, deadline, None)

    async def pay(
        self, request: PayRequest, *, deadline: float | None = None
    ) -> AntomResponse[PayResponse]:
        return await self._call(
            Call.PAY, request, PayResponse, deadline, request.payment_request_id
        )

    async def inquiry_payment(
        self, request: InquiryPaymentRequest, *, deadline: float | None = None
    ) -> AntomResponse[InquiryPaymentResponse]:
        key = request.payment_id or request.payment_request_id
        return await self._call(
            Call.INQUIRY_PAYMENT, request, InquiryPaymentResponse, deadline, key
        )

    async def cancel(
        self, request: CancelRequest, *, deadline: float | None = None
    ) -> AntomResponse[CancelResponse]:
        key = request.payment_request_id or request.payment_id
        return await self._call(Call.CANCEL, request, CancelResponse, deadline, key)

    async def refund(
        self, request: RefundRequest, *, deadline: float | None = None
    ) -> AntomResponse[RefundResponse]:
        return await self._call(
            Call.REFUND, request, RefundResponse, deadline, request.refund_request_id
        )

    async def inquiry_refund(
        self, request: InquiryRefundRequest, *, deadline: float | None = None
    ) -> AntomResponse[InquiryRefundResponse]:
        key = request.refund_id or request.refund_request_id
        return await self._call(Call.INQUIRY_REFUND, request, InquiryRefundResponse, deadline, key)

    async def declare(
        self, request: DeclareRequest, *, deadline: float | None = None
    ) -> AntomResponse[DeclareResponse]:
        return await self._call(
            Call.DECLARE, request, DeclareResponse, deadline, request.declaration_request_id
        )

    async def inquiry_declaration_requests(
        self, request: InquiryDeclarationRequestsRequest, *, deadline: float | None = None
    ) -> AntomResponse[InquiryDeclarationRequestsResponse]:
        key = ",".join(request.declaration_request_ids)
        return await self._call(
            Call.INQUIRY_DECLARATION, request, InquiryDeclarationRequestsResponse, deadline, key
        )

    # -- machinery: one exchange in connector steps ----------------------------------------------

    async def _call(
        self,
        call: Call,
        request: AntomModel,
        response_type: type[ResponseT],
        deadline: float | None,
        request_id: str | None,
    ) -> AntomResponse[ResponseT]:
        """Build the signed request, send it, then handle Antom's answer or the error."""
        exchange = _Exchange(call=call, request_id=request_id, path=self.path_for(call))
        outgoing = self._build_request(exchange, request, deadline)
        try:
            incoming = await self._send(outgoing)
        except _TRANSPORT_ERRORS as exc:
            _handle_error(outgoing, exc)
        return self._handle_response(outgoing, incoming, response_type)

    def _budget(self, deadline: float | None) -> float:
        if deadline is None:
            return self.call_timeout
        return min(self.call_timeout, deadline - time.monotonic())

    def _build_request(
        self, exchange: _Exchange, request: AntomModel, deadline: float | None
    ) -> _Outgoing:
        """Step 1: the time budget, then URL, body and signed headers.

        The budget is taken first: once the caller's deadline has passed, nothing is signed or
        sent.
        """
        budget = self._budget(deadline)
        if budget <= 0:
            raise exchange.unavailable(
                UnavailableReason.DEADLINE_EXCEEDED,
                "the caller's deadline had passed; the request was not sent",
                sent=False,
            )
        body = encode_body(request)
        request_time = self._request_time()
        headers = signed_headers(
            self._private_key,
            client_id=self.client_id,
            path=exchange.path,
            body=body,
            request_time=request_time,
        )
        return _Outgoing(
            exchange=exchange,
            url=self._origin + exchange.path,
            body=body,
            headers=headers,
            request_time=request_time,
            budget=budget,
        )

    async def _send(self, outgoing: _Outgoing) -> _Incoming:
        """Step 2: POST it, all within the budget; transport errors go to :func:`_handle_error`."""
        started = time.monotonic()
        async with asyncio.timeout(outgoing.budget):
            status_code, headers, body = await self._post(
                outgoing.url, outgoing.body, outgoing.headers, outgoing.budget
            )
        return _Incoming(
            status_code=status_code,
            headers=headers,
            body=body,
            elapsed_ms=(time.monotonic() - started) * 1000,
        )

    async def _post(
        self, url: str, body: bytes, headers: Mapping[str, str], budget: float
    ) -> tuple[int, httpx.Headers, bytes]:
        async with self._http.stream(
            "POST", url, content=body, headers=headers, timeout=httpx.Timeout(budget)
        ) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise httpx.ReadError(f"response larger than {MAX_RESPONSE_BYTES} bytes")
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    def _handle_response(
        self, outgoing: _Outgoing, incoming: _Incoming, response_type: type[ResponseT]
    ) -> AntomResponse[ResponseT]:
        """Step 3: HTTP 200, the signature (API.md §3), JSON, the model, then the outcome."""
        if incoming.status_code != 200:
            _handle_error(outgoing, incoming)
        exchange = outgoing.exchange
        check = self._check_signature(exchange, incoming)
        model = _parse_model(exchange, incoming, response_type)
        status, code = model.result.result_status, model.result.result_code
        outcome = classify(exchange.call, status, code)
        observe_antom_call(exchange.call, exchange.started, status, code)
        logger.info(
            "antom %s %s/%s -> %s in %.0f ms (signed=%s) trace_id=%s request_id=%s",
            exchange.call,
            status,
            code,
            outcome,
            incoming.elapsed_ms,
            check.verified,
            exchange.trace_id,
            exchange.request_id,
        )
        return AntomResponse(
            call=exchange.call,
            model=model,
            outcome=outcome,
            request_id=exchange.request_id,
            trace_id=exchange.trace_id,
            path=exchange.path,
            request_time=outgoing.request_time,
            status_code=incoming.status_code,
            verified=check.verified,
            response_time=header_value(incoming.headers, "response-time"),
            raw_body=incoming.body,
        )

    def _check_signature(self, exchange: _Exchange, incoming: _Incoming) -> ResponseCheck:
        try:
            return check_response(
                self._public_key,
                path=exchange.path,
                headers=incoming.headers,
                body=incoming.body,
                client_id=self.client_id,
            )
        except SignatureError as exc:
            raise exchange.refused(
                UnavailableReason.SIGNATURE_REFUSED, str(exc), incoming
            ) from None


def _parse_model(
    exchange: _Exchange, incoming: _Incoming, response_type: type[ResponseT]
) -> ResponseT:
    try:
        data = json.loads(incoming.body, parse_float=Decimal)
    except ValueError:
        raise exchange.refused(
            UnavailableReason.NOT_JSON, "the response body is not JSON", incoming
        ) from None
    try:
        return response_type.model_validate(data)
    except pydantic.ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors()[:5])
        raise exchange.refused(
            UnavailableReason.BAD_RESPONSE,
            f"the response does not fit {response_type.__name__} ({fields})",
            incoming,
        ) from None


def _handle_error(outgoing: _Outgoing, failure: BaseException | _Incoming) -> NoReturn:
    """Step 4: a transport error or an HTTP status other than 200 as :class:`AntomUnavailable`.

    Call it from the ``except`` block of a transport error, so that the error is chained.
    """
    exchange = outgoing.exchange
    if isinstance(failure, _Incoming):
        raise exchange.refused(
            UnavailableReason.HTTP_STATUS, f"HTTP {failure.status_code}", failure
        )
    if _is_connect_failure(failure):
        # Nothing was sent; the outcome stays "unknown" for the caller all the same.
        raise exchange.unavailable(
            UnavailableReason.CONNECTION_ERROR,
            f"could not connect ({type(failure.__cause__ or failure).__name__})",
            sent=False,
        ) from failure
    if isinstance(failure, TimeoutError | httpx.TimeoutException):
        raise exchange.unavailable(
            UnavailableReason.TIMEOUT, f"no answer within {outgoing.budget:.3f} s"
        ) from None
    raise exchange.unavailable(
        UnavailableReason.CONNECTION_ERROR, type(failure).__name__
    ) from failure
