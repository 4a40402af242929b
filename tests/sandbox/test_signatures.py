"""Every call is authenticated like Antom does it, and every normal answer is signed."""

from __future__ import annotations

import json
import re
import time

from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.keys import public_key_base64
from saleor_alipay_app.antom.signing import sign
from saleor_alipay_app.sandbox.antom_api import ENDPOINTS
from saleor_alipay_app.sandbox.config import API_CALLS
from saleor_alipay_app.sandbox.engine import HANDLERS

from .conftest import CLIENT_ID, PRODUCTION_PREFIX, Env

INQUIRY = {"paymentRequestId": "does-not-exist"}


async def test_valid_signature_gets_a_signed_answer_on_both_paths(env: Env) -> None:
    for prefix in (PRODUCTION_PREFIX, "/ams/sandbox/api/v1"):
        reply = await env.call("payments/inquiryPayment", INQUIRY, prefix=prefix)
        assert reply.status == 200
        assert reply.signed  # env.call verified it over the same path with Antom's key
        assert reply.code == "ORDER_NOT_EXIST"
        assert reply.status_letter == "F"
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", reply.headers["response-time"]
        )
        assert reply.headers["signature"].startswith("algorithm=RSA256,keyVersion=1,signature=")


async def test_answer_signature_covers_the_body(env: Env) -> None:
    reply = await env.call("payments/inquiryPayment", INQUIRY)
    tampered = reply.text.replace("ORDER_NOT_EXIST", "SUCCESS")
    from saleor_alipay_app.antom.signing import SignatureError, verify

    try:
        verify(
            env.antom_public,
            path=reply.path,
            client_id=reply.headers["client-id"],
            time=reply.headers["response-time"],
            body=tampered,
            signature=reply.headers["signature"],
        )
    except SignatureError:
        return
    raise AssertionError("a tampered answer verified")


async def test_wrong_key_is_refused_unsigned(env: Env, stranger_key: rsa.RSAPrivateKey) -> None:
    reply = await env.call("payments/inquiryPayment", INQUIRY, key=stranger_key)
    assert reply.status == 200
    assert not reply.signed
    assert "response-time" not in reply.headers
    assert reply.result["resultCode"] == "INVALID_SIGNATURE"
    assert reply.result["resultStatus"] == "F"


async def test_signature_of_another_body_or_path_is_refused(env: Env) -> None:
    path = "/ams/sandbox/api/v1/payments/inquiryPayment"
    stamp = "2024-03-01T12:00:00+08:00"
    signed_body = json.dumps(INQUIRY)
    value = sign(
        env.merchant_key, path=path, client_id=env.client_id, request_time=stamp, body=signed_body
    )
    headers = {
        "client-id": env.client_id,
        "request-time": stamp,
        "signature": f"algorithm=RSA256,keyVersion=1,signature={value}",
    }
    other_body = json.dumps({"paymentRequestId": "something-else"})
    response = await env.http.post(env.url + path, content=other_body, headers=headers)
    assert response.json()["result"]["resultCode"] == "INVALID_SIGNATURE"
    # signed for the sandbox path, sent to the production path
    response = await env.http.post(
        env.url + "/ams/api/v1/payments/inquiryPayment", content=signed_body, headers=headers
    )
    assert response.json()["result"]["resultCode"] == "INVALID_SIGNATURE"
    # the untouched request passes
    response = await env.http.post(env.url + path, content=signed_body, headers=headers)
    assert response.json()["result"]["resultCode"] == "ORDER_NOT_EXIST"
    assert "signature" in response.headers


async def test_millisecond_request_time_is_accepted(env: Env) -> None:
    reply = await env.call(
        "payments/inquiryPayment", INQUIRY, request_time=str(int(time.time() * 1000))
    )
    assert reply.signed
    assert reply.code == "ORDER_NOT_EXIST"


async def test_unknown_client_missing_headers_and_unknown_key_version(env: Env) -> None:
    reply = await env.call("payments/inquiryPayment", INQUIRY, client_id="SANDBOX_NOBODY")
    assert not reply.signed
    assert reply.code == "UNKNOWN_CLIENT"

    path = env.url + "/ams/sandbox/api/v1/payments/inquiryPayment"
    response = await env.http.post(path, content=json.dumps(INQUIRY))
    assert response.json()["result"]["resultCode"] == "UNKNOWN_CLIENT"
    response = await env.http.post(
        path, content=json.dumps(INQUIRY), headers={"client-id": env.client_id}
    )
    assert response.json()["result"]["resultCode"] == "INVALID_SIGNATURE"
    response = await env.http.post(
        path,
        content=json.dumps(INQUIRY),
        headers={
            "client-id": env.client_id,
            "request-time": "1",
            "signature": "algorithm=RSA256,keyVersion=1,signature=not-base64!",
        },
    )
    assert response.json()["result"]["resultCode"] == "INVALID_SIGNATURE"

    stamp = "2024-03-01T12:00:00+08:00"
    value = sign(
        env.merchant_key,
        path="/ams/sandbox/api/v1/payments/inquiryPayment",
        client_id=env.client_id,
        request_time=stamp,
        body=json.dumps(INQUIRY),
    )
    response = await env.http.post(
        path,
        content=json.dumps(INQUIRY),
        headers={
            "client-id": env.client_id,
            "request-time": stamp,
            "signature": f"algorithm=RSA256,keyVersion=7,signature={value}",
        },
    )
    assert response.json()["result"]["resultCode"] == "KEY_NOT_FOUND"
    assert "signature" not in response.headers


async def test_merchant_added_at_runtime_without_then_with_key(
    env: Env, stranger_key: rsa.RSAPrivateKey
) -> None:
    response = await env.api("POST", "/merchants", json={"clientId": "SANDBOX_SECOND"})
    assert response.status_code == 201, response.text
    assert response.json()["antomPublicKey"] == public_key_base64(env.antom_public)
    reply = await env.call(
        "payments/inquiryPayment", INQUIRY, client_id="SANDBOX_SECOND", key=stranger_key
    )
    assert reply.code == "KEY_NOT_FOUND"

    response = await env.api(
        "POST",
        "/merchants",
        json={"clientId": "SANDBOX_SECOND", "publicKey": public_key_base64(stranger_key)},
    )
    assert response.status_code == 201, response.text
    env.client_id = "SANDBOX_SECOND"
    reply = await env.call("payments/inquiryPayment", INQUIRY, key=stranger_key)
    assert reply.signed
    assert reply.code == "ORDER_NOT_EXIST"
    # the first merchant's key does not work for the second merchant
    reply = await env.call("payments/inquiryPayment", INQUIRY)
    assert reply.code == "INVALID_SIGNATURE"

    response = await env.api("POST", "/merchants", json={"clientId": "X", "publicKey": "nope"})
    assert response.status_code == 422
    published = (await env.api("GET", "/antom-public-key")).json()
    assert published["base64"] == public_key_base64(env.antom_public)
    listed = (await env.api("GET", "/merchants")).json()
    assert [m["clientId"] for m in listed] == [CLIENT_ID, "SANDBOX_SECOND"]
    assert all(m["hasPublicKey"] for m in listed)


async def test_unknown_endpoint_and_bad_json(env: Env) -> None:
    reply = await env.call("payments/teleport", {})
    assert reply.signed
    assert reply.code == "NO_INTERFACE_DEF"
    reply = await env.call("payments/inquiryPayment", {}, raw="{not json")
    assert reply.signed
    assert reply.code == "PARAM_ILLEGAL"
    reply = await env.call("payments/inquiryPayment", {}, raw="[1, 2]")
    assert reply.code == "PARAM_ILLEGAL"


async def test_unknown_scenario_header_is_a_loud_400(env: Env) -> None:
    reply = await env.call("payments/inquiryPayment", INQUIRY, scenario="NO_SUCH_THING")
    assert reply.status == 400
    assert "NO_SUCH_THING" in reply.text


def test_every_endpoint_has_a_flow() -> None:
    # each path answers a call, and every call but the notifications has a flow behind it
    assert set(ENDPOINTS.values()) == set(HANDLERS) == API_CALLS
