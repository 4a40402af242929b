"""Each scenario, chosen by header, by a queued rule, or for the whole sandbox."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.sandbox import SandboxConfig, Scenario

from .conftest import Env, Receiver, running


async def inquiry(env: Env, request_id: str) -> dict[str, object]:
    reply = await env.call("payments/inquiryPayment", {"paymentRequestId": request_id})
    assert reply.code == "SUCCESS", reply.text
    return reply.body


async def test_an_unknown_scenario_header_is_refused_with_400(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    reply = await env.pay(token, "100", scenario="NO_SUCH_SCENARIO", request_id="pay-unknown")
    assert reply.status == 400
    assert "NO_SUCH_SCENARIO" in reply.text
    assert (await env.pay(token, "100", request_id="pay-unknown")).code == "SUCCESS"


async def test_user_balance_not_enough(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    reply = await env.pay(token, "100", "USER_BALANCE_NOT_ENOUGH", request_id="pay-poor")
    assert reply.code == "USER_BALANCE_NOT_ENOUGH"
    assert reply.status_letter == "F"
    found = await inquiry(env, "pay-poor")
    assert found["paymentStatus"] == "FAIL"
    assert found["paymentResultCode"] == "USER_BALANCE_NOT_ENOUGH"
    # the failure is notified when the order closes
    (note,) = await env.receiver.wait_for("payment")
    assert note.body["notifyType"] == "PAYMENT_RESULT"
    assert note.body["result"]["resultStatus"] == "F"
    assert note.body["result"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"
    assert "paymentTime" not in note.body
    # the same request keeps its answer; the binding still works for a new one
    assert (await env.pay(token, "100", request_id="pay-poor")).code == "USER_BALANCE_NOT_ENOUGH"
    assert (await env.pay(token, "100")).code == "SUCCESS"


async def test_invalid_access_token_kills_the_binding(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    reply = await env.pay(token, "100", "INVALID_ACCESS_TOKEN")
    assert reply.code == "INVALID_ACCESS_TOKEN"
    assert (await env.pay(token, "100")).code == "INVALID_ACCESS_TOKEN"
    bindings = (await env.api("GET", "/bindings")).json()
    assert bindings[0]["status"] == "INVALIDATED"


async def test_invalid_access_token_on_revoke_leaves_the_token_dead(env: Env) -> None:
    tokens = await env.bind()
    body = {"accessToken": tokens["accessToken"]}
    reply = await env.call("authorizations/revoke", body, scenario="INVALID_ACCESS_TOKEN")
    assert reply.code == "INVALID_ACCESS_TOKEN"
    assert (await env.call("authorizations/revoke", body)).code == "INVALID_ACCESS_TOKEN"
    assert (await env.pay(tokens["accessToken"], "100")).code == "INVALID_ACCESS_TOKEN"


@pytest.mark.parametrize(
    ("scenario", "final", "code"),
    [
        ("PAYMENT_IN_PROCESS_THEN_SUCCESS", "SUCCESS", "SUCCESS"),
        ("PAYMENT_IN_PROCESS_THEN_FAIL", "FAIL", "USER_BALANCE_NOT_ENOUGH"),
    ],
)
async def test_payment_in_process_then_final(
    env: Env, scenario: str, final: str, code: str
) -> None:
    token = (await env.bind())["accessToken"]
    body = env.pay_body(token, "700", request_id="pay-slow")
    reply = await env.call("payments/pay", body, scenario=scenario)
    assert reply.code == "PAYMENT_IN_PROCESS"
    assert reply.status_letter == "U"
    pending = await env.receiver.wait_for("payment")
    assert pending[0].body["notifyType"] == "PAYMENT_PENDING"
    assert (await inquiry(env, "pay-slow"))["paymentStatus"] == "PROCESSING"
    assert (await env.call("payments/pay", body)).code == "PAYMENT_IN_PROCESS"

    notes = await env.receiver.wait_for("payment", 2)
    result = notes[1].body
    assert result["notifyType"] == "PAYMENT_RESULT"
    assert result["result"]["resultCode"] == code
    found = await inquiry(env, "pay-slow")
    assert found["paymentStatus"] == final
    assert found["paymentResultCode"] == code
    again = await env.call("payments/pay", body)
    assert again.code == code
    assert again.status_letter == ("S" if final == "SUCCESS" else "F")


async def test_cancel_while_in_process_stops_it(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    reply = await env.pay(token, "700", "PAYMENT_IN_PROCESS_THEN_SUCCESS", request_id="pay-stop")
    assert reply.code == "PAYMENT_IN_PROCESS"
    cancel = await env.call("payments/cancel", {"paymentRequestId": "pay-stop"})
    assert cancel.code == "SUCCESS"
    await asyncio.sleep(0.6)
    assert (await inquiry(env, "pay-stop"))["paymentStatus"] == "CANCELLED"
    kinds = [n.body["notifyType"] for n in env.receiver.of("payment")]
    assert kinds == ["PAYMENT_PENDING"]


async def test_in_process_longer_than_the_payment_expiry_closes_the_order(
    config: SandboxConfig, receiver: Receiver, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with running(replace(config, process_delay_seconds=120), receiver, merchant_key) as env:
        token = (await env.bind())["accessToken"]
        await env.pay(token, "700", "PAYMENT_IN_PROCESS_THEN_SUCCESS", request_id="pay-closed")
        await env.advance(61)
        found = await inquiry(env, "pay-closed")
        assert found["paymentStatus"] == "FAIL"
        assert found["paymentResultCode"] == "ORDER_IS_CLOSED"


async def test_unknown_exception_on_pay_still_pays(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    body = env.pay_body(token, "900", request_id="pay-unknown")
    reply = await env.call("payments/pay", body, scenario="UNKNOWN_EXCEPTION")
    assert reply.signed
    assert reply.code == "UNKNOWN_EXCEPTION"
    assert reply.status_letter == "U"
    assert (await inquiry(env, "pay-unknown"))["paymentStatus"] == "SUCCESS"
    (note,) = await env.receiver.wait_for("payment")
    assert note.body["result"]["resultStatus"] == "S"
    assert (await env.call("payments/pay", body)).code == "SUCCESS"


async def test_unknown_exception_on_apply_token_keeps_the_code(env: Env) -> None:
    await env.consult("ALIPAY_HK", "state-u")
    approved = await env.approve("state-u")
    body = {
        "grantType": "AUTHORIZATION_CODE",
        "customerBelongsTo": "ALIPAY_HK",
        "authCode": approved["authCode"],
    }
    first = await env.call("authorizations/applyToken", body, scenario="UNKNOWN_EXCEPTION")
    assert first.code == "UNKNOWN_EXCEPTION"
    retry = await env.call("authorizations/applyToken", body)
    assert retry.code == "SUCCESS"


async def test_hang_makes_the_client_time_out_but_the_payment_happens(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    body = env.pay_body(token, "900", request_id="pay-hang")
    with pytest.raises(httpx.ReadTimeout):
        await env.call("payments/pay", body, scenario="HANG", http_timeout=0.3)
    assert (await inquiry(env, "pay-hang"))["paymentStatus"] == "SUCCESS"
    assert (await env.call("payments/pay", body)).code == "SUCCESS"


async def test_http_500_is_unsigned_and_the_payment_exists(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    reply = await env.pay(token, "900", "HTTP_500", request_id="pay-500")
    assert reply.status == 500
    assert not reply.signed
    assert (await inquiry(env, "pay-500"))["paymentStatus"] == "SUCCESS"


async def test_unsigned_error_is_an_unsigned_f_and_nothing_happens(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    reply = await env.pay(token, "900", "UNSIGNED_ERROR", request_id="pay-unsigned")
    assert reply.status == 200
    assert not reply.signed
    assert reply.status_letter == "F"
    missing = await env.call("payments/inquiryPayment", {"paymentRequestId": "pay-unsigned"})
    assert missing.code == "ORDER_NOT_EXIST"


async def test_queued_rule_applies_to_the_next_matching_calls_only(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    await env.queue("USER_BALANCE_NOT_ENOUGH", ["pay"], count=2)
    # other calls do not consume the rule
    assert (await env.call("payments/inquiryPayment", {"paymentId": "x"})).code == "ORDER_NOT_EXIST"
    assert (await env.pay(token, "100")).code == "USER_BALANCE_NOT_ENOUGH"
    assert (await env.pay(token, "100")).code == "USER_BALANCE_NOT_ENOUGH"
    assert (await env.pay(token, "100")).code == "SUCCESS"

    await env.queue("UNKNOWN_EXCEPTION", ["inquiryPayment"])
    state = (await env.api("GET", "/scenario")).json()
    assert state["queued"] == [
        {"scenario": "UNKNOWN_EXCEPTION", "calls": ["inquiryPayment"], "remaining": 1}
    ]
    assert (
        await env.call("payments/inquiryPayment", {"paymentId": "x"})
    ).code == "UNKNOWN_EXCEPTION"
    assert (await env.call("payments/inquiryPayment", {"paymentId": "x"})).code == "ORDER_NOT_EXIST"

    await env.queue("HTTP_500")
    cleared = await env.api("DELETE", "/scenario")
    assert cleared.json()["queued"] == []
    assert (await env.pay(token, "100")).code == "SUCCESS"

    wrong = await env.api(
        "POST", "/scenario", json={"scenario": "USER_BALANCE_NOT_ENOUGH", "calls": ["refund"]}
    )
    assert wrong.status_code == 422
    unknown = await env.api("POST", "/scenario", json={"scenario": "WHATEVER"})
    assert unknown.status_code == 422


async def test_default_scenario_for_the_whole_sandbox(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    response = await env.api(
        "PUT", "/scenario/default", json={"scenario": "USER_BALANCE_NOT_ENOUGH"}
    )
    assert response.json()["default"] == "USER_BALANCE_NOT_ENOUGH"
    assert (await env.pay(token, "100")).code == "USER_BALANCE_NOT_ENOUGH"
    assert (await env.pay(token, "100")).code == "USER_BALANCE_NOT_ENOUGH"
    # the header wins over the default
    assert (await env.pay(token, "100", "success")).code == "SUCCESS"
    # calls the scenario is not about are unaffected
    assert (await env.call("payments/inquiryPayment", {"paymentId": "x"})).code == "ORDER_NOT_EXIST"


async def test_refund_in_process_then_success(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    paid = await env.pay(token, "1000")
    body = {
        "refundRequestId": "rf-slow",
        "paymentId": paid.body["paymentId"],
        "refundAmount": {"currency": "HKD", "value": "400"},
    }
    reply = await env.call("payments/refund", body, scenario="REFUND_IN_PROCESS")
    assert reply.code == "REFUND_IN_PROCESS"
    assert reply.status_letter == "U"
    inquiry_reply = await env.call("payments/inquiryRefund", {"refundRequestId": "rf-slow"})
    assert inquiry_reply.body["refundStatus"] == "PROCESSING"
    # the refund counts against the paid amount while it is processing
    exceed = await env.call(
        "payments/refund",
        {**body, "refundRequestId": "rf-more", "refundAmount": {"currency": "HKD", "value": "601"}},
    )
    assert exceed.code == "REFUND_AMOUNT_EXCEED"

    (note,) = await env.receiver.wait_for("refund")
    assert note.verified
    assert note.body["notifyType"] == "REFUND_RESULT"
    assert note.body["refundStatus"] == "SUCCESS"
    assert note.body["refundRequestId"] == "rf-slow"
    inquiry_reply = await env.call("payments/inquiryRefund", {"refundRequestId": "rf-slow"})
    assert inquiry_reply.body["refundStatus"] == "SUCCESS"
    assert (await env.call("payments/refund", body)).code == "SUCCESS"


async def test_merchant_balance_not_enough(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    paid = await env.pay(token, "1000")
    body = {
        "refundRequestId": "rf-broke",
        "paymentId": paid.body["paymentId"],
        "refundAmount": {"currency": "HKD", "value": "1000"},
    }
    reply = await env.call("payments/refund", body, scenario="MERCHANT_BALANCE_NOT_ENOUGH")
    assert reply.code == "MERCHANT_BALANCE_NOT_ENOUGH"
    assert reply.status_letter == "F"
    assert (await env.call("payments/refund", body)).code == "MERCHANT_BALANCE_NOT_ENOUGH"
    found = await env.call("payments/inquiryRefund", {"refundRequestId": "rf-broke"})
    assert found.body["refundStatus"] == "FAIL"
    # later, with a new refundRequestId, the full amount can still be refunded
    later = await env.call("payments/refund", {**body, "refundRequestId": "rf-broke-2"})
    assert later.code == "SUCCESS"
    cancel = await env.pay(token, "1000", request_id="pay-cancel-broke")
    assert cancel.code == "SUCCESS"
    refused = await env.call(
        "payments/cancel",
        {"paymentRequestId": "pay-cancel-broke"},
        scenario="MERCHANT_BALANCE_NOT_ENOUGH",
    )
    assert refused.code == "MERCHANT_BALANCE_NOT_ENOUGH"


async def test_notify_fail_header_drops_the_first_attempts(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    await env.pay(token, "100", "NOTIFY_FAIL", request_id="pay-drop")
    (note,) = await env.receiver.wait_for("payment", within=5)
    assert note.body["paymentRequestId"] == "pay-drop"
    logged = await env.settled_notification(reference="pay-drop")
    assert [a["outcome"] for a in logged["attempts"]] == ["DROPPED", "DROPPED", "ACKNOWLEDGED"]
    assert logged["status"] == "DELIVERED"


async def test_notify_fail_queued_for_some_attempts(env: Env) -> None:
    await env.queue("NOTIFY_FAIL", ["notifyAuthorization"], count=1)
    await env.consult("ALIPAY_HK", "state-drop")
    await env.approve("state-drop")
    await env.receiver.wait_for("auth")
    logged = await env.settled_notification(kind="notifyAuthorization")
    assert [a["outcome"] for a in logged["attempts"]] == ["DROPPED", "ACKNOWLEDGED"]


async def test_notify_fail_for_the_whole_sandbox_gives_up(
    config: SandboxConfig, receiver: Receiver, merchant_key: rsa.RSAPrivateKey
) -> None:
    quiet = replace(
        config,
        default_scenario=Scenario.NOTIFY_FAIL,
        notify_schedule=(0.01, 0.01),
        notify_schedule_factor=1.0,
    )
    async with running(quiet, receiver, merchant_key) as env:
        await env.consult("ALIPAY_HK", "state-lost")
        await env.approve("state-lost")
        logged = await env.settled_notification()
        assert logged["status"] == "GAVE_UP"
        assert [a["outcome"] for a in logged["attempts"]] == ["DROPPED"] * 3
        assert receiver.received == []
