"""The storefront's status stream (server-sent events keyed by the binding id) and the event
budget it buys: a QR payment followed on the stream adds at most 3 events to Saleor's
transaction (Saleor's request event, the initialize answer, the app's CHARGE_SUCCESS report)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments import status_stream
from saleor_alipay_app.saleor.events import SyncEvent
from tests.payments.test_sessions import expire_binding
from tests.support.stack import Stack, started_stack

SESSION_EVENTS = {
    SyncEvent.TRANSACTION_INITIALIZE_SESSION,
    SyncEvent.TRANSACTION_PROCESS_SESSION,
}


@pytest.fixture
async def stack(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    monkeypatch.setattr(status_stream, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(status_stream, "HEARTBEAT_SECONDS", 0.3)
    async with started_stack(settings, tmp_path) as running:
        yield running


async def states(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: ") and event == "status":
            yield json.loads(line[len("data: ") :])


def saleor_events(stack: Stack, transaction_id: str) -> int:
    """Events Saleor keeps on the transaction: its request event, one per session answer
    (initialize and each process) and the app's reports."""
    answers = sum(
        1
        for delivery in stack.saleor.deliveries
        if delivery.event in SESSION_EVENTS and transaction_id.encode() in delivery.body
    )
    return 1 + answers + len(stack.reports(transaction_id))


async def test_a_qr_payment_followed_on_the_stream_adds_three_events(stack: Stack) -> None:
    payload, body = await stack.start_qr_payment(Decimal("88.00"))
    transaction_id = payload["transaction"]["id"]
    data = body["data"]
    assert data["statusUrl"] == stack.url(f"/storefront/bindings/{data['bindingId']}/events")

    async with stack.http.stream("GET", data["statusUrl"]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["access-control-allow-origin"] == "*"
        seen = []
        async for state in states(response):
            seen.append(state)
            if state["state"] == "waiting" and "qrCodeValue" in state:
                assert set(state) == {"state", "qrCodeValue", "qrCodeSvg", "expiresAt"}
                assert state["qrCodeValue"] == data["qrCodeValue"]
                if len(seen) == 1:
                    await stack.approve(data["bindingId"], login="85261234567")
        # The stream ends by itself on the final state.
    assert seen[-1] == {"state": "paid"}

    await stack.wait_for(
        lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(transaction_id)),
        what="the CHARGE_SUCCESS report",
    )
    assert saleor_events(stack, transaction_id) <= 3


async def test_an_expired_code_is_renewed_once_and_the_stream_shows_the_new_one(
    stack: Stack,
) -> None:
    payload, body = await stack.start_qr_payment(Decimal("66.00"))
    transaction_id = payload["transaction"]["id"]
    data = body["data"]
    async with stack.http.stream("GET", data["statusUrl"]) as response:
        seen: list[str] = []
        async for state in states(response):
            seen.append(state["state"])
            if len(seen) == 1:
                await expire_binding(stack, data["bindingId"])
            if state["state"] == "expired":
                renewed = await stack.call(
                    SyncEvent.TRANSACTION_PROCESS_SESSION, transaction={"id": transaction_id}
                )
                fresh = renewed["data"]
                assert fresh["bindingId"] != data["bindingId"]
            if state["state"] == "waiting" and seen.count("waiting") == 2:
                assert state["qrCodeValue"] == fresh["qrCodeValue"]
                break
    assert seen == ["waiting", "expired", "waiting"]


async def test_an_unknown_binding_has_no_stream(stack: Stack) -> None:
    response = await stack.http.get(stack.url("/storefront/bindings/bind_nothing/events"))
    assert response.status_code == 404
    assert response.json() == {"code": "NOT_FOUND"}


async def test_streams_per_binding_are_bounded(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_stream, "MAX_STREAMS_PER_BINDING", 1)
    _payload, body = await stack.start_qr_payment(Decimal("55.00"))
    url = body["data"]["statusUrl"]
    async with stack.http.stream("GET", url) as first:
        assert first.status_code == 200
        second = await stack.http.get(url)
        assert second.status_code == 429
        lines = []
        async for line in first.aiter_lines():
            lines.append(line)
            if line.startswith(": heartbeat"):
                break
    assert lines[0] == f"retry: {status_stream.RETRY_MS}"
