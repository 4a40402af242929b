"""`POST /api/register`: Saleor's token handshake at installation (APP-PROTOCOL.md §2).

Saleor posts ``{"auth_token": ...}`` with its API URL in ``Saleor-Api-Url``. The URL must be
allowed; the token is proven by asking that Saleor ``{ app { id } }`` with it; the JWKS is fetched
and cached; then the installation is stored (token encrypted), replacing an earlier one.
Every refusal is ``{"error": {"message": ...}}``, which Saleor shows to the merchant.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from saleor_alipay_app import jsontext
from saleor_alipay_app.db import transaction
from saleor_alipay_app.errors import AppError, Forbidden, Invalid, TooLarge, Unavailable
from saleor_alipay_app.installations.deps import AppServices, app_services
from saleor_alipay_app.installations.repository import InstallationRepository, normalize_api_url
from saleor_alipay_app.saleor.client import SaleorError, SaleorUnavailable
from saleor_alipay_app.saleor.documents import saleor_minor
from saleor_alipay_app.saleor.jws import public_keys

log = logging.getLogger(__name__)
router = APIRouter(tags=["installation"])

MAX_REGISTER_BODY = 10_000


def _check_api_url(value: str | None, services: AppServices) -> str:
    if not value:
        raise Invalid("MISSING_SALEOR_API_URL", "Saleor-Api-Url header is missing")
    try:
        parts = urlsplit(value)
        usable = (
            value.isascii()  # `:８０` is port 80 to Python, and no URL to an HTTP client
            and parts.scheme in {"http", "https"}
            and bool(parts.hostname)
            and parts.port != 0
        )
    except ValueError:  # `http://[::1/`, a port that is no number or out of range
        usable = False
    if not usable:
        raise Invalid("INVALID_SALEOR_API_URL", f"Saleor-Api-Url {value!r} is not an http(s) URL")
    url = normalize_api_url(value)
    if not services.settings.saleor_url_allowed(url):
        raise Forbidden(
            "SALEOR_URL_PROHIBITED",
            f"This app does not accept installations from {url}. Ask the app's operator to add "
            "it to ALLOWED_SALEOR_API_URLS.",
        )
    return url


async def _read_token(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_REGISTER_BODY:
        raise TooLarge("PAYLOAD_TOO_LARGE", "registration body is too large")
    try:
        data = jsontext.loads(body, exact=False)
    except ValueError:
        raise Invalid("INVALID_BODY", "registration body is not JSON") from None
    token = data.get("auth_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise Invalid("MISSING_AUTH_TOKEN", "registration body has no auth_token")
    if len(token) > 255 or not (token.isascii() and token.isprintable()) or " " in token:
        # It goes into the Authorization header of our call to Saleor: non-ASCII or control
        # characters made building that request fail (a 500). Saleor's tokens are alphanumeric.
        raise Invalid("INVALID_AUTH_TOKEN", "auth_token is not a Saleor app token")
    return token


def _minor_text(version: str | None) -> str | None:
    """ "3.24" from Saleor's version as it gives it; None for anything else."""
    minor = saleor_minor(version)
    return f"{minor[0]}.{minor[1]}" if minor else None


async def register(request: Request) -> Response:
    services = app_services(request)
    api_url = _check_api_url(request.headers.get("saleor-api-url"), services)
    token = await _read_token(request)

    try:
        data = await services.saleor.execute(api_url, token, "queries/app_id.graphql")
    except SaleorUnavailable as exc:
        raise Unavailable(
            "SALEOR_UNREACHABLE",
            f"The app could not reach {api_url} to verify its token ({exc}). Check that the app "
            "can reach Saleor's API, then retry the installation.",
        ) from None
    except SaleorError:
        data = {}
    app = data.get("app")
    app_id = app.get("id") if isinstance(app, dict) else None
    if not isinstance(app_id, str) or not app_id:
        # An inactive app's token authenticates nothing, exactly like a bogus token.
        raise Forbidden(
            "UNKNOWN_APP_ID",
            "Saleor did not confirm the app token it sent: the app is probably installed "
            "inactive. Install it with activation enabled (or activate it), then retry.",
        )

    try:
        jwks = await services.saleor.fetch_jwks(api_url)
    except SaleorError as exc:
        raise Unavailable(
            "JWKS_UNAVAILABLE",
            f"The app could not fetch Saleor's signing keys ({exc}). Retry the installation.",
        ) from None
    if not public_keys(jwks):
        raise Unavailable(
            "JWKS_UNAVAILABLE", "Saleor's JWKS holds no RS256 key; retry the installation."
        )

    async with transaction(services.sessions) as session:
        installation = await InstallationRepository(session).save_installation(
            saleor_api_url=api_url,
            saleor_domain=request.headers.get("saleor-domain"),
            app_id=app_id,
            app_token=token,
            jwks=jwks,
            keys=services.keys,
            app_url=services.base_url(request),
            saleor_version=_minor_text(request.headers.get("saleor-schema-version")),
        )
    services.installations.clear()
    log.info("installed", extra={"saleor_api_url": api_url, "installation_id": installation.id})
    return JSONResponse({"success": True})


async def register_route(request: Request) -> Response:
    try:
        return await register(request)
    except AppError as exc:
        log.warning("installation refused", extra={"code": exc.code, "reason": exc.message})
        return exc.response()


router.add_api_route("/api/register", register_route, methods=["POST"])
