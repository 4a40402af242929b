"""refund and inquiryRefund: idempotency, totals, windows, minimums, notifications."""

from __future__ import annotations

from typing import Any

from .conftest import Env


def refund_body(
    payment_id: str, request_id: str, value: str, currency: str = "HKD"
) -> dict[str, Any]:
    return {
        "refundRequestId": request_id,
        "paymentId": payment_id,
        "refundAmount": {"currency": currency, "value": value},
        "refundReason": "changed my mind",
    }


async def paid(env: Env, value: str = "1000", **kw: Any) -> str:
    token = (await env.bind(kw.get("wallet", "ALIPAY_HK")))["accessToken"]
    reply = await env.pay(token, value, **kw)
    assert reply.code == "SUCCESS", reply.text
    payment_id: str = reply.body["paymentId"]
    return payment_id


async def test_multiple_partial_refunds_up_to_the_paid_amount(env: Env) -> None:
    payment_id = await paid(env, "1000", request_id="pay-partial")
    ids = []
    for index, value in enumerate(("300", "300", "400")):
        reply = await env.call("payments/refund", refund_body(payment_id, f"rf-{index}", value))
        assert reply.code == "SUCCESS", reply.text
        assert reply.body["refundAmount"] == {"currency": "HKD", "value": value}
        assert reply.body["paymentId"] == payment_id
        assert reply.body["refundTime"]
        ids.append(reply.body["refundId"])
    assert len(set(ids)) == 3
    over = await env.call("payments/refund", refund_body(payment_id, "rf-3", "1"))
    assert over.code == "REFUND_AMOUNT_EXCEED"
    assert over.status_letter == "F"

    notes = await env.receiver.wait_for("refund", 3)
    assert all(n.verified for n in notes)
    # each notification is delivered on its own, so they may arrive in any order
    assert sorted(n.body["refundRequestId"] for n in notes) == ["rf-0", "rf-1", "rf-2"]
    assert {n.body["refundStatus"] for n in notes} == {"SUCCESS"}

    inquiry = await env.call("payments/inquiryPayment", {"paymentRequestId": "pay-partial"})
    transactions = inquiry.body["transactions"]
    assert [t["transactionRequestId"] for t in transactions] == ["rf-0", "rf-1", "rf-2"]
    assert {t["transactionType"] for t in transactions} == {"REFUND"}
    assert {t["transactionStatus"] for t in transactions} == {"SUCCESS"}
    assert transactions[0]["transactionId"] == ids[0]
    assert inquiry.body["paymentStatus"] == "SUCCESS"  # a refunded payment stays SUCCESS

    by_id = await env.call("payments/inquiryRefund", {"refundId": ids[2]})
    by_request = await env.call("payments/inquiryRefund", {"refundRequestId": "rf-2"})
    assert by_id.body == by_request.body
    assert by_id.body["refundStatus"] == "SUCCESS"
    assert by_id.body["refundAmount"] == {"currency": "HKD", "value": "400"}


async def test_refund_idempotency(env: Env) -> None:
    payment_id = await paid(env)
    body = refund_body(payment_id, "rf-idem", "200")
    first = await env.call("payments/refund", body)
    again = await env.call("payments/refund", body)
    assert again.body == first.body
    changed = await env.call("payments/refund", refund_body(payment_id, "rf-idem", "201"))
    assert changed.code == "REPEAT_REQ_INCONSISTENT"
    await env.receiver.wait_for("refund")
    assert len(await env.notifications(kind="notifyRefund")) == 1


async def test_refund_rules(env: Env) -> None:
    payment_id = await paid(env, "1000")
    assert (await env.call("payments/refund", refund_body(payment_id, "a", "1001"))).code == (
        "REFUND_AMOUNT_EXCEED"
    )
    assert (await env.call("payments/refund", refund_body(payment_id, "b", "0"))).code == (
        "PARAM_ILLEGAL"
    )
    assert (await env.call("payments/refund", refund_body(payment_id, "c", "10", "USD"))).code == (
        "CURRENCY_NOT_SUPPORT"
    )
    assert (await env.call("payments/refund", refund_body("nope", "d", "10"))).code == (
        "ORDER_NOT_EXIST"
    )
    missing = await env.call("payments/inquiryRefund", {"refundRequestId": "never"})
    assert missing.code == "ORDER_NOT_EXIST"
    assert (await env.call("payments/inquiryRefund", {})).code == "PARAM_ILLEGAL"

    dana = await paid(env, "100000", currency="IDR", wallet="DANA")
    assert (await env.call("payments/refund", refund_body(dana, "e", "29900", "IDR"))).code == (
        "PARAM_ILLEGAL"  # below the IDR 300 minimum refund
    )
    assert (await env.call("payments/refund", refund_body(dana, "f", "30000", "IDR"))).code == (
        "SUCCESS"
    )

    await env.advance(366 * 86400)
    late = await env.call("payments/refund", refund_body(payment_id, "g", "10"))
    assert late.code == "REFUND_WINDOW_EXCEED"


async def test_only_successful_payments_can_be_refunded(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    failed = await env.pay(token, "500", "USER_BALANCE_NOT_ENOUGH")
    reply = await env.call("payments/refund", refund_body(failed.body["paymentId"], "r1", "100"))
    assert reply.code == "ORDER_STATUS_INVALID"
    slow = await env.pay(token, "500", "PAYMENT_IN_PROCESS_THEN_SUCCESS")
    reply = await env.call("payments/refund", refund_body(slow.body["paymentId"], "r2", "100"))
    assert reply.code == "ORDER_STATUS_INVALID"


async def test_refund_notify_url_from_the_request_wins(env: Env) -> None:
    payment_id = await paid(env)
    body = {
        **refund_body(payment_id, "rf-url", "100"),
        "refundNotifyUrl": env.receiver.url + "/notify/mine",
    }
    assert (await env.call("payments/refund", body)).code == "SUCCESS"
    (note,) = await env.receiver.wait_for("mine")
    assert note.body["refundRequestId"] == "rf-url"
    assert env.receiver.of("refund") == []
