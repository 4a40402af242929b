"""Customs declarations end to end: admin API -> app -> Antom sandbox (customs/declare and
inquiryDeclarationRequests), through every state the sandbox can produce, with the rules
checked before anything is sent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from saleor_alipay_app.antom.results import merchant_message
from saleor_alipay_app.customs.models import Declaration, DeclarationStatus
from saleor_alipay_app.customs.rules import declaration_request_id
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.saleor.events import SyncEvent
from tests.customs.conftest import (
    admin,
    advance_sandbox,
    cn_purchase,
    declaration_body,
    staff_headers,
)
from tests.support.stack import (
    Stack,
    app_rows,
    app_services,
    qr_purchase,
    record_antom_calls,
    sandbox_state,
)


def sandbox_declaration(stack: Stack, request_id: str) -> Any:
    """The declaration as the simulated Antom holds it (None when it never arrived)."""
    found = [
        d
        for (_client, rid), d in sandbox_state(stack).store.declarations.items()
        if rid == request_id
    ]
    assert len(found) <= 1
    return found[0] if found else None


async def declare(stack: Stack, psp: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await admin(stack, "POST", f"/payments/{psp}/declarations", json=body)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


async def refused(
    stack: Stack, psp: str, body: dict[str, Any], status: int = 400
) -> tuple[str, str]:
    response = await admin(stack, "POST", f"/payments/{psp}/declarations", json=body)
    assert response.status_code == status, response.text
    data = response.json()
    assert data["success"] is False
    return data["error"]["code"], data["error"]["message"]


async def shift_last_call(stack: Stack, declaration_id: int, minutes: float) -> None:
    """Move our record of the last declare call into the past (as if time had passed)."""
    async with app_services(stack).sessions() as session, session.begin():
        [row] = await app_rows(stack, Declaration, id=declaration_id)
        await session.execute(
            update(Declaration)
            .where(Declaration.id == declaration_id)  # type: ignore[arg-type]
            .values(last_call_at=row.last_call_at - timedelta(minutes=minutes))
        )


def statuses(item: dict[str, Any]) -> list[str]:
    return [h["status"] for h in item["history"]]


async def test_a_declaration_goes_through_its_states(stack: Stack) -> None:
    _, psp = await cn_purchase(stack, Decimal("100.00"))
    calls = record_antom_calls(stack)

    item = await declare(stack, psp, declaration_body("60.00"))

    expected_id = declaration_request_id(psp, 1)
    assert 1 <= len(expected_id) <= 32
    assert item["declarationRequestId"] == expected_id
    assert (item["paymentRequestId"], item["customsCode"], item["amount"], item["currency"]) == (
        psp,
        "ZONGSHU",
        "60.00",
        "CNY",
    )
    assert (item["status"], item["splitOrder"], item["suborderId"]) == ("IN_PROCESS", False, None)
    assert statuses(item) == ["PENDING", "IN_PROCESS"]
    assert item["antom"]["identityCheckResult"] == "CHECK_PASSED"
    assert item["buyer"] == {
        "certificateType": "ID_CARD",
        "certificateNo": "**************777X",
        "holderName": "W********",
    }
    at_antom = sandbox_declaration(stack, expected_id)
    assert at_antom.amount.value == 6000
    assert (at_antom.customs_code, at_antom.merchant_customs_code) == ("ZONGSHU", "3301960ABC")
    assert (at_antom.certificate_type, at_antom.certificate_no, at_antom.holder_name) == (
        "ID_CARD",
        "11010119900307777X",
        "Wang Fang",
    )
    assert item["antom"]["customsPaymentId"] == at_antom.customs_payment_id
    assert calls == [("declare", "success")]
    # The buyer's identity is stored encrypted.
    [row] = await app_rows(stack, Declaration)
    assert "11010119900307777X" not in row.certificate_no_encrypted
    assert "Wang Fang" not in row.holder_name_encrypted

    # Customs is still working on it.
    inquired = (await admin(stack, "POST", f"/declarations/{item['id']}/inquire")).json()
    assert inquired["status"] == "IN_PROCESS"
    assert statuses(inquired) == ["PENDING", "IN_PROCESS"]

    # After the sandbox's customs delay: verified (120).
    await advance_sandbox(stack, 61)
    inquired = (await admin(stack, "POST", f"/declarations/{item['id']}/inquire")).json()
    assert inquired["status"] == "COMPLETED"
    assert inquired["antom"]["customsDeclarationResultCode"] == "120"
    assert inquired["antom"]["customsDeclarationResultDesc"] == "Verified by customs"
    assert inquired["antom"]["declarationRequestStatus"] == "CUSTOMS_PROCESSING_COMPLETED"
    assert statuses(inquired) == ["PENDING", "IN_PROCESS", "COMPLETED"]
    assert inquired["history"][-1]["detail"] == "customs result 120 (Verified by customs)"
    assert calls == [
        ("declare", "success"),
        ("inquiryDeclarationRequests", "success"),
        ("inquiryDeclarationRequests", "success"),
    ]

    # A correction within 5 minutes of the last call is refused here, and Antom is not called.
    response = await admin(
        stack, "POST", f"/declarations/{item['id']}/redeclare", json={"amount": "50.00"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "REDECLARE_TOO_EARLY"
    assert len(calls) == 3
    # Fields Antom does not let change are refused too.
    response = await admin(
        stack, "POST", f"/declarations/{item['id']}/redeclare", json={"splitOrder": True}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "FIELD_NOT_CHANGEABLE"

    # Five minutes later (on both clocks), the same declarationRequestId carries the correction.
    await shift_last_call(stack, item["id"], 6)
    await advance_sandbox(stack, 301)
    response = await admin(
        stack,
        "POST",
        f"/declarations/{item['id']}/redeclare",
        json={"amount": "50.00", "buyer": {"holderName": "Wang Fang Li"}},
    )
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert (corrected["declarationRequestId"], corrected["amount"]) == (expected_id, "50.00")
    assert corrected["status"] == "IN_PROCESS"
    assert statuses(corrected) == ["PENDING", "IN_PROCESS", "COMPLETED", "PENDING", "IN_PROCESS"]
    assert corrected["history"][3]["detail"] == (
        "re-declared: amount 60.00 -> 50.00; buyer name corrected"
    )
    at_antom = sandbox_declaration(stack, expected_id)
    assert (at_antom.amount.value, at_antom.holder_name) == (5000, "Wang Fang Li")
    assert calls[-1] == ("declare", "success")

    # Customs starts over, and completes again.
    await advance_sandbox(stack, 61)
    inquired = (await admin(stack, "POST", f"/declarations/{item['id']}/inquire")).json()
    assert inquired["status"] == "COMPLETED"

    listed = (await admin(stack, "GET", "/declarations", params={"paymentRequestId": psp})).json()
    assert listed["total"] == 1
    [entry] = listed["items"]
    assert {k: entry[k] for k in ("id", "declarationRequestId", "amount", "status")} == {
        "id": item["id"],
        "declarationRequestId": expected_id,
        "amount": "50.00",
        "status": "COMPLETED",
    }
    assert set(entry) >= {
        "id", "declarationRequestId", "paymentRequestId", "customsCode", "amount", "currency",
        "status", "splitOrder", "suborderId", "createdAt", "updatedAt",
    }  # fmt: skip
    empty = (await admin(stack, "GET", "/declarations", params={"status": "FAILED"})).json()
    assert empty == {"items": [], "total": 0}


async def test_split_declarations_add_up_to_the_paid_amount(stack: Stack) -> None:
    _, psp = await cn_purchase(stack, Decimal("100.00"))
    first = await declare(
        stack, psp, declaration_body("70.00", splitOrder=True, suborderId="sub-1")
    )
    second = await declare(
        stack, psp, declaration_body("30.00", splitOrder=True, suborderId="sub-2")
    )
    assert (first["status"], second["status"]) == ("IN_PROCESS", "IN_PROCESS")
    assert (first["declarationRequestId"], second["declarationRequestId"]) == (
        declaration_request_id(psp, 1),
        declaration_request_id(psp, 2),
    )
    assert (second["splitOrder"], second["suborderId"]) == (True, "sub-2")
    calls = record_antom_calls(stack)
    code, message = await refused(
        stack, psp, declaration_body("0.01", splitOrder=True, suborderId="sub-3")
    )
    assert code == "AMOUNT_EXCEEDS_PAID"
    assert message == (
        "CNY 0.01 is more than can still be declared: paid 100.00, refunded 0.00, "
        "already declared 100.00, so at most 0.00"
    )
    assert calls == []
    # Both declarations are inquired in one call (up to 10 per call).
    await advance_sandbox(stack, 61)
    from saleor_alipay_app.customs import service

    [installation_id] = {r.installation_id for r in await app_rows(stack, Declaration)}
    result = await service.inquire(app_services(stack).payments, installation_id)
    assert result.problems == []
    assert [d.status for d in result.declarations] == [DeclarationStatus.COMPLETED] * 2
    assert calls == [("inquiryDeclarationRequests", "success")]


async def test_bad_input_gets_a_clear_error_and_calls_nothing(stack: Stack) -> None:
    transaction_id, psp = await cn_purchase(stack, Decimal("100.00"))
    _, hk_psp = await qr_purchase(stack, Decimal("50.00"))
    calls = record_antom_calls(stack)

    cases: list[tuple[str, dict[str, Any], str, str]] = [
        (
            psp,
            declaration_body(customsCode="BEIJING"),
            "UNKNOWN_CUSTOMS_CODE",
            "unknown customs code 'BEIJING': use one of ZONGSHU, ZHENGZHOU, NINGBO, "
            "SHANGHAI_CBT, HENAN",
        ),
        (
            psp,
            declaration_body("100.01"),
            "AMOUNT_EXCEEDS_PAID",
            "CNY 100.01 is more than can still be declared: paid 100.00, refunded 0.00, "
            "already declared 0.00, so at most 100.00",
        ),
        (
            psp,
            declaration_body("12.345"),
            "INVALID_AMOUNT",
            "amount: CNY 12.345 has more decimals than CNY allows (2); refusing to round",
        ),
        (
            psp,
            declaration_body("0"),
            "INVALID_AMOUNT",
            "the declared amount must be more than zero",
        ),
        (
            psp,
            declaration_body(buyer=None),
            "MISSING_BUYER_IDENTITY",
            "the buyer's identity is required: certificateType (ID_CARD or PASSPORT), "
            "certificateNo and holderName",
        ),
        (
            psp,
            declaration_body(
                buyer={"certificateType": "ID_CARD", "certificateNo": "11010119900307777X"}
            ),
            "MISSING_FIELD",
            "buyer.holderName is required",
        ),
        (
            psp,
            declaration_body(
                buyer={
                    "certificateType": "DRIVING_LICENCE",
                    "certificateNo": "1",
                    "holderName": "A",
                }
            ),
            "INVALID_FIELD",
            "buyer.certificateType must be ID_CARD or PASSPORT",
        ),
        (
            psp,
            declaration_body(
                buyer={"certificateType": "ID_CARD", "certificateNo": "1234", "holderName": "A"}
            ),
            "INVALID_FIELD",
            "buyer.certificateNo: a resident ID card number has 18 characters "
            "(17 digits and a digit or X)",
        ),
        (
            psp,
            declaration_body(splitOrder=True),
            "MISSING_FIELD",
            "suborderId (needed for a split declaration) is required",
        ),
        (
            psp,
            declaration_body(merchantCustomsCode=""),
            "MISSING_FIELD",
            "merchantCustomsCode is required",
        ),
        (
            hk_psp,
            declaration_body("10.00"),
            "NOT_DECLARABLE",
            "customs declaration is for Alipay CN payments in CNY; this one is HKD with ALIPAY_HK",
        ),
    ]
    for target, body, code, message in cases:
        assert await refused(stack, target, body) == (code, message), body
    assert await refused(stack, "no-such-payment", declaration_body(), 404) == (
        "PAYMENT_NOT_FOUND",
        "no payment 'no-such-payment' in this store",
    )
    # An unpaid payment.
    async with app_services(stack).sessions() as session, session.begin():
        await session.execute(
            update(Payment)
            .where(Payment.payment_request_id == hk_psp)  # type: ignore[arg-type]
            .values(status=PaymentStatus.FAILED)
        )
    assert (await refused(stack, hk_psp, declaration_body()))[0] == "PAYMENT_NOT_PAID"
    assert calls == []
    assert await app_rows(stack, Declaration) == []

    # Refunds reduce what can be declared; a payment refunded in full cannot be declared.
    refund = await stack.call(
        SyncEvent.TRANSACTION_REFUND_REQUESTED,
        amount=Decimal("40.00"),
        transaction={"id": transaction_id},
        channel_slug="cn-web",
    )
    assert refund["result"] == "REFUND_SUCCESS", refund
    calls.clear()
    assert await refused(stack, psp, declaration_body("60.01")) == (
        "AMOUNT_EXCEEDS_PAID",
        "CNY 60.01 is more than can still be declared: paid 100.00, refunded 40.00, "
        "already declared 0.00, so at most 60.00",
    )
    await declare(stack, psp, declaration_body("60.00"))
    # Nothing is left to declare.
    calls.clear()
    assert (await refused(stack, psp, declaration_body("0.01")))[0] == "AMOUNT_EXCEEDS_PAID"
    refund = await stack.call(
        SyncEvent.TRANSACTION_REFUND_REQUESTED,
        amount=Decimal("60.00"),
        transaction={"id": transaction_id},
        channel_slug="cn-web",
    )
    assert refund["result"] == "REFUND_SUCCESS", refund
    calls.clear()
    assert await refused(stack, psp, declaration_body("1.00", customsCode="NINGBO")) == (
        "PAYMENT_REFUNDED",
        f"payment {psp} was refunded in full: nothing to declare",
    )
    assert calls == []

    # The admin API needs a dashboard token with HANDLE_PAYMENTS.
    response = await admin(stack, "GET", "/declarations", headers={})
    assert response.status_code == 401
    response = await admin(
        stack, "GET", "/declarations", headers=staff_headers(stack, ("MANAGE_ORDERS",))
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


async def test_duplicate_declaration_to_the_same_customs_is_refused(stack: Stack) -> None:
    _, psp = await cn_purchase(stack, Decimal("100.00"))
    await declare(stack, psp, declaration_body("40.00"))
    calls = record_antom_calls(stack)
    code, message = await refused(stack, psp, declaration_body("10.00"))
    assert code == "DUPLICATED_DECLARATION"
    assert message.startswith("this payment is already declared to ZONGSHU")
    # Split at this customs needs both split: the first was not.
    code, _ = await refused(
        stack, psp, declaration_body("10.00", splitOrder=True, suborderId="s-2")
    )
    assert code == "DUPLICATED_DECLARATION"
    assert calls == []
    # Another customs authority is fine.
    other = await declare(stack, psp, declaration_body("10.00", customsCode="NINGBO"))
    assert other["status"] == "IN_PROCESS"


async def test_antom_refusal_and_unknown_outcomes(stack: Stack) -> None:
    _, psp = await cn_purchase(stack, Decimal("100.00"))

    # Antom refuses it (F): the declaration is FAILED and its amount is free again.
    await stack.scenario("UNSIGNED_ERROR", calls=["declare"])
    failed = await declare(stack, psp, declaration_body("80.00"))
    assert failed["status"] == "FAILED"
    assert failed["resultCode"] == "PROCESS_FAIL"
    assert statuses(failed) == ["PENDING", "FAILED"]
    assert failed["history"][-1]["detail"] == f"PROCESS_FAIL: {merchant_message('PROCESS_FAIL')}"
    assert sandbox_declaration(stack, failed["declarationRequestId"]) is None
    response = await admin(
        stack, "POST", f"/declarations/{failed['id']}/redeclare", json={"amount": "70.00"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "DECLARATION_FAILED"

    # No usable answer (HTTP 500): PENDING; the inquiry finds it at Antom and moves it on.
    await stack.scenario("HTTP_500", calls=["declare"])
    pending = await declare(stack, psp, declaration_body("80.00"))
    assert pending["declarationRequestId"] == declaration_request_id(psp, 2)
    assert pending["status"] == "PENDING"
    assert pending["resultCode"] == "NO_ANSWER"
    assert statuses(pending) == ["PENDING", "UNKNOWN"]
    # Its outcome unknown, a correction waits for the inquiry.
    response = await admin(
        stack, "POST", f"/declarations/{pending['id']}/redeclare", json={"amount": "70.00"}
    )
    assert response.json()["error"]["code"] == "OUTCOME_UNKNOWN"
    inquired = (await admin(stack, "POST", f"/declarations/{pending['id']}/inquire")).json()
    assert inquired["status"] == "IN_PROCESS"
    assert statuses(inquired) == ["PENDING", "UNKNOWN", "IN_PROCESS"]

    # A correction Antom refuses: the declaration goes back to what it was.
    await shift_last_call(stack, pending["id"], 6)
    await advance_sandbox(stack, 301)
    await stack.scenario("UNSIGNED_ERROR", calls=["declare"])
    response = await admin(
        stack, "POST", f"/declarations/{pending['id']}/redeclare", json={"amount": "70.00"}
    )
    assert response.status_code == 200, response.text
    restored = response.json()
    assert (restored["amount"], restored["status"], restored["resultCode"]) == (
        "80.00",
        "IN_PROCESS",
        "PROCESS_FAIL",
    )
    assert statuses(restored)[-2:] == ["PENDING", "REDECLARE_REFUSED"]
    assert restored["history"][-2]["detail"] == "re-declared: amount 80.00 -> 70.00"
    assert sandbox_declaration(stack, pending["declarationRequestId"]).amount.value == 8000

    # A signed U answer (UNKNOWN_EXCEPTION): PENDING; re-sending the identical request is safe.
    await stack.scenario("UNKNOWN_EXCEPTION", calls=["declare"])
    unknown = await declare(stack, psp, declaration_body("20.00", customsCode="NINGBO"))
    assert (unknown["status"], unknown["resultCode"]) == ("PENDING", "UNKNOWN_EXCEPTION")
    calls = record_antom_calls(stack)
    resent = await admin(stack, "POST", f"/declarations/{unknown['id']}/redeclare", json={})
    assert resent.status_code == 200, resent.text
    assert resent.json()["status"] == "IN_PROCESS"
    assert statuses(resent.json()) == ["PENDING", "UNKNOWN", "RESENT", "IN_PROCESS"]
    assert calls == [("declare", "success")]
    at_antom = sandbox_declaration(stack, unknown["declarationRequestId"])
    assert at_antom.amount.value == 2000


async def test_inquiries_ask_for_ten_declarations_at_most(stack: Stack) -> None:
    _, psp = await cn_purchase(stack, Decimal("11.00"))
    for n in range(1, 12):
        item = await declare(
            stack,
            psp,
            declaration_body("1.00", customsCode="HENAN", splitOrder=True, suborderId=f"s{n}"),
        )
        assert item["declarationRequestId"] == declaration_request_id(psp, n)
    calls = record_antom_calls(stack)
    await advance_sandbox(stack, 61)
    from saleor_alipay_app.customs import service

    [installation_id] = {r.installation_id for r in await app_rows(stack, Declaration)}
    result = await service.inquire(app_services(stack).payments, installation_id)
    assert result.problems == []
    assert calls == [("inquiryDeclarationRequests", "success")] * 2
    assert [d.status for d in result.declarations] == [DeclarationStatus.COMPLETED] * 11
    listed = (await admin(stack, "GET", "/declarations", params={"limit": "5"})).json()
    assert (listed["total"], len(listed["items"])) == (11, 5)
    assert listed["items"][0]["suborderId"] == "s11"  # newest first
