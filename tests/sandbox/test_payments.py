"""pay (Auto Debit), inquiryPayment and cancel against the sandbox's state."""

from __future__ import annotations

from datetime import datetime, timedelta

from .conftest import Env


async def test_pay_success_notifies_and_inquiry_agrees(env: Env) -> None:
    tokens = await env.bind("ALIPAY_HK", "85261234567")
    body = env.pay_body(tokens["accessToken"], "12345", request_id="pay-ok-1")
    reply = await env.call("payments/pay", body)
    assert reply.code == "SUCCESS"
    assert reply.status_letter == "S"
    paid = reply.body
    assert paid["paymentRequestId"] == "pay-ok-1"
    assert paid["paymentAmount"] == {"currency": "HKD", "value": "12345"}
    assert paid["paymentId"]
    assert paid["paymentTime"]
    assert paid["pspCustomerInfo"]["pspName"] == "ALIPAY_HK"
    assert paid["pspCustomerInfo"]["displayCustomerId"] == "852****4567"
    assert "grossSettlementAmount" not in paid

    (note,) = await env.receiver.wait_for("payment")
    assert note.verified
    assert note.body["notifyType"] == "PAYMENT_RESULT"
    assert note.body["result"]["resultStatus"] == "S"
    assert note.body["paymentId"] == paid["paymentId"]
    assert note.body["paymentAmount"] == {"currency": "HKD", "value": "12345"}
    assert note.body["paymentTime"] == paid["paymentTime"]

    for key in ({"paymentRequestId": "pay-ok-1"}, {"paymentId": paid["paymentId"]}):
        inquiry = await env.call("payments/inquiryPayment", key)
        assert inquiry.code == "SUCCESS"
        assert inquiry.body["paymentStatus"] == "SUCCESS"
        assert inquiry.body["paymentResultCode"] == "SUCCESS"
        assert inquiry.body["paymentId"] == paid["paymentId"]
        assert inquiry.body["paymentTime"] == paid["paymentTime"]
        assert "transactions" not in inquiry.body


async def test_idempotency_and_repeat_inconsistent(env: Env) -> None:
    tokens = await env.bind()
    body = env.pay_body(tokens["accessToken"], "500", request_id="pay-idem")
    first = await env.call("payments/pay", body)
    assert first.code == "SUCCESS"
    again = await env.call("payments/pay", body)
    assert again.body == first.body
    # fields outside the key fields may differ
    described = {**body, "order": {**body["order"], "orderDescription": "changed"}}
    assert (await env.call("payments/pay", described)).body == first.body

    more = {**body, "paymentAmount": {"currency": "HKD", "value": "501"}}
    reply = await env.call("payments/pay", more)
    assert reply.code == "REPEAT_REQ_INCONSISTENT"
    assert reply.status_letter == "F"
    other_token = (await env.bind())["accessToken"]
    swapped = {
        **body,
        "paymentMethod": {"paymentMethodType": "ALIPAY_HK", "paymentMethodId": other_token},
    }
    assert (await env.call("payments/pay", swapped)).code == "REPEAT_REQ_INCONSISTENT"

    listed = (await env.api("GET", "/payments", params={"paymentRequestId": "pay-idem"})).json()
    assert len(listed) == 1
    assert listed[0]["paymentId"] == first.body["paymentId"]
    assert listed[0]["status"] == "SUCCESS"
    assert listed[0]["payRequests"] == 5  # every pay naming the id, consistent or not

    await env.receiver.wait_for("payment")
    logged = await env.notifications(kind="notifyPayment", reference="pay-idem")
    assert len(logged) == 1  # one payment, one notification, however often it was asked


async def test_wallet_limits_and_amount_rules(env: Env) -> None:
    hk = (await env.bind("ALIPAY_HK"))["accessToken"]
    assert (await env.pay(hk, "0")).code == "PARAM_ILLEGAL"
    assert (await env.pay(hk, "1")).code == "SUCCESS"  # HKD 0.01 is the auto-debit minimum
    assert (await env.pay(hk, "5000000")).code == "SUCCESS"  # HKD 50,000
    over = await env.pay(hk, "5000001")
    assert over.code == "PAYMENT_AMOUNT_EXCEED_LIMIT"
    assert over.status_letter == "F"
    assert (await env.pay(hk, "100", currency="USD")).code == "CURRENCY_NOT_SUPPORT"
    numeric = env.pay_body(hk, "100")
    numeric["paymentAmount"] = {"currency": "HKD", "value": 100}
    assert (await env.call("payments/pay", numeric)).code == "PARAM_ILLEGAL"

    dana = (await env.bind("DANA"))["accessToken"]
    kw = {"currency": "IDR", "wallet": "DANA"}
    assert (await env.pay(dana, "3000050", **kw)).code == "PARAM_ILLEGAL"  # IDR ends in 00
    assert (await env.pay(dana, "29900", **kw)).code == "PARAM_ILLEGAL"  # below IDR 300
    assert (await env.pay(dana, "30000", **kw)).code == "SUCCESS"
    assert (await env.pay(dana, "1000000100", **kw)).code == "PAYMENT_AMOUNT_EXCEED_LIMIT"

    kakao = (await env.bind("KAKAOPAY"))["accessToken"]
    assert (await env.pay(kakao, "18000", currency="KRW", wallet="KAKAOPAY")).code == "SUCCESS"
    assert (await env.pay(kakao, "49", currency="KRW", wallet="KAKAOPAY")).code == "PARAM_ILLEGAL"


async def test_daily_limit_per_shopper(env: Env) -> None:
    dana = (await env.bind("DANA", "6281200000001"))["accessToken"]
    kw = {"currency": "IDR", "wallet": "DANA"}
    assert (await env.pay(dana, "1000000000", **kw)).code == "SUCCESS"  # IDR 10,000,000
    assert (await env.pay(dana, "1000000000", **kw)).code == "SUCCESS"
    over = await env.pay(dana, "30000", **kw)
    assert over.code == "USER_AMOUNT_EXCEED_LIMIT"
    await env.advance(86400)
    assert (await env.pay(dana, "30000", **kw)).code == "SUCCESS"


async def test_period_limit_counts_paid_and_in_process_payments_only(env: Env) -> None:
    dana = (await env.bind("DANA", "6281200000002"))["accessToken"]
    kw = {"currency": "IDR", "wallet": "DANA"}
    paid = await env.pay(dana, "1000000000", request_id="limit-paid", **kw)  # IDR 10,000,000
    assert paid.code == "SUCCESS"
    refused = await env.pay(dana, "1000000000", scenario="USER_BALANCE_NOT_ENOUGH", **kw)
    assert refused.code == "USER_BALANCE_NOT_ENOUGH"  # a failed payment spends nothing
    pending = await env.pay(dana, "1000000000", scenario="PAYMENT_IN_PROCESS_THEN_FAIL", **kw)
    assert pending.code == "PAYMENT_IN_PROCESS"  # an in-process one does, while it lasts
    assert (await env.pay(dana, "30000", **kw)).code == "USER_AMOUNT_EXCEED_LIMIT"
    cancel = await env.call("payments/cancel", {"paymentRequestId": "limit-paid"})
    assert cancel.code == "SUCCESS"  # a cancelled payment gives its amount back
    assert (await env.pay(dana, "30000", **kw)).code == "SUCCESS"
    assert (await env.pay(dana, "1000000000", **kw)).code == "USER_AMOUNT_EXCEED_LIMIT"


async def test_pay_request_checks(env: Env) -> None:
    hk = (await env.bind("ALIPAY_HK"))["accessToken"]
    cashier = env.pay_body(hk, "100", productCode="CASHIER_PAYMENT")
    assert (await env.call("payments/pay", cashier)).code == "PARAM_ILLEGAL"
    missing = env.pay_body(hk, "100")
    del missing["order"]
    assert (await env.call("payments/pay", missing)).code == "PARAM_ILLEGAL"
    # a token used for another wallet is not a token of that wallet
    assert (
        await env.pay(hk, "30000", currency="IDR", wallet="DANA")
    ).code == "INVALID_ACCESS_TOKEN"
    assert (await env.pay("not-a-token", "100")).code == "INVALID_ACCESS_TOKEN"
    assert (await env.pay(hk, "100", wallet="BOOST")).code == "NO_PAY_OPTIONS"

    late = (datetime.now().astimezone() + timedelta(minutes=5)).isoformat(timespec="seconds")
    assert (await env.pay(hk, "100", paymentExpiryTime=late)).code == "PARAM_ILLEGAL"
    soon = (datetime.now().astimezone() + timedelta(seconds=30)).isoformat(timespec="seconds")
    assert (await env.pay(hk, "100", paymentExpiryTime=soon)).code == "SUCCESS"


async def test_failed_payment_is_stored_and_inquirable(env: Env) -> None:
    reply = await env.pay("unknown-token", "100", request_id="pay-dead-token")
    assert reply.code == "INVALID_ACCESS_TOKEN"
    inquiry = await env.call("payments/inquiryPayment", {"paymentRequestId": "pay-dead-token"})
    assert inquiry.body["paymentStatus"] == "FAIL"
    assert inquiry.body["paymentResultCode"] == "INVALID_ACCESS_TOKEN"
    assert (await env.call("payments/inquiryPayment", {})).code == "PARAM_ILLEGAL"
    missing = await env.call("payments/inquiryPayment", {"paymentId": "2024000000"})
    assert missing.code == "ORDER_NOT_EXIST"


async def test_settlement_in_another_currency_carries_a_quote(env: Env) -> None:
    hk = (await env.bind("ALIPAY_HK"))["accessToken"]
    reply = await env.pay(hk, "10000", settlement_currency="USD")
    assert reply.code == "SUCCESS"
    assert reply.body["grossSettlementAmount"] == {"currency": "USD", "value": "1282"}
    quote = reply.body["settlementQuote"]
    assert quote["quoteCurrencyPair"] == "HKD/USD"
    assert quote["quotePrice"] == "0.12820000"
    unknown = await env.pay(hk, "10000", settlement_currency="MXN")
    assert unknown.code == "SETTLE_CONTRACT_NOT_MATCH"


async def test_alipay_cn_payments_carry_the_customs_amount(env: Env) -> None:
    cn = (await env.bind("ALIPAY_CN"))["accessToken"]
    reply = await env.pay(cn, "9900", currency="CNY", wallet="ALIPAY_CN", request_id="pay-cn")
    assert reply.code == "SUCCESS"
    (note,) = await env.receiver.wait_for("payment")
    assert note.body["customsDeclarationAmount"] == {"currency": "CNY", "value": "9900"}
    inquiry = await env.call("payments/inquiryPayment", {"paymentRequestId": "pay-cn"})
    assert inquiry.body["customsDeclarationAmount"] == {"currency": "CNY", "value": "9900"}


async def test_cancel_reverses_a_paid_payment_within_a_day(env: Env) -> None:
    hk = (await env.bind())["accessToken"]
    body = env.pay_body(hk, "800", request_id="pay-cancel")
    paid = await env.call("payments/pay", body)
    cancel = await env.call("payments/cancel", {"paymentRequestId": "pay-cancel"})
    assert cancel.code == "SUCCESS"
    assert cancel.body["paymentId"] == paid.body["paymentId"]
    assert cancel.body["cancelTime"]
    again = await env.call("payments/cancel", {"paymentId": paid.body["paymentId"]})
    assert again.code == "SUCCESS"
    assert again.body["cancelTime"] == cancel.body["cancelTime"]

    inquiry = await env.call("payments/inquiryPayment", {"paymentRequestId": "pay-cancel"})
    assert inquiry.body["paymentStatus"] == "CANCELLED"
    assert (await env.call("payments/pay", body)).code == "ORDER_IS_CANCELED"
    refund = await env.call(
        "payments/refund",
        {
            "refundRequestId": "rf-after-cancel",
            "paymentId": paid.body["paymentId"],
            "refundAmount": {"currency": "HKD", "value": "100"},
        },
    )
    assert refund.code == "ORDER_IS_CANCELED"


async def test_cancel_window_and_refunded_and_missing(env: Env) -> None:
    hk = (await env.bind())["accessToken"]
    old = await env.pay(hk, "800", request_id="pay-old")
    refunded = await env.pay(hk, "800", request_id="pay-refunded")
    await env.call(
        "payments/refund",
        {
            "refundRequestId": "rf-1",
            "paymentId": refunded.body["paymentId"],
            "refundAmount": {"currency": "HKD", "value": "100"},
        },
    )
    cancel = await env.call("payments/cancel", {"paymentRequestId": "pay-refunded"})
    assert cancel.code == "ORDER_STATUS_INVALID"
    await env.advance(86400 + 60)
    late = await env.call("payments/cancel", {"paymentId": old.body["paymentId"]})
    assert late.code == "CANCEL_WINDOW_EXCEED"
    assert late.status_letter == "F"
    missing = await env.call("payments/cancel", {"paymentRequestId": "never"})
    assert missing.code == "ORDER_NOT_EXIST"
