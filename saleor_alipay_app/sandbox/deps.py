"""What the sandbox's routers share: the simulated Antom serving a request, the scenario header.

``create_sandbox_app`` keeps its :class:`~.engine.Sandbox` in ``app.state.sandbox``; route
functions receive it as a :data:`SandboxDep` parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from .config import Scenario
from .engine import Sandbox
from .scenarios import parse_header

__all__ = ["SCENARIO_HEADER", "SandboxDep", "get_sandbox", "header_scenarios"]

SCENARIO_HEADER = "x-sandbox-scenario"


def get_sandbox(request: Request) -> Sandbox:
    """The simulated Antom of the app that received ``request``."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]


def header_scenarios(request: Request) -> list[Scenario] | None:
    """The scenarios named by the request's ``x-sandbox-scenario`` header (400 if unknown)."""
    value = request.headers.get(SCENARIO_HEADER)
    if value is None:
        return None
    try:
        return parse_header(value)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
