"""Antom's API as the merchant sees it: ``POST /ams/[sandbox/]api/v1/...``, signed both ways.

Each request is authenticated as Antom does (client-id, key, signature), given its scenario,
handed to :meth:`~.engine.Sandbox.handle` and answered signed with Antom's key. Refusals of the
caller (unknown client, bad signature) and ``UNSIGNED_ERROR`` are answered unsigned.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from saleor_alipay_app.antom.signing import (
    SignatureError,
    parse_signature_header,
    sign,
    signature_header,
    verify,
)

from .clock import fmt_time
from .config import ApiCall, Scenario
from .deps import get_sandbox, header_scenarios
from .engine import CallContext, Merchant, Sandbox
from .protocol import AntomFailure, dump_json, message_for, parse_body, result

__all__ = ["ENDPOINTS", "no_interface", "router"]

ENDPOINTS: dict[str, ApiCall] = {
    "authorizations/consult": ApiCall.CONSULT,
    "authorizations/applyToken": ApiCall.APPLY_TOKEN,
    "authorizations/revoke": ApiCall.REVOKE,
    "payments/pay": ApiCall.PAY,
    "payments/inquiryPayment": ApiCall.INQUIRY_PAYMENT,
    "payments/cancel": ApiCall.CANCEL,
    "payments/refund": ApiCall.REFUND,
    "payments/inquiryRefund": ApiCall.INQUIRY_REFUND,
    "customs/declare": ApiCall.DECLARE,
    "customs/inquiryDeclarationRequests": ApiCall.INQUIRY_DECLARATION,
}

_FAULTS = frozenset({Scenario.UNKNOWN_EXCEPTION, Scenario.HANG, Scenario.HTTP_500})

router = APIRouter(include_in_schema=False)


async def _endpoint(request: Request) -> Response:
    return await _call(get_sandbox(request), request, request.path_params["endpoint"])


# Plain Starlette routes: the endpoint takes the raw request, so FastAPI's per-request work
# (solving dependencies, validating parameters) is skipped on the calls a load test makes.
for _path in ("/ams/api/v1/{endpoint:path}", "/ams/sandbox/api/v1/{endpoint:path}"):
    router.add_route(_path, _endpoint, methods=["POST"], include_in_schema=False)


async def _call(sandbox: Sandbox, request: Request, endpoint: str) -> Response:
    """Authenticate, pick the scenario, run the call and sign the answer."""
    raw = await request.body()
    path = request.url.path
    try:
        merchant = _authenticate(sandbox, request, path, raw)
    except _Refused as refused:
        return _unsigned(refused.code, refused.message)
    api_call = ENDPOINTS.get(endpoint)
    if api_call is None:
        return _signed(sandbox, merchant, path, {"result": result("NO_INTERFACE_DEF", "F")})
    header = header_scenarios(request)
    scenario = sandbox.scenarios.for_request(api_call, header)
    sandbox.settle_due()
    if scenario is Scenario.UNSIGNED_ERROR:
        return _unsigned("PROCESS_FAIL", "A general business failure occurred (sandbox).")
    context = CallContext(merchant, scenario, header, _base_url(sandbox, request))
    answer = await _run(sandbox, api_call, context, raw)
    if scenario is Scenario.HTTP_500:
        return PlainTextResponse("Internal Server Error", status_code=500)
    if scenario is Scenario.UNKNOWN_EXCEPTION or answer is None:
        answer = {"result": result("UNKNOWN_EXCEPTION", "U")}
    return _signed(sandbox, merchant, path, answer)


async def _run(
    sandbox: Sandbox, api_call: ApiCall, context: CallContext, raw: bytes
) -> dict[str, Any] | None:
    """The call's answer body, around the fault of its scenario (None: the call was not run).

    A fault on a write call happens after the work is done, so that an inquiry finds it;
    applyToken is the exception: its identical retry must still find the code unused.
    """

    def run() -> dict[str, Any]:
        try:
            return sandbox.handle(api_call, context, parse_body(raw))
        except AntomFailure as failure:
            return failure.body()

    fault_first = api_call is ApiCall.APPLY_TOKEN and context.scenario in _FAULTS
    answer = None if fault_first else run()
    if context.scenario is Scenario.HANG:
        await asyncio.sleep(sandbox.config.hang_seconds)
        if answer is None:
            answer = run()
    return answer


# -- signatures --------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _authenticate(sandbox: Sandbox, request: Request, path: str, raw: bytes) -> Merchant:
    """Check client-id, key and signature as Antom does; raise ``_Refused`` otherwise."""
    client_id = request.headers.get("client-id", "").strip()
    if not client_id:
        raise _Refused("UNKNOWN_CLIENT", "The client-id header is missing.")
    merchant = sandbox.merchant(client_id)
    if merchant is None:
        raise _Refused("UNKNOWN_CLIENT", "The client-id is not registered.")
    if merchant.public_key is None:
        raise _Refused("KEY_NOT_FOUND", "No public key is registered for this client-id.")
    request_time = request.headers.get("request-time", "").strip()
    header = request.headers.get("signature", "").strip()
    if not request_time or not header:
        raise _Refused("INVALID_SIGNATURE", "The request-time and signature headers are required.")
    try:
        parsed = parse_signature_header(header)
    except SignatureError:
        raise _Refused("INVALID_SIGNATURE", "The signature header is malformed.") from None
    if parsed.key_version is not None and parsed.key_version != merchant.record.key_version:
        raise _Refused("KEY_NOT_FOUND", "No key with this keyVersion.")
    try:
        verify(
            merchant.public_key,
            path=path,
            client_id=client_id,
            time=request_time,
            body=raw,
            signature=header,
        )
    except SignatureError:
        raise _Refused("INVALID_SIGNATURE", "The signature is not validated.") from None
    return merchant


def no_interface() -> Response:
    """The answer to a path that is no API (unsigned: no caller was authenticated)."""
    return _unsigned("NO_INTERFACE_DEF", message_for("NO_INTERFACE_DEF"))


def _unsigned(code: str, message: str, status: str = "F") -> Response:
    body = {"result": {"resultCode": code, "resultStatus": status, "resultMessage": message}}
    return Response(
        dump_json(body).encode("utf-8"),
        status_code=200,
        media_type="application/json; charset=UTF-8",
    )


def _signed(sandbox: Sandbox, merchant: Merchant, path: str, body: dict[str, Any]) -> Response:
    text = dump_json(body)
    response_time = fmt_time(sandbox.clock.now())
    value = sign(
        sandbox.antom_private_key,
        path=path,
        client_id=merchant.client_id,
        request_time=response_time,
        body=text,
    )
    return Response(
        text.encode("utf-8"),
        status_code=200,
        media_type="application/json; charset=UTF-8",
        headers={
            "client-id": merchant.client_id,
            "response-time": response_time,
            "signature": signature_header(value),
        },
    )


def _base_url(sandbox: Sandbox, request: Request) -> str:
    """Where a phone reaches the wallet page: ``public_url`` or the request's own base URL."""
    if sandbox.config.public_url:
        return sandbox.config.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")
