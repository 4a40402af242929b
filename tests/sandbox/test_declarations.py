"""customs/declare and inquiryDeclarationRequests (Alipay CN payments, CNY only)."""

from __future__ import annotations

from typing import Any

from .conftest import Env


def declare_body(
    payment_id: str, request_id: str, value: str, *, split: bool = False, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "declarationRequestId": request_id,
        "paymentId": payment_id,
        "declarationAmount": {"currency": "CNY", "value": value},
        "customs": {"customsCode": "ZONGSHU", "region": "CN"},
        "merchantCustomsInfo": {
            "merchantCustomsCode": "1234567890",
            "merchantCustomsName": "Sandbox Trading Ltd",
        },
        "splitOrder": "true" if split else "false",
        "buyerCertificate": {
            "certificateType": "ID_CARD",
            "certificateNo": "110101199003077777",
            "holderName": {"fullName": "Wang Fang"},
        },
    }
    if split:
        body["suborderId"] = f"sub-{request_id}"
    body.update(extra)
    return body


async def cny_payment(env: Env, value: str = "10000") -> str:
    token = (await env.bind("ALIPAY_CN"))["accessToken"]
    reply = await env.pay(token, value, currency="CNY", wallet="ALIPAY_CN")
    assert reply.code == "SUCCESS", reply.text
    payment_id: str = reply.body["paymentId"]
    return payment_id


async def inquire(env: Env, *ids: str) -> dict[str, Any]:
    reply = await env.call(
        "customs/inquiryDeclarationRequests", {"declarationRequestIds": list(ids)}
    )
    assert reply.code == "SUCCESS", reply.text
    return reply.body


async def test_declare_then_customs_completes_after_the_delay(env: Env) -> None:
    payment_id = await cny_payment(env)
    reply = await env.call("customs/declare", declare_body(payment_id, "d1", "6000"))
    assert reply.code == "SUCCESS", reply.text
    assert reply.body["identityCheckResult"] == "CHECK_PASSED"
    assert reply.body["customsPaymentId"]
    assert reply.body["customsOrderId"]
    assert reply.body["clearingChannel"] in {"CUP", "NUCC", "OTHER"}

    found = await inquire(env, "d1", "d-missing")
    assert found["declarationRequestsNotFound"] == ["d-missing"]
    (record,) = found["declarationRecords"]
    assert record["declarationRequestStatus"] == "IN_PROCESS"
    assert record["declarationAmount"] == {"currency": "CNY", "value": "6000"}
    assert record["customs"] == {"customsCode": "ZONGSHU", "region": "CN"}
    assert record["splitOrder"] == "false"
    assert record["customsPaymentId"] == reply.body["customsPaymentId"]

    await env.advance(61)
    (record,) = (await inquire(env, "d1"))["declarationRecords"]
    assert record["declarationRequestStatus"] == "CUSTOMS_PROCESSING_COMPLETED"
    assert record["customsDeclarationResultCode"] == "120"
    assert record["customsDeclarationReturnTime"]


async def test_resend_rules(env: Env) -> None:
    payment_id = await cny_payment(env)
    body = declare_body(payment_id, "d-re", "6000")
    first = await env.call("customs/declare", body)
    # a plain retransmission is idempotent
    again = await env.call("customs/declare", body)
    assert again.body == first.body
    # a correction too early is refused
    corrected = declare_body(payment_id, "d-re", "5000")
    assert (await env.call("customs/declare", corrected)).code == "CONTEXT_INCONSISTENT"
    # fields that may never change
    split = declare_body(payment_id, "d-re", "6000", split=True)
    assert (await env.call("customs/declare", split)).code == "REPEAT_REQ_INCONSISTENT"

    await env.advance(61)
    assert (await inquire(env, "d-re"))["declarationRecords"][0][
        "declarationRequestStatus"
    ] == "CUSTOMS_PROCESSING_COMPLETED"
    await env.advance(5 * 60)
    resent = await env.call("customs/declare", corrected)
    assert resent.code == "SUCCESS"
    assert resent.body["customsPaymentId"] == first.body["customsPaymentId"]
    (record,) = (await inquire(env, "d-re"))["declarationRecords"]
    assert record["declarationAmount"]["value"] == "5000"
    assert record["declarationRequestStatus"] == "IN_PROCESS"  # customs checks it again


async def test_cumulative_amount_and_duplicates(env: Env) -> None:
    payment_id = await cny_payment(env, "10000")
    assert (
        await env.call("customs/declare", declare_body(payment_id, "s1", "6000", split=True))
    ).code == "SUCCESS"
    assert (
        await env.call("customs/declare", declare_body(payment_id, "s2", "4000", split=True))
    ).code == "SUCCESS"
    over = await env.call("customs/declare", declare_body(payment_id, "s3", "1", split=True))
    assert over.code == "TOTAL_DECLARATION_AMOUNT_EXCEED"

    other = await cny_payment(env, "10000")
    assert (await env.call("customs/declare", declare_body(other, "n1", "100"))).code == "SUCCESS"
    duplicate = await env.call("customs/declare", declare_body(other, "n2", "100"))
    assert duplicate.code == "DUPLICATED_DECLARATIONS"
    elsewhere = declare_body(other, "n3", "100", customs={"customsCode": "NINGBO", "region": "CN"})
    assert (await env.call("customs/declare", elsewhere)).code == "SUCCESS"


async def test_declaration_checks(env: Env) -> None:
    payment_id = await cny_payment(env)
    hkd = declare_body(payment_id, "x1", "100")
    hkd["declarationAmount"] = {"currency": "HKD", "value": "100"}
    assert (await env.call("customs/declare", hkd)).code == "PARAM_ILLEGAL"
    assert (
        await env.call("customs/declare", declare_body("nope", "x2", "100"))
    ).code == "ORDER_NOT_EXIST"
    token = (await env.bind("ALIPAY_HK"))["accessToken"]
    hk_payment = (await env.pay(token, "100")).body["paymentId"]
    assert (await env.call("customs/declare", declare_body(hk_payment, "x3", "100"))).code == (
        "ORDER_STATUS_INVALID"
    )
    no_name = declare_body(payment_id, "x4", "100")
    del no_name["buyerCertificate"]["holderName"]
    assert (await env.call("customs/declare", no_name)).code == "PARAM_ILLEGAL"
    wrong_region = declare_body(
        payment_id, "x5", "100", customs={"customsCode": "HENAN", "region": "HK"}
    )
    assert (await env.call("customs/declare", wrong_region)).code == "PARAM_ILLEGAL"
    eleven = await env.call(
        "customs/inquiryDeclarationRequests",
        {"declarationRequestIds": [f"id{i}" for i in range(11)]},
    )
    assert eleven.code == "ARRAY_SIZE_EXCEEDED"
