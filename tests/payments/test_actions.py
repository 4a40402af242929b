"""Staff actions from the dashboard, end to end (Saleor double -> app -> Antom sandbox): refunds
(full, partial, over-refund, zero, repeated delivery, in process, refused by Antom), cancels
(before the QR scan, while Antom processes, after success) and charge on a paid transaction.

Every webhook answer goes through `stack.deliver`, which validates it against Saleor's schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from saleor_alipay_app.antom.results import merchant_message
from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.stack import (
    CLIENT_ID,
    Stack,
    app_rows,
    one_click_payload,
    qr_purchase,
    record_antom_calls,
    sandbox_json,
    sandbox_state,
    set_sandbox_process_delay,
    started_stack,
    stored_method_id,
    timed_deliver,
)

REFUND = SyncEvent.TRANSACTION_REFUND_REQUESTED
CANCEL = SyncEvent.TRANSACTION_CANCELATION_REQUESTED
CHARGE = SyncEvent.TRANSACTION_CHARGE_REQUESTED
# Saleor waits 18 s; every answer must come back well inside that.
ANSWER_WITHIN = 15.0


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


def action(stack: Stack, event: SyncEvent, transaction_id: str, amount: str) -> dict[str, Any]:
    return stack.saleor.payload(event, amount=Decimal(amount), transaction={"id": transaction_id})


async def ask(stack: Stack, payload: dict[str, Any], event: SyncEvent = REFUND) -> dict[str, Any]:
    body, elapsed = await timed_deliver(stack, event, payload)
    assert elapsed < ANSWER_WITHIN, f"{event.value} answered in {elapsed:.1f} s"
    return body


async def sandbox_payment(stack: Stack, payment_request_id: str) -> dict[str, Any]:
    [payment] = await sandbox_json(stack, "/payments", paymentRequestId=payment_request_id)
    result: dict[str, Any] = payment
    return result


async def sandbox_refunds(stack: Stack, payment_request_id: str) -> list[Any]:
    """The refunds Antom (the sandbox) holds for a payment, oldest first."""
    payment = await sandbox_payment(stack, payment_request_id)
    refunds: list[Any] = sandbox_state(stack).store.refunds_of(payment["paymentId"])
    return refunds


def events_of(stack: Stack, transaction_id: str, kind: str) -> list[Any]:
    return [e for e in stack.reports(transaction_id) if e.type == kind]


# -- refunds -----------------------------------------------------------------------------------


async def test_full_refund_succeeds_in_the_sync_form(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("123.45"))
    calls = record_antom_calls(stack)

    body = await ask(stack, action(stack, REFUND, transaction_id, "123.45"))

    assert body["result"] == "REFUND_SUCCESS"
    assert body["pspReference"] == f"{psp}-r1"
    assert Decimal(body["amount"]) == Decimal("123.45")
    assert "message" not in body
    assert body["actions"] == []  # nothing is left to refund
    assert calls == [("refund", "success")]
    [refund] = await sandbox_refunds(stack, psp)
    assert refund.refund_request_id == f"{psp}-r1"
    assert refund.status.value == "SUCCESS"
    assert refund.amount.value == 12345
    [row] = await app_rows(stack, Refund)
    assert row.status is RefundStatus.SUCCEEDED
    assert row.amount == Decimal("123.45")
    # Antom's REFUND_RESULT notification makes the app confirm it to Saleor as well (same
    # pspReference and amount as the sync answer, so Saleor keeps one event).
    await stack.wait_for(
        lambda: bool(events_of(stack, transaction_id, "REFUND_SUCCESS")),
        what="REFUND_SUCCESS report",
    )
    [event] = events_of(stack, transaction_id, "REFUND_SUCCESS")
    assert (event.psp_reference, event.amount) == (f"{psp}-r1", Decimal("123.45"))


async def test_partial_refunds_up_to_the_charged_total_and_no_further(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))
    calls = record_antom_calls(stack)

    first = await ask(stack, action(stack, REFUND, transaction_id, "30.00"))
    assert (first["result"], first["pspReference"], Decimal(first["amount"])) == (
        "REFUND_SUCCESS",
        f"{psp}-r1",
        Decimal("30.00"),
    )
    # More than what remains: refused here, Antom is not asked.
    too_much_request = action(stack, REFUND, transaction_id, "80.00")
    too_much = await ask(stack, too_much_request)
    assert too_much == {
        "result": "REFUND_FAILURE",
        "pspReference": too_much["pspReference"],
        "message": "The refund of 80.00 HKD is more than what remains refundable (70.00 HKD).",
    }
    # A refusal has a pspReference of its own (Saleor would merge two refusals without one),
    # the same on Saleor's retry of that request.
    assert too_much["pspReference"].startswith("refusal-")
    assert (await ask(stack, too_much_request))["pspReference"] == too_much["pspReference"]
    second = await ask(stack, action(stack, REFUND, transaction_id, "45.50"))
    assert (second["result"], second["pspReference"], Decimal(second["amount"])) == (
        "REFUND_SUCCESS",
        f"{psp}-r2",
        Decimal("45.50"),
    )
    third = await ask(stack, action(stack, REFUND, transaction_id, "24.50"))
    assert (third["result"], third["pspReference"], Decimal(third["amount"])) == (
        "REFUND_SUCCESS",
        f"{psp}-r3",
        Decimal("24.50"),
    )
    nothing_left = await ask(stack, action(stack, REFUND, transaction_id, "0.01"))
    assert nothing_left["pspReference"] not in {too_much["pspReference"], None}
    assert nothing_left == {
        "result": "REFUND_FAILURE",
        "pspReference": nothing_left["pspReference"],
        "message": "The refund of 0.01 HKD is more than what remains refundable (0.00 HKD).",
    }

    assert calls == [("refund", "success")] * 3
    refunds = await sandbox_refunds(stack, psp)
    assert [(r.refund_request_id, r.amount.value) for r in refunds] == [
        (f"{psp}-r1", 3000),
        (f"{psp}-r2", 4550),
        (f"{psp}-r3", 2450),
    ]
    rows = await app_rows(stack, Refund)
    assert [(r.amount, r.status) for r in rows] == [
        (Decimal("30.00"), RefundStatus.SUCCEEDED),
        (Decimal("45.50"), RefundStatus.SUCCEEDED),
        (Decimal("24.50"), RefundStatus.SUCCEEDED),
    ]


async def test_concurrent_refunds_never_pass_the_charged_total(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))

    answers = await asyncio.gather(
        *(
            timed_deliver(stack, REFUND, action(stack, REFUND, transaction_id, "60.00"))
            for _ in range(2)
        )
    )

    results = sorted(body["result"] for body, _ in answers)
    assert results == ["REFUND_FAILURE", "REFUND_SUCCESS"], answers
    [refused] = [body for body, _ in answers if body["result"] == "REFUND_FAILURE"]
    # Serialised per payment (PostgreSQL: its row lock; SQLite: the one connection), the second
    # sees what remains.
    assert refused["message"] == (
        "The refund of 60.00 HKD is more than what remains refundable (40.00 HKD)."
    )
    assert [r.amount.value for r in await sandbox_refunds(stack, psp)] == [6000]


@pytest.mark.parametrize("staff", [3, 10])
async def test_of_concurrent_full_refunds_exactly_one_goes_through(
    stack: Stack, staff: int
) -> None:
    """Staff refund the whole payment N times at once, on two payments in turn: exactly one
    refund each time, at Antom and in the answers; every other request is told why."""
    for _ in range(2):
        transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))
        answers = await asyncio.gather(
            *(ask(stack, action(stack, REFUND, transaction_id, "100.00")) for _ in range(staff))
        )
        results = sorted(body["result"] for body in answers)
        assert results == ["REFUND_FAILURE"] * (staff - 1) + ["REFUND_SUCCESS"], answers
        for body in answers:
            if body["result"] == "REFUND_FAILURE":
                assert body["message"] == (
                    "The refund of 100.00 HKD is more than what remains refundable (0.00 HKD)."
                )
        assert [r.amount.value for r in await sandbox_refunds(stack, psp)] == [10000]


async def test_zero_refund_is_refused_without_asking_antom(stack: Stack) -> None:
    transaction_id, _ = await qr_purchase(stack)
    calls = record_antom_calls(stack)

    body = await ask(stack, action(stack, REFUND, transaction_id, "0"))

    assert body == {
        "result": "REFUND_FAILURE",
        "pspReference": body["pspReference"],
        "message": "A refund must be for more than zero.",
    }
    assert calls == []
    assert await app_rows(stack, Refund) == []


async def test_refund_of_a_transaction_never_paid_is_refused(stack: Stack) -> None:
    payload, started = await stack.start_qr_payment(Decimal("50.00"))
    assert started["result"] == "CHARGE_ACTION_REQUIRED"
    calls = record_antom_calls(stack)

    body = await ask(stack, action(stack, REFUND, payload["transaction"]["id"], "50.00"))

    assert body == {
        "result": "REFUND_FAILURE",
        "pspReference": body["pspReference"],
        "message": "Nothing was charged on this transaction, so nothing can be refunded.",
    }
    assert calls == []


async def test_a_repeated_refund_delivery_gets_the_same_answer_and_one_refund(
    stack: Stack,
) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))
    calls = record_antom_calls(stack)
    payload = action(stack, REFUND, transaction_id, "40.00")  # one delivery: same issuedAt

    first = await ask(stack, payload)
    again = await ask(stack, payload)

    assert first["result"] == "REFUND_SUCCESS"
    assert again == first
    assert calls == [("refund", "success")]
    assert len(await sandbox_refunds(stack, psp)) == 1
    assert len(await app_rows(stack, Refund)) == 1

    # Concurrent copies of one new delivery: one refund at Antom, one pspReference for Saleor.
    concurrent = action(stack, REFUND, transaction_id, "10.00")
    answers = await asyncio.gather(ask(stack, concurrent), ask(stack, concurrent))
    assert {a["pspReference"] for a in answers} == {f"{psp}-r2"}
    assert calls == [("refund", "success")] * 2
    assert [r.amount.value for r in await sandbox_refunds(stack, psp)] == [4000, 1000]


async def test_refund_in_process_is_answered_async_then_reported(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))
    await stack.scenario("REFUND_IN_PROCESS", calls=["refund"])

    body = await ask(stack, action(stack, REFUND, transaction_id, "60.00"))

    # The async form: no result, the refund's own pspReference; the outcome follows.
    assert body == {"pspReference": f"{psp}-r1"}
    [row] = await app_rows(stack, Refund)
    assert row.status is RefundStatus.PROCESSING
    await stack.wait_for(
        lambda: bool(events_of(stack, transaction_id, "REFUND_SUCCESS")),
        what="REFUND_SUCCESS reported after the refund finished",
    )
    [event] = events_of(stack, transaction_id, "REFUND_SUCCESS")
    assert (event.psp_reference, event.amount) == (f"{psp}-r1", Decimal("60.00"))
    [row] = await app_rows(stack, Refund)
    assert row.status is RefundStatus.SUCCEEDED
    assert events_of(stack, transaction_id, "REFUND_FAILURE") == []


async def test_an_unsigned_refund_failure_is_not_believed_the_inquiry_decides(
    stack: Stack,
) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))
    await stack.scenario("UNSIGNED_ERROR", calls=["refund"])

    body = await ask(stack, action(stack, REFUND, transaction_id, "40.00"))

    # Anyone on the way could have sent that F: accepted, pending, and the signed inquiries
    # find no such refund at Antom (nothing was done), so it failed.
    assert body == {"pspReference": f"{psp}-r1"}
    await stack.wait_for(
        lambda: bool(events_of(stack, transaction_id, "REFUND_FAILURE")),
        timeout=45,
        what="REFUND_FAILURE reported once Antom's inquiries found no refund",
    )
    assert await sandbox_refunds(stack, psp) == []
    [row] = await app_rows(stack, Refund)
    assert row.status is RefundStatus.FAILED
    assert events_of(stack, transaction_id, "REFUND_SUCCESS") == []


async def test_refund_refused_for_merchant_balance_then_retried_with_a_new_request(
    stack: Stack,
) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))
    code = "MERCHANT_BALANCE_NOT_ENOUGH"
    await stack.scenario(code, calls=["refund"])

    failed = await ask(stack, action(stack, REFUND, transaction_id, "100.00"))

    assert Decimal(failed.pop("amount")) == Decimal("100.00")
    assert failed == {
        "result": "REFUND_FAILURE",
        "pspReference": f"{psp}-r1",
        "message": f"{merchant_message(code)} ({code})",
    }
    # A failed refund takes nothing: staff may try again, under a new refundRequestId.
    retried = await ask(stack, action(stack, REFUND, transaction_id, "100.00"))
    assert (retried["result"], retried["pspReference"]) == ("REFUND_SUCCESS", f"{psp}-r2")
    refunds = await sandbox_refunds(stack, psp)
    assert [(r.refund_request_id, r.status.value) for r in refunds] == [
        (f"{psp}-r1", "FAIL"),
        (f"{psp}-r2", "SUCCESS"),
    ]


# -- cancel ------------------------------------------------------------------------------------


async def test_cancel_before_the_qr_scan_means_the_payment_never_charges(stack: Stack) -> None:
    payload, started = await stack.start_qr_payment(Decimal("88.00"))
    transaction_id = payload["transaction"]["id"]
    psp = started["pspReference"]
    calls = record_antom_calls(stack)

    body = await ask(stack, action(stack, CANCEL, transaction_id, "88.00"), CANCEL)

    assert body == {"result": "CANCEL_SUCCESS", "pspReference": psp, "actions": []}
    # The shopper scans and approves afterwards anyway: the app binds, but never pays.
    await stack.approve(started["data"]["bindingId"], login="85261234567")
    await stack.wait_for(
        lambda: ("applyToken", "success") in calls, what="the approval's token exchange"
    )
    process = await ask(
        stack,
        stack.saleor.payload(
            SyncEvent.TRANSACTION_PROCESS_SESSION, transaction={"id": transaction_id}
        ),
        SyncEvent.TRANSACTION_PROCESS_SESSION,
    )
    assert process["result"] == "CHARGE_FAILURE"
    assert process["pspReference"] == psp
    await asyncio.sleep(0.5)  # let any stray work run before checking nothing was charged
    assert [call for call, _ in calls if call == "pay"] == []
    assert await sandbox_json(stack, "/payments") == []
    [row] = await app_rows(stack, Payment)
    assert row.status is PaymentStatus.CANCELLED
    assert events_of(stack, transaction_id, "CHARGE_SUCCESS") == []


async def test_cancel_while_antom_processes_cancels_at_antom(stack: Stack) -> None:
    await qr_purchase(stack)
    method_id = await stored_method_id(stack)
    set_sandbox_process_delay(stack, 30.0)
    await stack.scenario("PAYMENT_IN_PROCESS_THEN_SUCCESS", calls=["pay"])
    payload = one_click_payload(stack, method_id, Decimal("45.00"))
    transaction_id = payload["transaction"]["id"]
    paying = asyncio.create_task(
        timed_deliver(stack, SyncEvent.TRANSACTION_INITIALIZE_SESSION, payload)
    )

    async def processing() -> bool:
        payments = await sandbox_json(stack, "/payments")
        return any(p["status"] == "PROCESSING" for p in payments)

    while not await processing():
        assert not paying.done(), paying.result()
        await asyncio.sleep(0.05)
    [antom_payment] = [
        p for p in await sandbox_json(stack, "/payments") if p["status"] == "PROCESSING"
    ]
    psp = antom_payment["paymentRequestId"]

    body = await ask(stack, action(stack, CANCEL, transaction_id, "45.00"), CANCEL)

    assert body == {"result": "CANCEL_SUCCESS", "pspReference": psp, "actions": []}
    assert (await sandbox_payment(stack, psp))["status"] == "CANCELLED"
    # The checkout's own webhook, still waiting, ends with the failure (never a success).
    session, elapsed = await paying
    assert elapsed < ANSWER_WITHIN
    assert session["result"] == "CHARGE_FAILURE"
    assert session["pspReference"] == psp
    assert (
        session["message"] == "The payment was cancelled before it completed; no money was taken."
    )
    await stack.wait_for(
        lambda: bool(events_of(stack, transaction_id, "CHARGE_FAILURE")),
        what="CHARGE_FAILURE reported for the cancelled payment",
    )
    assert events_of(stack, transaction_id, "CHARGE_SUCCESS") == []


async def test_cancel_after_success_tells_staff_to_refund(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack)
    calls = record_antom_calls(stack)

    body = await ask(stack, action(stack, CANCEL, transaction_id, "100.00"), CANCEL)

    assert body == {
        "result": "CANCEL_FAILURE",
        "pspReference": psp,
        "message": "The payment is complete: refund it instead of cancelling.",
        "actions": ["REFUND"],
    }
    assert calls == []
    assert (await sandbox_payment(stack, psp))["status"] == "SUCCESS"


# -- charge ------------------------------------------------------------------------------------


async def test_charge_on_a_paid_transaction_succeeds_without_paying_again(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"))
    calls = record_antom_calls(stack)

    body = await ask(stack, action(stack, CHARGE, transaction_id, "100.00"), CHARGE)
    again = await ask(stack, action(stack, CHARGE, transaction_id, "100.00"), CHARGE)

    assert again == body
    assert Decimal(body.pop("amount")) == Decimal("100.00")
    assert body == {"result": "CHARGE_SUCCESS", "pspReference": psp, "actions": ["REFUND"]}
    assert calls == []
    [antom_payment] = await sandbox_json(stack, "/payments", clientId=CLIENT_ID)
    assert antom_payment["payRequests"] == 1
    assert len(await app_rows(stack, Payment)) == 1


async def test_charge_after_a_failed_payment_charges_the_agreement_once_more(
    stack: Stack,
) -> None:
    await qr_purchase(stack)
    method_id = await stored_method_id(stack)
    await stack.scenario("USER_BALANCE_NOT_ENOUGH", calls=["pay"])
    payload = one_click_payload(stack, method_id, Decimal("45.60"))
    failed, _ = await timed_deliver(stack, SyncEvent.TRANSACTION_INITIALIZE_SESSION, payload)
    assert failed["result"] == "CHARGE_FAILURE"
    transaction_id = payload["transaction"]["id"]
    calls = record_antom_calls(stack)

    body = await ask(stack, action(stack, CHARGE, transaction_id, "45.60"), CHARGE)
    again = await ask(stack, action(stack, CHARGE, transaction_id, "45.60"), CHARGE)

    # A new attempt under a new paymentRequestId; the repeated request pays nothing more.
    assert body["result"] == "CHARGE_SUCCESS"
    assert Decimal(body["amount"]) == Decimal("45.60")
    assert body["pspReference"] != failed["pspReference"]
    assert again == body
    assert calls == [("pay", "success")]
    antom = await sandbox_json(stack, "/payments", paymentRequestId=body["pspReference"])
    assert [(p["status"], p["payRequests"]) for p in antom] == [("SUCCESS", 1)]
    rows = await app_rows(stack, Payment, saleor_transaction_id=transaction_id)
    assert [r.status for r in rows] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
