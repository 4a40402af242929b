"""The test wallet: ``/wallet/...`` pages where a tester plays the shopper.

The shopper sees waiting authorization requests, approves or declines one, and unbinds a
binding. The HTML itself is in :mod:`.wallet_page`; refusals (``SandboxError``) are shown as an
HTML page by :func:`error_page`.
"""

from __future__ import annotations

from html import escape
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from . import wallet_page
from .deps import SandboxDep, header_scenarios
from .engine import SandboxError
from .models import AuthSession, AuthStatus

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/wallet", status_code=307)


@router.get("/wallet")
async def home(sandbox: SandboxDep) -> HTMLResponse:
    """The authorization requests still waiting for the shopper, newest first."""
    pending = [
        s
        for s in sandbox.store.auth_sessions.values()
        if s.status is AuthStatus.CREATED and not sandbox.auth_expired(s)
    ]
    pending.sort(key=lambda s: s.created_at, reverse=True)
    return HTMLResponse(wallet_page.home_page(pending))


@router.get("/wallet/authorize")
async def authorize(
    sandbox: SandboxDep, auth_id: Annotated[str, Query(alias="authId")]
) -> HTMLResponse:
    """The page a consult's QR code opens: Approve / Decline."""
    session = sandbox.auth_by_id(auth_id)
    return HTMLResponse(
        wallet_page.authorize_page(
            session,
            expired=sandbox.auth_expired(session),
            bindings_link=_bindings_link(session),
        )
    )


@router.post("/wallet/authorize/{auth_id}/approve")
async def approve(auth_id: str, request: Request, sandbox: SandboxDep) -> RedirectResponse:
    session = sandbox.auth_by_id(auth_id)
    form = await _form(request)
    sandbox.approve(session, form.get("userLoginId"), header_scenarios(request))
    return _back_to(session)


@router.post("/wallet/authorize/{auth_id}/decline")
async def decline(auth_id: str, sandbox: SandboxDep) -> RedirectResponse:
    session = sandbox.auth_by_id(auth_id)
    sandbox.decline(session)
    return _back_to(session)


@router.get("/wallet/bindings")
async def bindings(
    sandbox: SandboxDep,
    wallet: str | None = None,
    user_login_id: Annotated[str | None, Query(alias="userLoginId")] = None,
) -> HTMLResponse:
    """A shopper's bindings, with Unbind buttons."""
    wallet = wallet or None
    user_login_id = (user_login_id or "").strip() or None
    found = sandbox.bindings(client_id=None, wallet=wallet, user_login_id=user_login_id)
    return HTMLResponse(
        wallet_page.bindings_page(found, wallet=wallet, user_login_id=user_login_id)
    )


@router.post("/wallet/bindings/{binding_id}/unbind")
async def unbind(binding_id: str, request: Request, sandbox: SandboxDep) -> RedirectResponse:
    binding = sandbox.binding(binding_id)
    sandbox.unbind(binding, None, header_scenarios(request))
    query = urlencode({"wallet": binding.wallet.value, "userLoginId": binding.user_login_id})
    return RedirectResponse(f"/wallet/bindings?{query}", status_code=303)


def error_page(exc: SandboxError) -> HTMLResponse:
    """A refused wallet action, as a page with a way back."""
    return HTMLResponse(
        f"<!doctype html><title>Sandbox wallet</title><p>{escape(exc.message)}</p>"
        "<p><a href='/wallet'>Back</a></p>",
        status_code=exc.status_code,
    )


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(raw).items() if values}


def _back_to(session: AuthSession) -> RedirectResponse:
    query = urlencode({"authId": session.auth_id})
    return RedirectResponse(f"/wallet/authorize?{query}", status_code=303)


def _bindings_link(session: AuthSession) -> str | None:
    if session.user_login_id is None:
        return None
    query = urlencode({"wallet": session.wallet.value, "userLoginId": session.user_login_id})
    return f"/wallet/bindings?{query}"
