"""The sandbox as an ASGI app: Antom's API, the wallet page and the sandbox's own JSON API.

- ``POST /ams/api/v1/...`` and ``POST /ams/sandbox/api/v1/...``: Antom's calls, signed both ways.
- ``/wallet/...``: HTML pages where a tester plays the shopper.
- ``/sandbox/api/...``: JSON endpoints for scripts and tests (README.md lists them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from saleor_alipay_app.antom.keys import (
    KeyFormatError,
    load_public_key,
    public_key_base64,
    public_key_pem,
)
from saleor_alipay_app.antom.signing import (
    SignatureError,
    parse_signature_header,
    sign,
    signature_header,
    verify,
)
from saleor_alipay_app.antom.wallets import Wallet

from . import reports, wallet_page
from .clock import fmt_time
from .config import ApiCall, MerchantConfig, SandboxConfig, Scenario
from .engine import CallContext, Merchant, Sandbox, SandboxError
from .models import AuthSession, AuthStatus, Binding, Notification, Payment
from .protocol import AntomFailure, dump_json, mask_login_id, parse_body, result
from .scenarios import parse_header

__all__ = ["ENDPOINTS", "SCENARIO_HEADER", "create_sandbox_app"]

SCENARIO_HEADER = "x-sandbox-scenario"

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


def create_sandbox_app(config: SandboxConfig) -> FastAPI:
    """A fresh simulated Antom; its state lives as long as the app (or in ``config.db_path``)."""
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    app = FastAPI(
        title="Antom sandbox",
        description="A simulated Antom (Scan to Bind / Auto Debit) with a test wallet.",
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> Response:
        if request.url.path.startswith("/wallet"):
            return HTMLResponse(
                f"<!doctype html><title>Sandbox wallet</title><p>{escape(exc.message)}</p>"
                "<p><a href='/wallet'>Back</a></p>",
                status_code=exc.status_code,
            )
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    app.include_router(_antom_router(sandbox))
    app.include_router(_wallet_router(sandbox))
    app.include_router(_api_router(sandbox))
    return app


# =============================================================================================
# Antom's API
# =============================================================================================


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


def _base_url(sandbox: Sandbox, request: Request) -> str:
    if sandbox.config.public_url:
        return sandbox.config.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def _header_scenarios(request: Request) -> list[Scenario] | None:
    value = request.headers.get(SCENARIO_HEADER)
    if value is None:
        return None
    try:
        return parse_header(value)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def _antom_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def call(request: Request, endpoint: str) -> Response:
        raw = await request.body()
        path = request.url.path
        try:
            merchant = _authenticate(sandbox, request, path, raw)
        except _Refused as refused:
            return _unsigned(refused.code, refused.message)
        api_call = ENDPOINTS.get(endpoint)
        if api_call is None:
            return _signed(sandbox, merchant, path, {"result": result("NO_INTERFACE_DEF", "F")})
        header = _header_scenarios(request)
        scenario = sandbox.scenarios.for_request(api_call, header)
        sandbox.settle_due()
        if scenario is Scenario.UNSIGNED_ERROR:
            return _unsigned("PROCESS_FAIL", "A general business failure occurred (sandbox).")
        context = CallContext(merchant, scenario, header, _base_url(sandbox, request))

        def run() -> dict[str, Any]:
            try:
                return sandbox.handle(api_call, context, parse_body(raw))
            except AntomFailure as failure:
                return failure.body()

        # A fault on a write call happens after the work is done, so that an inquiry finds
        # it; applyToken is the exception: its identical retry must still find the code unused.
        fault_first = api_call is ApiCall.APPLY_TOKEN and scenario in _FAULTS
        answer = None if fault_first else run()
        if scenario is Scenario.HANG:
            await asyncio.sleep(sandbox.config.hang_seconds)
            if answer is None:
                answer = run()
        if scenario is Scenario.HTTP_500:
            return PlainTextResponse("Internal Server Error", status_code=500)
        if scenario is Scenario.UNKNOWN_EXCEPTION or answer is None:
            answer = {"result": result("UNKNOWN_EXCEPTION", "U")}
        return _signed(sandbox, merchant, path, answer)

    @router.post("/ams/api/v1/{endpoint:path}")
    async def production(request: Request, endpoint: str) -> Response:
        return await call(request, endpoint)

    @router.post("/ams/sandbox/api/v1/{endpoint:path}")
    async def sandbox_path(request: Request, endpoint: str) -> Response:
        return await call(request, endpoint)

    return router


# =============================================================================================
# the wallet page
# =============================================================================================


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(raw).items() if values}


def _bindings_link(session: AuthSession) -> str | None:
    if session.user_login_id is None:
        return None
    query = urlencode({"wallet": session.wallet.value, "userLoginId": session.user_login_id})
    return f"/wallet/bindings?{query}"


def _wallet_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse("/wallet", status_code=307)

    @router.get("/wallet")
    async def home() -> HTMLResponse:
        pending = [
            s
            for s in sandbox.store.auth_sessions.values()
            if s.status is AuthStatus.CREATED and not sandbox.auth_expired(s)
        ]
        pending.sort(key=lambda s: s.created_at, reverse=True)
        return HTMLResponse(wallet_page.home_page(pending))

    @router.get("/wallet/authorize")
    async def authorize(auth_id: Annotated[str, Query(alias="authId")]) -> HTMLResponse:
        session = sandbox.auth_by_id(auth_id)
        return HTMLResponse(
            wallet_page.authorize_page(
                session,
                expired=sandbox.auth_expired(session),
                bindings_link=_bindings_link(session),
            )
        )

    def back_to(session: AuthSession) -> RedirectResponse:
        query = urlencode({"authId": session.auth_id})
        return RedirectResponse(f"/wallet/authorize?{query}", status_code=303)

    @router.post("/wallet/authorize/{auth_id}/approve")
    async def approve(auth_id: str, request: Request) -> RedirectResponse:
        session = sandbox.auth_by_id(auth_id)
        form = await _form(request)
        sandbox.approve(session, form.get("userLoginId"), _header_scenarios(request))
        return back_to(session)

    @router.post("/wallet/authorize/{auth_id}/decline")
    async def decline(auth_id: str) -> RedirectResponse:
        session = sandbox.auth_by_id(auth_id)
        sandbox.decline(session)
        return back_to(session)

    @router.get("/wallet/bindings")
    async def bindings(
        wallet: str | None = None,
        user_login_id: Annotated[str | None, Query(alias="userLoginId")] = None,
    ) -> HTMLResponse:
        wallet = wallet or None
        user_login_id = (user_login_id or "").strip() or None
        found = sandbox.bindings(client_id=None, wallet=wallet, user_login_id=user_login_id)
        return HTMLResponse(
            wallet_page.bindings_page(found, wallet=wallet, user_login_id=user_login_id)
        )

    @router.post("/wallet/bindings/{binding_id}/unbind")
    async def unbind(binding_id: str, request: Request) -> RedirectResponse:
        binding = sandbox.binding(binding_id)
        sandbox.unbind(binding, None, _header_scenarios(request))
        query = urlencode({"wallet": binding.wallet.value, "userLoginId": binding.user_login_id})
        return RedirectResponse(f"/wallet/bindings?{query}", status_code=303)

    return router


# =============================================================================================
# the sandbox's JSON API
# =============================================================================================


class _In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class MerchantIn(_In):
    client_id: str = Field(min_length=1, max_length=64)
    public_key: str | None = None
    auth_notify_url: str | None = None
    payment_notify_url: str | None = None
    refund_notify_url: str | None = None
    merchant_id: str | None = None
    key_version: int = Field(default=1, ge=0)
    wallets: list[Wallet] | None = None


class ApproveIn(_In):
    user_login_id: str | None = Field(default=None, max_length=64)


class UnbindIn(_In):
    binding_id: str | None = None
    access_token: str | None = None
    reason: str | None = Field(default=None, max_length=256)


class ScenarioIn(_In):
    scenario: str
    calls: list[ApiCall] | None = None
    count: int = Field(default=1, ge=1)


class DefaultScenarioIn(_In):
    scenario: str


class ClockIn(_In):
    advance_seconds: float | None = None
    offset_seconds: float | None = None


def _merchant_json(sandbox: Sandbox, merchant: Merchant) -> dict[str, Any]:
    record = merchant.record
    return {
        "clientId": record.client_id,
        "merchantId": record.merchant_id,
        "hasPublicKey": merchant.public_key is not None,
        "keyVersion": record.key_version,
        "authNotifyUrl": record.auth_notify_url,
        "paymentNotifyUrl": record.payment_notify_url,
        "refundNotifyUrl": record.refund_notify_url,
        "wallets": None if record.wallets is None else [w.value for w in record.wallets],
        "antomPublicKey": public_key_base64(sandbox.antom_private_key),
    }


def _auth_json(session: AuthSession) -> dict[str, Any]:
    return {
        "authState": session.auth_state,
        "clientId": session.client_id,
        "wallet": session.wallet.value,
        "status": session.status.value,
        "authUrl": session.auth_url,
        "createdTime": fmt_time(session.created_at),
        "userLoginId": None
        if session.user_login_id is None
        else mask_login_id(session.user_login_id),
        "bindingId": session.binding_id,
    }


def _binding_json(binding: Binding) -> dict[str, Any]:
    return {
        "bindingId": binding.binding_id,
        "clientId": binding.client_id,
        "wallet": binding.wallet.value,
        "userLoginId": mask_login_id(binding.user_login_id),
        "userId": binding.user_id,
        "authState": binding.auth_state,
        "status": binding.status.value,
        "createdTime": fmt_time(binding.created_at),
        "endedTime": None if binding.ended_at is None else fmt_time(binding.ended_at),
        "accessTokenExpiryTime": fmt_time(binding.access_token_expiry),
    }


def _redacted(body: str) -> dict[str, Any]:
    """A notification body for display: access tokens are secrets, only their end is shown."""
    data: dict[str, Any] = json.loads(body)
    token = data.get("accessToken")
    if isinstance(token, str):
        data["accessToken"] = "****" + token[-4:]
    return data


def _payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "paymentId": payment.payment_id,
        "paymentRequestId": payment.payment_request_id,
        "clientId": payment.client_id,
        "wallet": payment.wallet.value,
        "amount": payment.amount.to_api(),
        "status": payment.status.value,
        "resultCode": payment.result_code,
        "createdTime": fmt_time(payment.create_time),
        "paymentTime": None if payment.payment_time is None else fmt_time(payment.payment_time),
        "cancelTime": None if payment.cancel_time is None else fmt_time(payment.cancel_time),
        "payRequests": payment.pay_requests,
    }


def _notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "notificationId": notification.notification_id,
        "clientId": notification.client_id,
        "kind": notification.kind.value,
        "url": notification.url,
        "reference": notification.reference,
        "status": notification.status.value,
        "createdTime": fmt_time(notification.created_at),
        "body": _redacted(notification.body),
        "attempts": [
            {
                "number": attempt.number,
                "time": fmt_time(attempt.at),
                "outcome": attempt.outcome,
                "httpStatus": attempt.http_status,
                "responseBody": attempt.response_body,
                "error": attempt.error,
            }
            for attempt in notification.attempts
        ],
    }


def _parse_scenario(name: str) -> Scenario:
    try:
        return Scenario.parse(name)
    except ValueError:
        raise HTTPException(422, f"unknown scenario {name[:64]!r}") from None


def _parse_date(text: str) -> date:
    try:
        return reports.parse_report_date(text)
    except ValueError:
        raise HTTPException(422, "date must be YYYYMMDD") from None


def _api_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix="/sandbox/api", tags=["sandbox"])

    # -- merchants ---------------------------------------------------------------------------

    @router.get("/merchants")
    async def list_merchants() -> list[dict[str, Any]]:
        """Registered merchants (client ids) and Antom's public key for them."""
        found = [sandbox.merchant(client_id) for client_id in sorted(sandbox.store.merchants)]
        return [_merchant_json(sandbox, m) for m in found if m is not None]

    @router.post("/merchants", status_code=201)
    async def add_merchant(body: MerchantIn) -> dict[str, Any]:
        """Register (or replace) a merchant: client id, public key (PEM or base64), URLs."""
        try:
            key = None if body.public_key is None else load_public_key(body.public_key)
        except KeyFormatError as exc:
            raise HTTPException(422, str(exc)) from None
        merchant = sandbox.add_merchant(
            MerchantConfig(
                client_id=body.client_id,
                public_key=key,
                auth_notify_url=body.auth_notify_url,
                payment_notify_url=body.payment_notify_url,
                refund_notify_url=body.refund_notify_url,
                merchant_id=body.merchant_id,
                key_version=body.key_version,
                wallets=None if body.wallets is None else frozenset(body.wallets),
            )
        )
        return _merchant_json(sandbox, merchant)

    @router.get("/antom-public-key")
    async def antom_public_key() -> dict[str, str]:
        """The key merchants verify Antom's signatures with (base64 SPKI and PEM)."""
        key = sandbox.antom_private_key
        return {"base64": public_key_base64(key), "pem": public_key_pem(key)}

    # -- the shopper ---------------------------------------------------------------------------

    @router.get("/authorizations")
    async def list_authorizations(
        client_id: Annotated[str | None, Query(alias="clientId")] = None,
        status: AuthStatus | None = None,
    ) -> list[dict[str, Any]]:
        """Authorization requests made by consult, newest first."""
        sessions = [
            s
            for s in sandbox.store.auth_sessions.values()
            if (client_id is None or s.client_id == client_id)
            and (status is None or s.status is status)
        ]
        sessions.sort(key=lambda s: s.created_at, reverse=True)
        return [_auth_json(s) for s in sessions]

    @router.get("/authorizations/{auth_state}")
    async def get_authorization(
        auth_state: str, client_id: Annotated[str | None, Query(alias="clientId")] = None
    ) -> dict[str, Any]:
        return _auth_json(sandbox.find_auth(auth_state, client_id))

    @router.post("/authorizations/{auth_state}/approve")
    async def approve(
        auth_state: str,
        request: Request,
        body: ApproveIn | None = None,
        client_id: Annotated[str | None, Query(alias="clientId")] = None,
    ) -> dict[str, Any]:
        """The shopper approves: returns the authCode; AUTHCODE_CREATED goes to the merchant."""
        session = sandbox.find_auth(auth_state, client_id)
        login = body.user_login_id if body is not None else None
        return sandbox.approve(session, login, _header_scenarios(request))

    @router.post("/authorizations/{auth_state}/decline")
    async def decline(
        auth_state: str, client_id: Annotated[str | None, Query(alias="clientId")] = None
    ) -> dict[str, Any]:
        """The shopper declines (Antom sends nothing)."""
        return sandbox.decline(sandbox.find_auth(auth_state, client_id))

    @router.get("/bindings")
    async def list_bindings(
        client_id: Annotated[str | None, Query(alias="clientId")] = None,
        wallet: str | None = None,
        user_login_id: Annotated[str | None, Query(alias="userLoginId")] = None,
    ) -> list[dict[str, Any]]:
        """Bindings (agreements), newest first; tokens are never shown."""
        found = sandbox.bindings(client_id=client_id, wallet=wallet, user_login_id=user_login_id)
        return [_binding_json(b) for b in found]

    @router.post("/tokens/unbind")
    async def unbind(body: UnbindIn, request: Request) -> dict[str, Any]:
        """The shopper unbinds in the wallet (by bindingId or accessToken): TOKEN_CANCELED."""
        if body.binding_id is not None:
            binding = sandbox.binding(body.binding_id)
        elif body.access_token is not None:
            binding = sandbox.binding_by_token(body.access_token)
        else:
            raise HTTPException(422, "bindingId or accessToken is required")
        return sandbox.unbind(binding, body.reason, _header_scenarios(request))

    # -- payments ------------------------------------------------------------------------------

    @router.get("/payments")
    async def list_payments(
        client_id: Annotated[str | None, Query(alias="clientId")] = None,
        payment_request_id: Annotated[str | None, Query(alias="paymentRequestId")] = None,
    ) -> list[dict[str, Any]]:
        """Payments made by `pay`, oldest first, each with ``payRequests``: how many `pay`
        requests named its paymentRequestId (1 when it was never repeated)."""
        found = [
            p
            for p in sandbox.store.payments.values()
            if (client_id is None or p.client_id == client_id)
            and (payment_request_id is None or p.payment_request_id == payment_request_id)
        ]
        found.sort(key=lambda p: (p.create_time, p.payment_id))
        return [_payment_json(p) for p in found]

    # -- notifications -------------------------------------------------------------------------

    @router.get("/notifications")
    async def list_notifications(
        client_id: Annotated[str | None, Query(alias="clientId")] = None,
        kind: ApiCall | None = None,
        reference: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every notification with each delivery attempt, oldest first."""
        found = [
            n
            for n in sandbox.store.notifications.values()
            if (client_id is None or n.client_id == client_id)
            and (kind is None or n.kind is kind)
            and (reference is None or n.reference == reference)
        ]
        found.sort(key=lambda n: n.notification_id)
        return [_notification_json(n) for n in found]

    @router.get("/notifications/{notification_id}")
    async def get_notification(notification_id: str) -> dict[str, Any]:
        found = sandbox.store.notifications.get(notification_id)
        if found is None:
            raise HTTPException(404, "no such notification")
        return _notification_json(found)

    # -- scenarios -----------------------------------------------------------------------------

    def scenarios_json() -> dict[str, Any]:
        return {
            "default": sandbox.scenarios.default.value,
            "queued": [rule.as_json() for rule in sandbox.scenarios.rules],
        }

    @router.get("/scenario")
    async def get_scenarios() -> dict[str, Any]:
        return scenarios_json()

    @router.post("/scenario")
    async def queue_scenario(body: ScenarioIn) -> dict[str, Any]:
        """Give the next ``count`` matching calls (default: all it applies to) a scenario."""
        scenario = _parse_scenario(body.scenario)
        try:
            sandbox.scenarios.add_rule(scenario, body.calls, body.count)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return scenarios_json()

    @router.delete("/scenario")
    async def clear_scenarios() -> dict[str, Any]:
        sandbox.scenarios.clear()
        return scenarios_json()

    @router.put("/scenario/default")
    async def set_default_scenario(body: DefaultScenarioIn) -> dict[str, Any]:
        """The scenario of every call without a header or queued rule (like ``--scenario``)."""
        sandbox.scenarios.default = _parse_scenario(body.scenario)
        return scenarios_json()

    # -- clock ---------------------------------------------------------------------------------

    def clock_json() -> dict[str, Any]:
        return {
            "now": fmt_time(sandbox.clock.now()),
            "offsetSeconds": sandbox.clock.offset.total_seconds(),
        }

    @router.get("/clock")
    async def get_clock() -> dict[str, Any]:
        return clock_json()

    @router.post("/clock")
    async def shift_clock(body: ClockIn) -> dict[str, Any]:
        """Move "now": ``advanceSeconds`` adds, ``offsetSeconds`` sets the offset to real time."""
        if body.advance_seconds is None and body.offset_seconds is None:
            raise HTTPException(422, "advanceSeconds or offsetSeconds is required")
        sandbox.shift_clock(advance=body.advance_seconds, offset=body.offset_seconds)
        sandbox.settle_due()
        return clock_json()

    # -- reports -------------------------------------------------------------------------------

    def only_client(client_id: str | None) -> str:
        if client_id is not None:
            if client_id not in sandbox.store.merchants:
                raise HTTPException(404, "unknown clientId")
            return client_id
        if len(sandbox.store.merchants) != 1:
            raise HTTPException(422, "several merchants: pass clientId")
        return next(iter(sandbox.store.merchants))

    @router.get("/reports")
    async def report_files(
        date_text: Annotated[str, Query(alias="date")],
        client_id: Annotated[str | None, Query(alias="clientId")] = None,
    ) -> dict[str, Any]:
        """The report files Antom would publish for the day, with Antom's default names."""
        day = _parse_date(date_text)
        files = reports.report_files(
            sandbox.store,
            day,
            only_client(client_id),
            settlement_delay_days=sandbox.config.settlement_delay_days,
        )
        return {
            "date": date_text,
            "files": [{"name": f.name, "kind": f.kind.value, "content": f.content} for f in files],
        }

    @router.get("/reports/{kind}")
    async def report(
        kind: reports.ReportKind,
        date_text: Annotated[str, Query(alias="date")],
        client_id: Annotated[str | None, Query(alias="clientId")] = None,
        currency: str | None = None,
    ) -> PlainTextResponse:
        """One report as CSV (transaction day, or settlement day for settlement reports)."""
        day = _parse_date(date_text)
        text = reports.report_csv(
            sandbox.store,
            kind,
            day,
            client_id=client_id,
            currency=currency,
            settlement_delay_days=sandbox.config.settlement_delay_days,
        )
        return PlainTextResponse(text, media_type="text/csv; charset=utf-8")

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "now": fmt_time(sandbox.clock.now())}

    return router
