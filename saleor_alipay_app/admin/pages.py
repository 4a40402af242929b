"""Manifest, health checks and the app's public pages (home, support, privacy)."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from saleor_alipay_app.db import ping
from saleor_alipay_app.payments.deps import services_of
from saleor_alipay_app.saleor.manifest import app_version, build_manifest, static_manifest

router = APIRouter()
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


@router.get("/api/manifest", tags=["installation"])
async def manifest(request: Request) -> JSONResponse:
    services = services_of(request)
    return JSONResponse(build_manifest(services.base_url(request)))


@router.get("/healthz", tags=["operations"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["operations"])
async def readyz(request: Request) -> JSONResponse:
    services = services_of(request)
    try:
        await ping(services.engine)
    except (SQLAlchemyError, OSError) as exc:
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "database": type(exc).__name__},
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/static/logo.png", include_in_schema=False)
async def logo() -> FileResponse:
    return FileResponse(STATIC_DIR / "logo.png", media_type="image/png")


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;"
        "padding:0 1rem;line-height:1.5;color:#111}code{background:#f3f3f3;padding:0 .2em}</style>"
        f"</head><body>{body}</body></html>"
    )


@router.get("/", include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    services = services_of(request)
    static = static_manifest()
    manifest_url = services.base_url(request) + "/api/manifest"
    return _page(
        static["name"],
        f"<h1>{html.escape(static['name'])} {html.escape(app_version())}</h1>"
        f"<p>{html.escape(static['about'])}</p>"
        "<p>Install it in the Saleor dashboard (Apps → Install external app) with the manifest "
        f"URL <code>{html.escape(manifest_url)}</code>.</p>",
    )


@router.get("/support", include_in_schema=False)
async def support() -> HTMLResponse:
    return _page(
        "Support",
        "<h1>Support</h1><p>Read the README shipped with the app, then open an issue in the "
        "project's tracker with the app version, the Saleor version and the request id from the "
        "app's logs. Never send private keys or tokens.</p>",
    )


@router.get("/privacy", include_in_schema=False)
async def privacy() -> HTMLResponse:
    return _page(
        "Data privacy",
        "<h1>Data privacy</h1><p>The app stores, per installation: the Saleor API URL, the app "
        "token Saleor issued (encrypted), and Saleor's public keys. For payments it stores the "
        "Saleor customer id, the wallet and masked wallet login, the Antom access and refresh "
        "tokens (encrypted), and payment, refund and notification records. It never stores card "
        "data or wallet passwords. Secrets are encrypted with AES-256-GCM and never logged.</p>",
    )


# The dashboard pages: one HTML shell, a stylesheet and a script (no build step). The script
# performs App Bridge's handshake and calls the admin API with the dashboard's token.
DASHBOARD_ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)


@router.get("/dashboard", include_in_schema=False)
@router.get("/dashboard/{route:path}", include_in_schema=False)
async def dashboard(request: Request, route: str = "") -> Response:
    """The one page, at the app's root and at each of its routes (`/dashboard/payments/<id>`):
    the dashboard reloads the frame at the route the app last sent with `updateRouting`. Asset
    paths are relative (the app may be served under a prefix) and climb out of the route."""
    version = html.escape(app_version())
    path = request.url.path
    up = "../" * path[path.index("/dashboard") + len("/dashboard") :].count("/")
    return HTMLResponse(
        "<!doctype html><html lang='en' data-theme='light'><head><meta charset='utf-8'>"
        "<title>Alipay+ Scan to Bind</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<link rel='stylesheet' href='{up}static/dashboard.css?v={version}'>"
        f"<script defer src='{up}static/dashboard.js?v={version}'></script>"
        "</head><body><div id='app'></div></body></html>",
        headers={"Content-Security-Policy": DASHBOARD_CSP, "Cache-Control": "no-cache"},
    )


@router.get("/static/{name}", include_in_schema=False)
async def dashboard_asset(name: str) -> Response:
    media_type = DASHBOARD_ASSETS.get(name)
    if media_type is None:
        return Response(status_code=404)
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type + "; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


# The storefront widget: an ES module with its types, loaded from merchants' storefronts (any
# origin), and an example checkout page that runs it against a Saleor API URL.
STOREFRONT_ASSETS = {
    "scan-to-bind.js": ("scan-to-bind.js", "text/javascript"),
    "scan-to-bind.d.ts": ("scan-to-bind.d.ts", "application/typescript"),
    "example.js": ("storefront-example.js", "text/javascript"),
}
EXAMPLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'self'"
)


@router.get("/storefront/{name}", include_in_schema=False)
async def storefront_asset(name: str) -> Response:
    if name == "example":
        return _example_page()
    asset = STOREFRONT_ASSETS.get(name)
    if asset is None:
        return Response(status_code=404)
    file_name, media_type = asset
    return FileResponse(
        STATIC_DIR / file_name,
        media_type=media_type + "; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


def _example_page() -> HTMLResponse:
    field = "<label>{label} <input name='{name}' autocomplete='off'></label><br>"
    fields = "".join(
        field.format(label=label, name=name)
        for label, name in (
            ("Saleor API URL", "api"),
            ("Checkout id", "checkout"),
            ("Customer token (optional)", "token"),
            ("Channel (account page)", "channel"),
            ("Language (en, zh-CN)", "locale"),
        )
    )
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Scan to Bind: example checkout</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}</style>"
        "<script type='module' src='example.js'></script></head><body>"
        "<h1>Example checkout</h1>"
        f"<form id='setup' method='get' action='example'>{fields}"
        "<button type='submit'>Start</button></form>"
        "<section aria-labelledby='pay'><h2 id='pay'>Payment</h2><div id='checkout'></div>"
        "<p id='result' role='status'></p></section>"
        "<section aria-labelledby='acc'><h2 id='acc'>Account</h2><div id='account'></div></section>"
        "</body></html>",
        headers={"Content-Security-Policy": EXAMPLE_CSP, "Cache-Control": "no-cache"},
    )
