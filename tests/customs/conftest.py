"""A stack with a CNY channel `cn-web` (Alipay CN, the wallet China customs is about) beside
`hk-web`, and helpers to pay in it and to call the admin API as a staff member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from saleor_alipay_app.config import Settings
from tests.support.saleor_double import Channel, global_id
from tests.support.stack import Stack, started_stack

CN_CHANNEL = "cn-web"


async def add_cn_channel(stack: Stack) -> None:
    stack.saleor.channels.append(Channel(global_id("Channel", 3), CN_CHANNEL, "China", "CNY"))
    await stack.configure(channel=CN_CHANNEL, wallets="ALIPAY_CN")


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        await add_cn_channel(running)
        yield running


async def cn_purchase(
    stack: Stack, amount: Decimal = Decimal("100.00"), login: str = "8613812345678"
) -> tuple[str, str]:
    """A paid Alipay CN purchase in `cn-web`: (Saleor transaction id, paymentRequestId)."""
    payload, body = await stack.start_qr_payment(
        amount, channel_slug=CN_CHANNEL, data={"wallet": "ALIPAY_CN"}
    )
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body
    transaction_id: str = payload["transaction"]["id"]
    await stack.approve(body["data"]["bindingId"], login=login)
    await stack.wait_for(
        lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(transaction_id)),
        what="CHARGE_SUCCESS of the Alipay CN purchase",
    )
    psp: str = body["pspReference"]
    return transaction_id, psp


def staff_headers(
    stack: Stack, permissions: tuple[str, ...] = ("HANDLE_PAYMENTS",)
) -> dict[str, str]:
    token = stack.saleor.dashboard_token(user_permissions=list(permissions))
    return {"Authorization": f"Bearer {token}", "Saleor-Api-Url": stack.saleor.api_url}


async def admin(
    stack: Stack,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Call the admin API (`/api/admin` + ``path``) as a staff member with HANDLE_PAYMENTS."""
    return await stack.http.request(
        method,
        stack.url("/api/admin" + path),
        json=json,
        params=params,
        headers=headers if headers is not None else staff_headers(stack),
    )


def declaration_body(amount: str = "60.00", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customsCode": "ZONGSHU",
        "merchantCustomsCode": "3301960ABC",
        "merchantCustomsName": "Hangzhou Sample Trading Co., Ltd.",
        "amount": amount,
        "splitOrder": False,
        "buyer": {
            "certificateType": "ID_CARD",
            "certificateNo": "11010119900307777X",
            "holderName": "Wang Fang",
        },
    }
    body.update(changes)
    return body


async def advance_sandbox(stack: Stack, seconds: float) -> None:
    response = await stack.http.post(
        f"{stack.sandbox.url}/sandbox/api/clock", json={"advanceSeconds": seconds}
    )
    assert response.status_code == 200, response.text
