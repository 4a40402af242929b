"""Antom's notifications, end to end: forgeries refused, duplicates applied once, amounts
checked, and no acknowledgment while Saleor cannot be told.

Each test starts a one-click payment that Antom (the sandbox, slowed down) keeps PROCESSING, so
that the notification the test sends, signed like Antom, is what decides it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from saleor_alipay_app.config import Settings
from saleor_alipay_app.history.models import History, HistorySubject
from saleor_alipay_app.payments.models import (
    Notification,
    NotificationKind,
    Payment,
    PaymentStatus,
    ReportStatus,
    SaleorReport,
)
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import (
    Stack,
    app_rows,
    cached_key,
    channel_config,
    eventually,
    one_click_payload,
    post_antom_notification,
    qr_purchase,
    sandbox_json,
    set_sandbox_process_delay,
    started_stack,
    stored_method_id,
    timed_deliver,
)

ACK = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


@dataclass
class Pending:
    """A one-click payment Antom is processing, and the checkout's webhook waiting on it."""

    transaction_id: str
    psp: str
    antom: dict[str, Any]
    session: asyncio.Task[tuple[dict[str, Any], float]]
    amount: Decimal

    async def answer(self) -> dict[str, Any]:
        """The checkout webhook's answer, which must come back inside Saleor's 18 s."""
        body, elapsed = await self.session
        assert elapsed < 15, f"answered in {elapsed:.1f} s"
        return body

    def notification(self, *, value: str | None = None, status: str = "S") -> dict[str, Any]:
        """Antom's PAYMENT_RESULT for this payment (as the sandbox words it)."""
        result = (
            {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
            if status == "S"
            else {
                "resultCode": "USER_BALANCE_NOT_ENOUGH",
                "resultStatus": "F",
                "resultMessage": "The user balance is not enough.",
            }
        )
        body: dict[str, Any] = {
            "notifyType": "PAYMENT_RESULT",
            "result": result,
            "paymentRequestId": self.psp,
            "paymentId": self.antom["paymentId"],
            "paymentAmount": {
                "currency": "HKD",
                "value": value if value is not None else str(int(self.amount * 100)),
            },
            "paymentCreateTime": self.antom["createdTime"],
        }
        if status == "S":
            body["paymentTime"] = self.antom["createdTime"]
        return body


async def pending_payment(stack: Stack, amount: Decimal = Decimal("45.00")) -> Pending:
    await qr_purchase(stack)
    method_id = await stored_method_id(stack)
    set_sandbox_process_delay(stack, 60.0)
    await stack.scenario("PAYMENT_IN_PROCESS_THEN_SUCCESS", calls=["pay"])
    payload = one_click_payload(stack, method_id, amount)
    session = asyncio.create_task(
        timed_deliver(stack, SyncEvent.TRANSACTION_INITIALIZE_SESSION, payload)
    )
    found: list[dict[str, Any]] = []
    while not found:
        assert not session.done(), session.result()
        await asyncio.sleep(0.05)
        found = [p for p in await sandbox_json(stack, "/payments") if p["status"] == "PROCESSING"]
    [antom] = found
    psp = antom["paymentRequestId"]

    async def app_processing() -> bool:
        rows = await app_rows(stack, Payment, payment_request_id=psp)
        return bool(rows) and rows[0].status is PaymentStatus.PROCESSING

    await eventually(app_processing, what="the app's payment row in PROCESSING")

    async def sandbox_notified() -> bool:
        # Antom's own notifications so far (the first purchase's, PAYMENT_PENDING) are in.
        notifications = await sandbox_json(stack, "/notifications")
        return all(n["status"] == "DELIVERED" for n in notifications)

    await eventually(sandbox_notified, what="the sandbox's notifications acknowledged")
    return Pending(payload["transaction"]["id"], psp, antom, session, amount)


async def payment_row(stack: Stack, pending: Pending) -> Payment:
    [row] = await app_rows(stack, Payment, payment_request_id=pending.psp)
    assert isinstance(row, Payment)
    return row


async def payment_inbox(stack: Stack) -> list[Any]:
    return await app_rows(stack, Notification, kind=NotificationKind.PAYMENT)


def charge_events(stack: Stack, pending: Pending, kind: str = "CHARGE_SUCCESS") -> list[Any]:
    return [e for e in stack.reports(pending.transaction_id) if e.type == kind]


def refused(response: httpx.Response) -> bool:
    return response.status_code != 200 and response.content != ACK


async def test_forged_notifications_are_refused_and_change_nothing(stack: Stack) -> None:
    pending = await pending_payment(stack)
    inbox_before = await payment_inbox(stack)
    body = pending.notification()
    raw = json.dumps(body).encode()

    stranger = await post_antom_notification(stack, "payment", body, key=cached_key("stranger"))
    other_client = await post_antom_notification(
        stack, "payment", body, client_id="SANDBOX_5Y00000000000099"
    )
    tampered_body = json.dumps({**body, "paymentId": "114000000000000000"}).encode()
    tampered = await post_antom_notification(stack, "payment", tampered_body, signed_body=raw)
    unknown_config = await post_antom_notification(
        stack, "payment", body, path="/api/antom/cfg_no-such-configuration/notify/payment"
    )
    wrong_kind = await post_antom_notification(stack, "refund", body)

    for response in (stranger, other_client, tampered):
        assert refused(response), response.text
        assert response.status_code == 401
    assert refused(unknown_config)
    assert unknown_config.status_code == 404
    assert refused(wrong_kind)
    assert wrong_kind.status_code == 400
    # Nothing changed: the payment is still processing, no inbox entry, nothing told to Saleor.
    assert (await payment_row(stack, pending)).status is PaymentStatus.PROCESSING
    assert [n.id for n in await payment_inbox(stack)] == [n.id for n in inbox_before]
    assert stack.reports(pending.transaction_id) == []

    # The real one, signed by Antom's key, is applied and acknowledged.
    genuine = await post_antom_notification(stack, "payment", body)
    assert (genuine.status_code, genuine.content) == (200, ACK)
    session = await pending.answer()
    assert (session["result"], session["pspReference"]) == ("CHARGE_SUCCESS", pending.psp)


async def test_duplicate_notifications_change_state_once_and_are_each_acknowledged(
    stack: Stack,
) -> None:
    pending = await pending_payment(stack)
    body = pending.notification()

    first = await post_antom_notification(stack, "payment", body)
    second = await post_antom_notification(stack, "payment", body)
    both = await asyncio.gather(
        post_antom_notification(stack, "payment", body),
        post_antom_notification(stack, "payment", body),
    )

    for response in (first, second, *both):
        assert response.status_code == 200
        assert response.content == ACK
        assert response.headers["content-type"].startswith("application/json")
    row = await payment_row(stack, pending)
    assert row.status is PaymentStatus.SUCCEEDED
    assert row.antom_payment_id == pending.antom["paymentId"]
    changes = [
        h.status
        for h in await app_rows(stack, History, subject=HistorySubject.PAYMENT, subject_id=row.id)
    ]
    assert changes.count("SUCCEEDED") == 1
    [entry] = [
        n for n in await payment_inbox(stack) if f":{pending.psp}:PAYMENT_RESULT:" in n.natural_key
    ]
    assert entry.deliveries == 4
    [event] = charge_events(stack, pending)
    assert (event.psp_reference, event.amount) == (pending.psp, Decimal("45.00"))
    [report] = await app_rows(stack, SaleorReport, saleor_transaction_id=pending.transaction_id)
    assert (report.event_type, report.status) == ("CHARGE_SUCCESS", ReportStatus.DONE)
    session = await pending.answer()
    assert session["result"] == "CHARGE_SUCCESS"


async def test_an_oversized_notification_is_refused_as_it_streams_in(stack: Stack) -> None:
    """Over 256 kB, with or without a Content-Length: 413 in Antom's shape, nothing stored."""
    config = await channel_config(stack)
    url = stack.url(f"/api/antom/{config.public_id}/notify/payment")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"{" + b" " * 63_998 + b"}"

    inbox = await payment_inbox(stack)
    for content in (chunks(), b"{" + b" " * 300_000 + b"}"):
        response = await stack.http.post(url, content=content)
        assert response.status_code == 413, response.text
        assert response.json()["result"]["resultStatus"] == "F"
    assert await payment_inbox(stack) == inbox


async def test_concurrent_duplicate_notifications_report_to_saleor_once(stack: Stack) -> None:
    """Five deliveries of one signed PAYMENT_RESULT at once: one settlement, one
    `transactionEventReport` call and one history entry for it (each report is claimed by one
    sender); every delivery is acknowledged."""
    pending = await pending_payment(stack)
    body = pending.notification()
    answers = await asyncio.gather(
        *(post_antom_notification(stack, "payment", body) for _ in range(5))
    )
    assert [(a.status_code, a.content) for a in answers] == [(200, ACK)] * 5
    assert (await pending.answer())["result"] == "CHARGE_SUCCESS"
    [report] = await app_rows(stack, SaleorReport, saleor_transaction_id=pending.transaction_id)
    assert report.status is ReportStatus.DONE
    assert report.sending_until is None
    assert report.attempts == 1  # asked once, counted once (the dashboard's "Attempts")
    calls = [
        call
        for call in stack.saleor.calls
        if "transactionEventReport" in call.query
        and call.variables.get("id") == pending.transaction_id
    ]
    assert len(calls) == 1, calls
    sent = await app_rows(stack, History, subject=HistorySubject.REPORT, subject_id=report.id)
    assert [h.status for h in sent] == ["CHARGE_SUCCESS:DONE"]


async def test_notification_for_another_amount_is_not_applied(stack: Stack) -> None:
    pending = await pending_payment(stack, Decimal("45.00"))

    response = await post_antom_notification(stack, "payment", pending.notification(value="4600"))

    # Acknowledged (Antom would only send the same wrong body again) but not acted on.
    assert (response.status_code, response.content) == (200, ACK)
    assert (await payment_row(stack, pending)).status is PaymentStatus.PROCESSING
    assert stack.reports(pending.transaction_id) == []
    assert await app_rows(stack, SaleorReport, saleor_transaction_id=pending.transaction_id) == []

    right = await post_antom_notification(stack, "payment", pending.notification())
    assert (right.status_code, right.content) == (200, ACK)
    assert (await payment_row(stack, pending)).status is PaymentStatus.SUCCEEDED
    assert (await pending.answer())["result"] == "CHARGE_SUCCESS"


async def test_failure_notification_is_reported_as_a_charge_failure(stack: Stack) -> None:
    pending = await pending_payment(stack)

    response = await post_antom_notification(stack, "payment", pending.notification(status="F"))

    assert (response.status_code, response.content) == (200, ACK)
    row = await payment_row(stack, pending)
    assert (row.status, row.result_code) == (PaymentStatus.FAILED, "USER_BALANCE_NOT_ENOUGH")
    [event] = charge_events(stack, pending, "CHARGE_FAILURE")
    assert event.psp_reference == pending.psp
    assert charge_events(stack, pending) == []
    session = await pending.answer()
    assert session["result"] == "CHARGE_FAILURE"


async def test_no_acknowledgment_while_saleor_is_down(stack: Stack) -> None:
    pending = await pending_payment(stack)
    body = pending.notification()
    stack.saleor.fail_graphql = "http_500"

    while_down = await post_antom_notification(stack, "payment", body)

    assert refused(while_down), while_down.text
    assert while_down.status_code == 503
    # The outcome is durable here; only Saleor has not been told.
    assert (await payment_row(stack, pending)).status is PaymentStatus.SUCCEEDED
    [report] = await app_rows(stack, SaleorReport, saleor_transaction_id=pending.transaction_id)
    assert report.status is ReportStatus.PENDING
    assert charge_events(stack, pending) == []

    stack.saleor.fail_graphql = None
    again = await post_antom_notification(stack, "payment", body)

    assert (again.status_code, again.content) == (200, ACK)
    [event] = charge_events(stack, pending)
    assert (event.psp_reference, event.amount) == (pending.psp, Decimal("45.00"))
    [report] = await app_rows(stack, SaleorReport, saleor_transaction_id=pending.transaction_id)
    assert report.status is ReportStatus.DONE
    await asyncio.sleep(0.7)  # two sweeper rounds: nothing is sent twice
    assert len(charge_events(stack, pending)) == 1
    session = await pending.answer()
    assert session["result"] == "CHARGE_SUCCESS"


async def test_antom_resends_while_saleor_is_down_and_nothing_is_lost(stack: Stack) -> None:
    """A first purchase approved while Saleor is down: the sandbox's authorization notification
    is not acknowledged, Antom re-sends it, and once Saleor is back the payment is reported
    exactly once and the notification acknowledged."""
    payload, body = await stack.start_qr_payment(Decimal("77.00"))
    transaction_id = payload["transaction"]["id"]
    auth_state = body["data"]["bindingId"]
    stack.saleor.fail_graphql = "http_500"

    await stack.approve(auth_state, login="85261234567")

    async def refused_twice() -> bool:
        [notification] = await sandbox_json(stack, "/notifications", reference=auth_state)
        attempts = notification["attempts"]
        return len(attempts) >= 2 and all(a["httpStatus"] == 503 for a in attempts)

    await eventually(refused_twice, what="two unacknowledged attempts")
    [row] = await app_rows(stack, Payment, saleor_transaction_id=transaction_id)
    assert row.status is PaymentStatus.SUCCEEDED  # durable here; Saleor not told yet
    assert stack.reports(transaction_id) == []

    stack.saleor.fail_graphql = None

    async def delivered() -> bool:
        [notification] = await sandbox_json(stack, "/notifications", reference=auth_state)
        return bool(notification["status"] == "DELIVERED")

    await eventually(delivered, timeout=15, what="the notification acknowledged")
    [event] = [e for e in stack.reports(transaction_id) if e.type == "CHARGE_SUCCESS"]
    assert (event.psp_reference, event.amount) == (body["pspReference"], Decimal("77.00"))
    [notification] = await sandbox_json(stack, "/notifications", reference=auth_state)
    assert notification["attempts"][-1]["responseBody"] == ACK.decode()
    assert len(await sandbox_json(stack, "/payments", paymentRequestId=body["pspReference"])) == 1
