"""Correctly signed webhooks whose amounts are junk: a clear 400 that stores nothing, never a 500
or a dropped connection (found by issue 11's report: `decimal.InvalidOperation` escaped as 500)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments.models import Payment, Refund
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import Stack, app_rows, qr_purchase, started_stack

JUNK: list[Any] = [
    "abc",
    "",
    " ",
    "1e999999",
    "-1e999999",
    "1e-999999",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "1_000",
    {"amount": "1.00"},
    ["1.00"],
    None,
    True,
]


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


def _with_amount(payload: dict[str, Any], value: Any) -> bytes:
    changed = json.loads(json.dumps(payload, default=str))
    changed["action"]["amount"] = value
    return json.dumps(changed).encode()


def _with_raw_amount(payload: dict[str, Any], text: str) -> bytes:
    """JSON that Python's json module would never write: a number literal, NaN, Infinity."""
    changed = json.loads(json.dumps(payload, default=str))
    changed["action"]["amount"] = "__AMOUNT__"
    return json.dumps(changed).encode().replace(b'"__AMOUNT__"', text.encode())


@pytest.mark.parametrize(
    "event",
    [
        SyncEvent.TRANSACTION_INITIALIZE_SESSION,
        SyncEvent.TRANSACTION_CHARGE_REQUESTED,
        SyncEvent.TRANSACTION_REFUND_REQUESTED,
    ],
)
async def test_junk_amounts_are_refused_and_change_nothing(stack: Stack, event: SyncEvent) -> None:
    _, psp = await qr_purchase(stack)
    payments, refunds = len(await app_rows(stack, Payment)), len(await app_rows(stack, Refund))
    payload = stack.saleor.payload(
        event,
        amount=Decimal("1.00"),
        transaction={"id": "VHJhbnNhY3Rpb25JdGVtOjE=", "pspReference": psp},
    )
    bodies = [_with_amount(payload, value) for value in JUNK] + [
        _with_raw_amount(payload, text)
        for text in ("NaN", "Infinity", "-Infinity", "1e400", "1" * 5000)
    ]
    for body in bodies:
        response = await stack.saleor.deliver(stack.url(event.path), event, body)
        assert response.status_code == 400, (
            body[body.find(b'"action"') :][:120],
            response.text[:300],
        )
    assert len(await app_rows(stack, Payment)) == payments
    assert len(await app_rows(stack, Refund)) == refunds
