"""First purchase by QR code, end to end: Saleor double -> app -> Antom sandbox -> wallet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from saleor_alipay_app.config import Settings
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import Stack, started_stack


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


async def test_first_purchase_by_qr_completes_through_the_notification(stack: Stack) -> None:
    payload, body = await stack.start_qr_payment(Decimal("123.45"))
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body
    data = body["data"]
    assert data["wallet"] == "ALIPAY_HK"
    assert data["qrCodeSvg"].startswith("<svg")
    assert data["qrCodeValue"].startswith(stack.sandbox.url)
    transaction_id = payload["transaction"]["id"]

    await stack.approve(data["bindingId"], login="852****1234")
    await stack.wait_for(
        lambda: any(e.type == "CHARGE_SUCCESS" for e in stack.reports(transaction_id)),
        what="CHARGE_SUCCESS reported to Saleor",
    )
    [event] = [e for e in stack.reports(transaction_id) if e.type == "CHARGE_SUCCESS"]
    assert event.amount == Decimal("123.45")
    assert event.psp_reference == body["pspReference"]

    # The storefront's next poll gets the same final outcome, idempotently.
    process = await stack.call(
        SyncEvent.TRANSACTION_PROCESS_SESSION, transaction={"id": transaction_id}
    )
    assert process["result"] == "CHARGE_SUCCESS"
    assert process["pspReference"] == body["pspReference"]
    assert stack.saleor.invalid_documents == []
