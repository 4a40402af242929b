"""Every sandbox scenario on a one-click payment, end to end (Saleor double -> app -> sandbox).

Each test first binds a wallet with a QR purchase, then charges the stored agreement with
TRANSACTION_INITIALIZE_SESSION while the sandbox plays one scenario. What is checked: the answer
Saleor gets (validated against its schema, and within its 18 s), what the app later reports with
`transactionEventReport`, and what Antom (the sandbox) holds: never a second pay.

The stack's timings: the app gives Antom 3 s per call and 12 s per webhook; the sandbox's
in-process payments take 0.5 s, HANG sleeps 15 s, and notifications are re-sent after 0 s,
0.12 s, 0.6 s, 0.6 s, 3.6 s, 7.2 s...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.antom.results import shopper_message
from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import (
    Stack,
    app_rows,
    one_click_payload,
    qr_purchase,
    record_antom_calls,
    sandbox_idle,
    sandbox_json,
    set_sandbox_hang,
    set_sandbox_process_delay,
    started_stack,
    stored_method_id,
    timed_deliver,
)

INITIALIZE = SyncEvent.TRANSACTION_INITIALIZE_SESSION
AMOUNT = Decimal("45.60")
ANSWER_WITHIN = 15.0


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


async def bound(stack: Stack) -> tuple[str, list[tuple[str, str]]]:
    """A wallet bound by a first QR purchase: (stored method id, Antom calls from now on)."""
    await qr_purchase(stack)
    method_id = await stored_method_id(stack)
    return method_id, record_antom_calls(stack)


async def one_click(stack: Stack, method_id: str) -> tuple[str, dict[str, Any], float]:
    """Charge the agreement: (transaction id, Saleor's validated answer, seconds taken)."""
    payload = one_click_payload(stack, method_id, AMOUNT)
    body, elapsed = await timed_deliver(stack, INITIALIZE, payload)
    assert elapsed < ANSWER_WITHIN, f"answered in {elapsed:.1f} s"
    transaction_id: str = payload["transaction"]["id"]
    return transaction_id, body, elapsed


async def antom_payment(stack: Stack, psp: str) -> dict[str, Any]:
    """The one payment Antom holds under this paymentRequestId (it never gets two)."""
    [payment] = await sandbox_json(stack, "/payments", paymentRequestId=psp)
    result: dict[str, Any] = payment
    return result


def events(stack: Stack, transaction_id: str, kind: str) -> list[Any]:
    return [e for e in stack.reports(transaction_id) if e.type == kind]


async def reported(stack: Stack, transaction_id: str, kind: str, within: float = 10.0) -> Any:
    await stack.wait_for(
        lambda: bool(events(stack, transaction_id, kind)), timeout=within, what=f"{kind} report"
    )
    [event] = events(stack, transaction_id, kind)
    return event


async def clear_scenarios(stack: Stack) -> None:
    response = await stack.http.delete(f"{stack.sandbox.url}/sandbox/api/scenario")
    assert response.status_code == 200, response.text


def paid(body: dict[str, Any]) -> bool:
    return body["result"] == "CHARGE_SUCCESS" and Decimal(body["amount"]) == AMOUNT


async def test_plain_one_click_payment(stack: Stack) -> None:
    method_id, calls = await bound(stack)

    transaction_id, body, elapsed = await one_click(stack, method_id)

    assert paid(body), body
    assert elapsed < 5
    assert calls == [("pay", "success")]
    payment = await antom_payment(stack, body["pspReference"])
    assert (payment["status"], payment["payRequests"]) == ("SUCCESS", 1)
    event = await reported(stack, transaction_id, "CHARGE_SUCCESS")
    assert (event.psp_reference, event.amount) == (body["pspReference"], AMOUNT)


async def test_user_balance_not_enough_fails_with_a_message_for_the_shopper(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("USER_BALANCE_NOT_ENOUGH", calls=["pay"])

    transaction_id, body, _ = await one_click(stack, method_id)

    assert body["result"] == "CHARGE_FAILURE"
    assert body["message"] == shopper_message("USER_BALANCE_NOT_ENOUGH")
    assert body["data"] == {"status": "FAILED", "code": "USER_BALANCE_NOT_ENOUGH"}
    assert calls == [("pay", "USER_BALANCE_NOT_ENOUGH")]
    assert (await antom_payment(stack, body["pspReference"]))["status"] == "FAIL"
    # The agreement is fine: the shopper may top up and pay with it again.
    assert await stored_method_id(stack) == method_id
    # Antom notifies the failure when the order closes; Saleor hears it too.
    event = await reported(stack, transaction_id, "CHARGE_FAILURE")
    assert event.psp_reference == body["pspReference"]


async def test_invalid_access_token_fails_and_ends_the_agreement(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("INVALID_ACCESS_TOKEN", calls=["pay"])

    _, body, _ = await one_click(stack, method_id)

    assert body["result"] == "CHARGE_FAILURE"
    assert body["message"] == shopper_message("INVALID_ACCESS_TOKEN")
    assert body["data"] == {"status": "FAILED", "code": "INVALID_ACCESS_TOKEN"}
    assert calls == [("pay", "INVALID_ACCESS_TOKEN")]
    listed = await stack.call(SyncEvent.LIST_STORED_PAYMENT_METHODS)
    assert listed == {"paymentMethods": []}
    [agreement] = await app_rows(stack, Agreement)
    assert agreement.status is AgreementStatus.INVALID
    # Charging it again is refused here, without asking Antom.
    _, again, _ = await one_click(stack, method_id)
    assert again["result"] == "CHARGE_FAILURE"
    assert again["data"] == {"code": "AGREEMENT_NOT_ACTIVE"}
    assert calls == [("pay", "INVALID_ACCESS_TOKEN")]


async def test_payment_in_process_then_success_inside_the_budget(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("PAYMENT_IN_PROCESS_THEN_SUCCESS", calls=["pay"])

    transaction_id, body, elapsed = await one_click(stack, method_id)

    # Antom finishes in 0.5 s, well inside the webhook's budget: the final answer, not a
    # CHARGE_REQUEST, found by inquiring.
    assert paid(body), body
    assert elapsed < 5
    # Whichever comes first, Antom's PAYMENT_RESULT or the app's inquiry, decides; pay once.
    assert calls[0] == ("pay", "PAYMENT_IN_PROCESS_THEN_SUCCESS")
    assert set(calls[1:]) <= {("inquiryPayment", "success")}
    payment = await antom_payment(stack, body["pspReference"])
    assert (payment["status"], payment["payRequests"]) == ("SUCCESS", 1)
    event = await reported(stack, transaction_id, "CHARGE_SUCCESS")
    assert (event.psp_reference, event.amount) == (body["pspReference"], AMOUNT)


async def test_payment_in_process_then_fail_inside_the_budget(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("PAYMENT_IN_PROCESS_THEN_FAIL", calls=["pay"])

    transaction_id, body, _ = await one_click(stack, method_id)

    assert body["result"] == "CHARGE_FAILURE"
    assert body["message"] == shopper_message("USER_BALANCE_NOT_ENOUGH")
    assert body["data"] == {"status": "FAILED", "code": "USER_BALANCE_NOT_ENOUGH"}
    assert [c for c, _ in calls].count("pay") == 1
    event = await reported(stack, transaction_id, "CHARGE_FAILURE")
    assert event.psp_reference == body["pspReference"]
    assert events(stack, transaction_id, "CHARGE_SUCCESS") == []


async def test_payment_in_process_past_the_budget_with_lost_notifications(stack: Stack) -> None:
    """CHARGE_REQUEST, then the sweeper's inquiry finds the success (NOTIFY_FAIL drops every
    notification of the payment) and reports it."""
    method_id, calls = await bound(stack)
    set_sandbox_process_delay(stack, 13.0)
    await stack.scenario("PAYMENT_IN_PROCESS_THEN_SUCCESS", calls=["pay"])
    await stack.scenario("NOTIFY_FAIL", calls=["notifyPayment"], count=50)

    transaction_id, body, _ = await one_click(stack, method_id)

    psp = body["pspReference"]
    assert body["result"] == "CHARGE_REQUEST"
    assert Decimal(body["amount"]) == AMOUNT
    assert body["actions"] == ["CANCEL"]
    [row] = await app_rows(stack, Payment, payment_request_id=psp)
    assert row.status is PaymentStatus.PROCESSING
    event = await reported(stack, transaction_id, "CHARGE_SUCCESS", within=20)
    assert (event.psp_reference, event.amount) == (psp, AMOUNT)
    notifications = await sandbox_json(stack, "/notifications", reference=psp)
    outcomes = {a["outcome"] for n in notifications for a in n["attempts"]}
    assert outcomes == {"DROPPED"}, notifications
    assert [c for c, _ in calls].count("pay") == 1
    assert (await antom_payment(stack, psp))["payRequests"] == 1


async def test_unknown_exception_is_settled_by_an_inquiry(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("UNKNOWN_EXCEPTION", calls=["pay"])
    # Drop the notifications of the first 5 s, so that the inquiry is what finds the outcome.
    await stack.scenario("NOTIFY_FAIL", calls=["notifyPayment"], count=5)

    transaction_id, body, _ = await one_click(stack, method_id)

    assert paid(body), body
    assert calls == [("pay", "UNKNOWN_EXCEPTION"), ("inquiryPayment", "success")]
    assert (await antom_payment(stack, body["pspReference"]))["payRequests"] == 1
    event = await reported(stack, transaction_id, "CHARGE_SUCCESS")
    assert event.psp_reference == body["pspReference"]


async def test_http_500_is_never_a_failure_the_inquiry_decides(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("HTTP_500", calls=["pay"])
    await stack.scenario("NOTIFY_FAIL", calls=["notifyPayment"], count=5)

    _, body, _ = await one_click(stack, method_id)

    assert paid(body), body
    assert calls == [("pay", "HTTP_500"), ("inquiryPayment", "success")]
    assert (await antom_payment(stack, body["pspReference"]))["payRequests"] == 1


async def test_unsigned_error_is_not_believed_the_inquiry_decides(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("UNSIGNED_ERROR", calls=["pay"])

    transaction_id, body, _ = await one_click(stack, method_id)

    # The unsigned F could come from anyone on the way; Antom's signed inquiry says that no
    # such payment exists, so it failed, and nothing was taken.
    assert calls == [("pay", "UNSIGNED_ERROR"), ("inquiryPayment", "success")]
    assert body["result"] == "CHARGE_FAILURE"
    assert body["message"] == shopper_message("PROCESS_FAIL")
    assert await sandbox_json(stack, "/payments", paymentRequestId=body["pspReference"]) == []
    event = await reported(stack, transaction_id, "CHARGE_FAILURE")
    assert event.psp_reference == body["pspReference"]


async def test_hang_past_the_client_timeout_while_the_notification_arrives(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    set_sandbox_hang(stack, 6.0)  # twice the app's 3 s timeout, and a shorter test
    await stack.scenario("HANG", calls=["pay"])

    transaction_id, body, elapsed = await one_click(stack, method_id)

    # Antom took the payment and notified it at once; the app stopped waiting for the pay
    # answer after its 3 s timeout and found the outcome already stored.
    assert paid(body), body
    assert 3 <= elapsed < 8
    assert [c for c, _ in calls].count("pay") == 1
    payment = await antom_payment(stack, body["pspReference"])
    assert (payment["status"], payment["payRequests"]) == ("SUCCESS", 1)
    event = await reported(stack, transaction_id, "CHARGE_SUCCESS")
    assert event.psp_reference == body["pspReference"]
    await sandbox_idle(stack)


async def test_hang_with_antom_silent_is_a_charge_request_then_reported(stack: Stack) -> None:
    method_id, calls = await bound(stack)
    await stack.scenario("HANG", calls=["pay"])
    await stack.scenario("UNKNOWN_EXCEPTION", calls=["inquiryPayment"], count=100)
    await stack.scenario("NOTIFY_FAIL", calls=["notifyPayment"], count=100)

    transaction_id, body, elapsed = await one_click(stack, method_id)

    psp = body["pspReference"]
    assert body["result"] == "CHARGE_REQUEST"
    assert Decimal(body["amount"]) == AMOUNT
    assert elapsed < ANSWER_WITHIN
    assert events(stack, transaction_id, "CHARGE_SUCCESS") == []
    assert events(stack, transaction_id, "CHARGE_FAILURE") == []
    # Antom answers again: the sweeper (or the re-sent notification) finds the success.
    await clear_scenarios(stack)
    event = await reported(stack, transaction_id, "CHARGE_SUCCESS", within=25)
    assert (event.psp_reference, event.amount) == (psp, AMOUNT)
    assert [c for c, _ in calls].count("pay") == 1
    payment = await antom_payment(stack, psp)
    assert (payment["status"], payment["payRequests"]) == ("SUCCESS", 1)
    [row] = await app_rows(stack, Payment, payment_request_id=psp)
    assert row.status is PaymentStatus.SUCCEEDED
    await sandbox_idle(stack)
