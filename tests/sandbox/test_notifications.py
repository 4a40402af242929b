"""Notification delivery: signed, re-sent on Antom's schedule until the exact acknowledgement."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import pytest

from saleor_alipay_app.sandbox.notifier import _error
from tests.support.servers import free_port

from .conftest import Env


async def test_resent_until_acknowledged_with_the_exact_body(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    await env.receiver.wait_for("auth")
    env.receiver.script = [
        (500, "oops"),
        (200, "not json"),
        (200, json.dumps({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}})),
        (
            201,
            json.dumps(
                {
                    "result": {
                        "resultCode": "SUCCESS",
                        "resultStatus": "S",
                        "resultMessage": "success",
                    }
                }
            ),
        ),
        # the same JSON in another key order and spacing is an acknowledgement
        (
            200,
            '{ "result" : {"resultMessage":"success", "resultStatus":"S", '
            '"resultCode":"SUCCESS"} }',
        ),
    ]
    await env.pay(token, "100", request_id="pay-retry")
    received = await env.receiver.wait_for("payment", 5, within=10)
    assert all(r.verified for r in received)
    assert len({r.raw for r in received}) == 1  # the same body every time
    for r in received:
        assert r.headers["client-id"] == env.client_id
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", r.headers["request-time"])

    logged = await env.settled_notification(reference="pay-retry")
    assert logged["status"] == "DELIVERED"
    attempts = logged["attempts"]
    assert [a["outcome"] for a in attempts] == ["NOT_ACKNOWLEDGED"] * 4 + ["ACKNOWLEDGED"]
    assert [a["httpStatus"] for a in attempts] == [500, 200, 200, 201, 200]
    assert attempts[0]["responseBody"] == "oops"
    assert logged["body"]["paymentRequestId"] == "pay-retry"
    await asyncio.sleep(0.3)
    assert len(env.receiver.of("payment")) == 5  # nothing after the acknowledgement


async def test_unreachable_merchant_is_logged_as_errors(env: Env) -> None:
    token = (await env.bind())["accessToken"]
    dead = f"http://127.0.0.1:{free_port()}/notify/payment"
    await env.pay(token, "100", request_id="pay-dead-url", paymentNotifyUrl=dead)
    for _ in range(100):
        (logged,) = await env.notifications(reference="pay-dead-url")
        if len(logged["attempts"]) >= 3:
            break
        await asyncio.sleep(0.05)
    assert logged["url"] == dead
    assert logged["status"] == "PENDING"
    assert {a["outcome"] for a in logged["attempts"]} == {"ERROR"}
    assert logged["attempts"][0]["error"] == "ConnectError"


@pytest.mark.parametrize(
    ("exc", "logged"),
    [
        (aiohttp.ConnectionTimeoutError(), "ConnectTimeout"),
        (aiohttp.SocketTimeoutError(), "ReadTimeout"),
        (TimeoutError(), "ReadTimeout"),
        (aiohttp.ServerDisconnectedError(), "RemoteProtocolError"),
        (aiohttp.ClientPayloadError(), "ReadError"),
        (aiohttp.InvalidUrlClientError("not-a-url"), "UnsupportedProtocol"),
        (aiohttp.NonHttpUrlClientError("ftp://merchant.example/"), "UnsupportedProtocol"),
        (aiohttp.ClientOSError(), "ClientOSError"),
    ],
)
def test_failed_attempts_keep_the_names_the_log_has_always_shown(
    exc: BaseException, logged: str
) -> None:
    assert _error(exc) == logged


async def test_no_url_configured_is_visible_in_the_log(env: Env) -> None:
    response = await env.api(
        "POST",
        "/merchants",
        json={"clientId": env.client_id, "publicKey": _public(env)},
    )
    assert response.status_code == 201
    await env.consult("ALIPAY_HK", "state-nowhere")
    await env.approve("state-nowhere")
    (logged,) = await env.notifications(kind="notifyAuthorization")
    assert logged["status"] == "NO_URL"
    assert logged["attempts"] == []


def _public(env: Env) -> str:
    from saleor_alipay_app.antom.keys import public_key_pem

    return public_key_pem(env.merchant_key)
