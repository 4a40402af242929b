"""Fixtures of the admin API and dashboard tests: the whole stack, and staff tokens signed by
the Saleor double as the dashboard hands them to the app's page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments.models import Notification, NotificationKind
from tests.support.stack import Stack, app_rows, eventually, started_stack

EVERYTHING = ("HANDLE_PAYMENTS", "MANAGE_APPS")


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


def staff_headers(
    stack: Stack, permissions: Sequence[str] = EVERYTHING, **token: Any
) -> dict[str, str]:
    """What the dashboard page sends with every admin call."""
    jwt = stack.saleor.dashboard_token(user_permissions=list(permissions), **token)
    return {"Authorization": f"Bearer {jwt}", "Saleor-Api-Url": stack.saleor.api_url}


async def admin(
    stack: Stack,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    expect: int | None = 200,
    **kwargs: Any,
) -> Any:
    """Call ``/api/admin`` + ``path`` as a staff member with every permission (by default);
    checks the status (``expect``) and returns the JSON body."""
    response: httpx.Response = await stack.http.request(
        method, stack.url("/api/admin" + path), headers=headers or staff_headers(stack), **kwargs
    )
    if expect is not None:
        assert response.status_code == expect, response.text
    return response.json()


async def payment_notified(stack: Stack) -> None:
    """Wait until Antom's payment notification has been processed by the app (it may arrive
    after the synchronous answer): nothing moves the payment afterwards."""

    async def processed() -> bool:
        rows = await app_rows(stack, Notification, kind=NotificationKind.PAYMENT)
        return bool(rows) and all(r.processed_at is not None for r in rows)

    await eventually(processed, what="the payment notification processed")
