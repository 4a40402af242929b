"""The control API (``/sandbox/api/...``): JSON endpoints with which tests and operators steer
and watch the simulated Antom (README.md lists them).

Merchants, the shopper's actions (approve, decline, unbind), payments, notifications, scenarios,
the clock and reconciliation reports. It has no authentication: serve it on loopback.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from saleor_alipay_app.antom.keys import (
    KeyFormatError,
    load_public_key,
    public_key_base64,
    public_key_pem,
)

from . import reports
from .clock import fmt_time
from .config import ApiCall, MerchantConfig, Scenario
from .control_views import (
    MAX_CLOCK_SHIFT,
    ApproveIn,
    ClockIn,
    DefaultScenarioIn,
    MerchantIn,
    ScenarioIn,
    UnbindIn,
    auth_json,
    binding_json,
    clock_json,
    merchant_json,
    notification_json,
    payment_json,
    scenarios_json,
)
from .deps import SandboxDep, header_scenarios
from .engine import Sandbox
from .models import AuthStatus

__all__ = ["router"]

router = APIRouter(prefix="/sandbox/api", tags=["sandbox"])

ClientId = Annotated[str | None, Query(alias="clientId")]


# -- merchants -----------------------------------------------------------------------------------


@router.get("/merchants")
async def list_merchants(sandbox: SandboxDep) -> list[dict[str, Any]]:
    """Registered merchants (client ids) and Antom's public key for them."""
    found = [sandbox.merchant(client_id) for client_id in sorted(sandbox.store.merchants)]
    return [merchant_json(sandbox, m) for m in found if m is not None]


@router.post("/merchants", status_code=201)
async def add_merchant(body: MerchantIn, sandbox: SandboxDep) -> dict[str, Any]:
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
    return merchant_json(sandbox, merchant)


@router.get("/antom-public-key")
async def antom_public_key(sandbox: SandboxDep) -> dict[str, str]:
    """The key merchants verify Antom's signatures with (base64 SPKI and PEM)."""
    key = sandbox.antom_private_key
    return {"base64": public_key_base64(key), "pem": public_key_pem(key)}


# -- the shopper ---------------------------------------------------------------------------------


@router.get("/authorizations")
async def list_authorizations(
    sandbox: SandboxDep, client_id: ClientId = None, status: AuthStatus | None = None
) -> list[dict[str, Any]]:
    """Authorization requests made by consult, newest first."""
    sessions = [
        s
        for s in sandbox.store.auth_sessions.values()
        if (client_id is None or s.client_id == client_id)
        and (status is None or s.status is status)
    ]
    sessions.sort(key=lambda s: s.created_at, reverse=True)
    return [auth_json(s) for s in sessions]


@router.get("/authorizations/{auth_state}")
async def get_authorization(
    auth_state: str, sandbox: SandboxDep, client_id: ClientId = None
) -> dict[str, Any]:
    return auth_json(sandbox.find_auth(auth_state, client_id))


@router.post("/authorizations/{auth_state}/approve")
async def approve(
    auth_state: str,
    request: Request,
    sandbox: SandboxDep,
    body: ApproveIn | None = None,
    client_id: ClientId = None,
) -> dict[str, Any]:
    """The shopper approves: returns the authCode; AUTHCODE_CREATED goes to the merchant."""
    session = sandbox.find_auth(auth_state, client_id)
    login = body.user_login_id if body is not None else None
    return sandbox.approve(session, login, header_scenarios(request))


@router.post("/authorizations/{auth_state}/decline")
async def decline(
    auth_state: str, sandbox: SandboxDep, client_id: ClientId = None
) -> dict[str, Any]:
    """The shopper declines (Antom sends nothing)."""
    return sandbox.decline(sandbox.find_auth(auth_state, client_id))


@router.get("/bindings")
async def list_bindings(
    sandbox: SandboxDep,
    client_id: ClientId = None,
    wallet: str | None = None,
    user_login_id: Annotated[str | None, Query(alias="userLoginId")] = None,
) -> list[dict[str, Any]]:
    """Bindings (agreements), newest first; tokens are never shown."""
    found = sandbox.bindings(client_id=client_id, wallet=wallet, user_login_id=user_login_id)
    return [binding_json(b) for b in found]


@router.post("/tokens/unbind")
async def unbind(body: UnbindIn, request: Request, sandbox: SandboxDep) -> dict[str, Any]:
    """The shopper unbinds in the wallet (by bindingId or accessToken): TOKEN_CANCELED."""
    if body.binding_id is not None:
        binding = sandbox.binding(body.binding_id)
    elif body.access_token is not None:
        binding = sandbox.binding_by_token(body.access_token)
    else:
        raise HTTPException(422, "bindingId or accessToken is required")
    return sandbox.unbind(binding, body.reason, header_scenarios(request))


# -- payments ------------------------------------------------------------------------------------


@router.get("/payments")
async def list_payments(
    sandbox: SandboxDep,
    client_id: ClientId = None,
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
    return [payment_json(p) for p in found]


# -- notifications -------------------------------------------------------------------------------


@router.get("/notifications")
async def list_notifications(
    sandbox: SandboxDep,
    client_id: ClientId = None,
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
    return [notification_json(n) for n in found]


@router.get("/notifications/{notification_id}")
async def get_notification(notification_id: str, sandbox: SandboxDep) -> dict[str, Any]:
    found = sandbox.store.notifications.get(notification_id)
    if found is None:
        raise HTTPException(404, "no such notification")
    return notification_json(found)


# -- scenarios -----------------------------------------------------------------------------------


@router.get("/scenario")
async def get_scenarios(sandbox: SandboxDep) -> dict[str, Any]:
    return scenarios_json(sandbox)


@router.post("/scenario")
async def queue_scenario(body: ScenarioIn, sandbox: SandboxDep) -> dict[str, Any]:
    """Give the next ``count`` matching calls (default: all it applies to) a scenario."""
    scenario = _parse_scenario(body.scenario)
    try:
        sandbox.scenarios.add_rule(scenario, body.calls, body.count)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return scenarios_json(sandbox)


@router.delete("/scenario")
async def clear_scenarios(sandbox: SandboxDep) -> dict[str, Any]:
    sandbox.scenarios.clear()
    return scenarios_json(sandbox)


@router.put("/scenario/default")
async def set_default_scenario(body: DefaultScenarioIn, sandbox: SandboxDep) -> dict[str, Any]:
    """The scenario of every call without a header or queued rule (like ``--scenario``)."""
    sandbox.scenarios.default = _parse_scenario(body.scenario)
    return scenarios_json(sandbox)


def _parse_scenario(name: str) -> Scenario:
    try:
        return Scenario.parse(name)
    except ValueError:
        raise HTTPException(422, f"unknown scenario {name[:64]!r}") from None


# -- clock ---------------------------------------------------------------------------------------


@router.get("/clock")
async def get_clock(sandbox: SandboxDep) -> dict[str, Any]:
    return clock_json(sandbox)


@router.post("/clock")
async def shift_clock(body: ClockIn, sandbox: SandboxDep) -> dict[str, Any]:
    """Move "now": ``advanceSeconds`` adds, ``offsetSeconds`` sets the offset to real time."""
    if body.advance_seconds is None and body.offset_seconds is None:
        raise HTTPException(422, "advanceSeconds or offsetSeconds is required")
    offset = (
        body.offset_seconds
        if body.offset_seconds is not None
        else sandbox.clock.offset.total_seconds()
    ) + (body.advance_seconds or 0.0)
    if abs(offset) > MAX_CLOCK_SHIFT:
        # Advances add up: past a century "now" would soon leave datetime's range (a 500).
        raise HTTPException(422, "the clock may move at most a century from real time")
    sandbox.shift_clock(advance=body.advance_seconds, offset=body.offset_seconds)
    sandbox.settle_due()
    return clock_json(sandbox)


# -- reports -------------------------------------------------------------------------------------


@router.get("/reports")
async def report_files(
    sandbox: SandboxDep,
    date_text: Annotated[str, Query(alias="date")],
    client_id: ClientId = None,
) -> dict[str, Any]:
    """The report files Antom would publish for the day, with Antom's default names."""
    day = _parse_date(date_text)
    files = reports.report_files(
        sandbox.store,
        day,
        _only_client(sandbox, client_id),
        settlement_delay_days=sandbox.config.settlement_delay_days,
    )
    return {
        "date": date_text,
        "files": [{"name": f.name, "kind": f.kind.value, "content": f.content} for f in files],
    }


@router.get("/reports/{kind}")
async def report(
    kind: reports.ReportKind,
    sandbox: SandboxDep,
    date_text: Annotated[str, Query(alias="date")],
    client_id: ClientId = None,
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


def _parse_date(text: str) -> date:
    try:
        return reports.parse_report_date(text)
    except ValueError:
        raise HTTPException(422, "date must be YYYYMMDD") from None


def _only_client(sandbox: Sandbox, client_id: str | None) -> str:
    """The merchant a report is for: the one named, else the only one there is."""
    if client_id is not None:
        if client_id not in sandbox.store.merchants:
            raise HTTPException(404, "unknown clientId")
        return client_id
    if len(sandbox.store.merchants) != 1:
        raise HTTPException(422, "several merchants: pass clientId")
    return next(iter(sandbox.store.merchants))


@router.get("/health")
async def health(sandbox: SandboxDep) -> dict[str, str]:
    return {"status": "ok", "now": fmt_time(sandbox.clock.now())}
