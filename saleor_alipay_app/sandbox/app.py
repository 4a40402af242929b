"""The sandbox as an ASGI app: one simulated Antom behind three routers.

- :mod:`.antom_api`: ``POST /ams/api/v1/...`` and ``POST /ams/sandbox/api/v1/...``, Antom's
  calls, signed both ways.
- :mod:`.wallet_api`: ``/wallet/...``, HTML pages where a tester plays the shopper.
- :mod:`.control_api`: ``/sandbox/api/...``, JSON endpoints for scripts and tests (README.md
  lists them).

The :class:`~.engine.Sandbox` lives in ``app.state.sandbox``; the routers reach it through
:data:`.deps.SandboxDep`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from . import antom_api, control_api, wallet_api
from .antom_api import ENDPOINTS
from .config import SandboxConfig
from .deps import SCENARIO_HEADER
from .engine import Sandbox, SandboxError

__all__ = ["ENDPOINTS", "SCENARIO_HEADER", "create_sandbox_app"]


def create_sandbox_app(config: SandboxConfig) -> FastAPI:
    """A fresh simulated Antom; its state lives as long as the app (or in ``config.db_path``)."""
    app = FastAPI(
        title="Antom sandbox",
        description="A simulated Antom (Scan to Bind / Auto Debit) with a test wallet.",
        lifespan=_lifespan,
        # A path no route takes is answered, never redirected: under /ams/ it is Antom's
        # NO_INTERFACE_DEF (a signed call to `/ams/api/v1/.` was a 307).
        redirect_slashes=False,
        exception_handlers={
            SandboxError: _sandbox_error,
            404: _not_found,
            RequestValidationError: _invalid,
        },
    )
    app.state.sandbox = Sandbox(config)
    app.include_router(antom_api.router)
    app.include_router(wallet_api.router)
    app.include_router(control_api.router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    sandbox: Sandbox = app.state.sandbox
    await sandbox.start()
    try:
        yield
    finally:
        await sandbox.stop()


async def _not_found(request: Request, exc: Exception) -> Response:
    """No route: under ``/ams/`` (a path the API routes cannot take, such as one with a line
    break) Antom's unsigned ``NO_INTERFACE_DEF``, as for an API it does not define; elsewhere
    ``{"detail": ...}``."""
    if request.url.path.startswith("/ams/"):
        return antom_api.no_interface()
    detail = exc.detail if isinstance(exc, HTTPException) else "Not Found"
    return JSONResponse({"detail": detail}, status_code=404)


async def _invalid(_request: Request, exc: Exception) -> Response:
    """FastAPI's 422 without echoing the input: an input holding ``inf`` or ``NaN`` (which
    Python's JSON reader takes) cannot be written back as JSON, and was a 500."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return JSONResponse({"detail": detail}, status_code=422)


async def _sandbox_error(request: Request, exc: SandboxError) -> Response:
    """A refusal of the wallet or the control API: an HTML page or ``{"detail": ...}``."""
    if request.url.path.startswith("/wallet"):
        return wallet_api.error_page(exc)
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
