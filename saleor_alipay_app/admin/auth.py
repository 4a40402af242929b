"""Authentication of the admin API behind the dashboard pages.

The Saleor dashboard hands the app's page a short-lived RS256 JWT (App Bridge handshake,
APP-PROTOCOL.md §2.1), signed with the same key as webhooks. Every admin request carries it as
`Authorization: Bearer <token>` with `Saleor-Api-Url`; it is verified against that
installation's JWKS (refetched once on an unknown key), its issuer, expiry, type and app, and the
staff member's permissions are read from the verified claims. Nothing the browser merely claims
is trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from saleor_alipay_app.errors import Forbidden, Invalid, Unauthorized
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.installations.repository import InstallationRepository, normalize_api_url
from saleor_alipay_app.installations.webhooks import keep_jwks, refresh_jwks
from saleor_alipay_app.payments.deps import Services, services_of
from saleor_alipay_app.saleor.jws import public_keys

log = logging.getLogger(__name__)

HANDLE_PAYMENTS = "HANDLE_PAYMENTS"
MANAGE_APPS = "MANAGE_APPS"
LEEWAY_SECONDS = 10


@dataclass(frozen=True)
class StaffUser:
    installation: Installation
    user_id: str | None
    email: str | None
    permissions: frozenset[str]

    @property
    def installation_id(self) -> int:
        assert self.installation.id is not None
        return self.installation.id


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "jwt") or not token.strip():
        token = request.headers.get("authorization-bearer", "")
        if not token.strip():
            raise Unauthorized("MISSING_TOKEN", "sign in through the Saleor dashboard")
    return token.strip()


def _key_for(jwks: dict[str, Any], kid: str | None) -> Any:
    key = public_keys(jwks).get(kid) if isinstance(kid, str) else None
    return key.key if key is not None else None


def _decode(token: str, key: Any, installation: Installation) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={"require": ["exp", "iat", "iss"], "verify_aud": False},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized(
            "TOKEN_EXPIRED", "the dashboard session expired: reload the page"
        ) from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("INVALID_TOKEN", f"token refused: {exc}") from None
    if normalize_api_url(str(claims.get("iss", ""))) != installation.saleor_api_url:
        raise Unauthorized("INVALID_TOKEN", "token issued by another Saleor")
    if claims.get("type") != "thirdparty" or claims.get("app") != installation.app_id:
        raise Unauthorized("INVALID_TOKEN", "token was not issued for this app")
    return claims


async def authenticate_staff(request: Request) -> StaffUser:
    services: Services = services_of(request)
    token = _bearer(request)
    api_url = request.headers.get("saleor-api-url")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Unauthorized("INVALID_TOKEN", "token is not a JWT") from None
    if header.get("alg") != "RS256":
        raise Unauthorized("INVALID_TOKEN", "token algorithm must be RS256")
    if not api_url:
        raise Invalid("MISSING_SALEOR_API_URL", "Saleor-Api-Url header is missing")
    async with services.sessions() as session:
        installation = await InstallationRepository(session).get_by_api_url(api_url)
    if installation is None:
        raise Unauthorized("UNKNOWN_INSTALLATION", f"the app is not installed in {api_url}")
    kid = header.get("kid")
    key = _key_for(installation.jwks or {}, kid)
    if key is None and isinstance(kid, str):
        fresh = await refresh_jwks(services, installation, kid)
        key = _key_for(fresh or {}, kid)
        if key is None:
            raise Unauthorized("INVALID_TOKEN", "token signed with an unknown key")
        assert fresh is not None
        claims = _decode(token, key, installation)
        await keep_jwks(services, installation, fresh)
    else:
        claims = _decode(token, key, installation)
    permissions = claims.get("user_permissions")
    if not isinstance(permissions, list):
        permissions = []
    email = claims.get("email")
    user_id = claims.get("user_id")
    return StaffUser(
        installation=installation,
        user_id=user_id if isinstance(user_id, str) else None,
        email=email if isinstance(email, str) else None,
        permissions=frozenset(str(p) for p in permissions),
    )


class AuthenticatedRoute(APIRoute):
    """Admin routes authenticate the caller before FastAPI reads or parses the request body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            request.state.staff = await authenticate_staff(request)
            return await handler(request)

        return authenticated


def require(*permissions: str) -> Callable[[Request], Awaitable[StaffUser]]:
    """A FastAPI dependency: an authenticated staff user holding every one of ``permissions``."""

    async def dependency(request: Request) -> StaffUser:
        staff = getattr(request.state, "staff", None)
        user = staff if isinstance(staff, StaffUser) else await authenticate_staff(request)
        missing = [p for p in permissions if p not in user.permissions]
        if missing:
            raise Forbidden(
                "PERMISSION_DENIED",
                "you need the " + " and ".join(missing) + " permission(s) in Saleor for this",
            )
        return user

    return dependency
