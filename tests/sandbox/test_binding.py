"""Scan to Bind: consult, the shopper's approval, notifyAuthorization, applyToken, unbinding."""

from __future__ import annotations

import json
import re
from datetime import datetime

from saleor_alipay_app.sandbox.protocol import mask_login_id

from .conftest import Env


async def test_consult_returns_a_qr_text_pointing_at_the_wallet_page(env: Env) -> None:
    reply = await env.consult("ALIPAY_HK", "state-1")
    assert reply.code == "SUCCESS"
    details = reply.body["authCodeForm"]["codeDetails"]
    assert details[0]["displayType"] == "TEXT"
    auth_url = details[0]["codeValue"]
    assert auth_url.startswith(env.url + "/wallet/authorize?authId=")
    assert reply.body["normalUrl"] == auth_url
    assert reply.body["applinkUrl"].startswith(auth_url)
    assert reply.body["schemeUrl"].startswith("antomsandbox://")

    page = await env.http.get(auth_url)
    assert page.status_code == 200
    assert "AlipayHK" in page.text
    assert "<svg" in page.text
    assert "Approve" in page.text
    assert "Decline" in page.text

    # the same authState again (a retry after a lost answer) gives the same QR
    again = await env.consult("ALIPAY_HK", "state-1")
    assert again.body["authCodeForm"] == reply.body["authCodeForm"]
    # ... but not for another wallet
    other = await env.consult("DANA", "state-1")
    assert other.code == "PARAM_ILLEGAL"


async def test_consult_validation(env: Env) -> None:
    assert (await env.consult("BOOST")).code == "NO_PAY_OPTIONS"
    base = {
        "customerBelongsTo": "DANA",
        "authRedirectUrl": "https://shop.example/return",
        "scopes": ["AGREEMENT_PAY"],
        "authState": "s-validation",
    }
    missing_terminal = await env.call("authorizations/consult", base)
    assert missing_terminal.code == "PARAM_ILLEGAL"
    with_env = await env.call("authorizations/consult", {**base, "env": {"terminalType": "WEB"}})
    assert with_env.code == "SUCCESS"
    no_scope = await env.call(
        "authorizations/consult",
        {**base, "authState": "s-2", "terminalType": "WEB", "scopes": ["USER_INFO"]},
    )
    assert no_scope.code == "PARAM_ILLEGAL"
    too_long = await env.call(
        "authorizations/consult", {**base, "authState": "x" * 257, "terminalType": "WEB"}
    )
    assert too_long.code == "PARAM_ILLEGAL"


async def test_bind_end_to_end(env: Env) -> None:
    consulted = await env.consult("ALIPAY_HK", "state-bind")
    assert consulted.code == "SUCCESS"
    approved = await env.approve("state-bind", "85261234567")
    assert approved["userLoginId"] == "852****4567"
    assert approved["status"] == "APPROVED"

    (note,) = await env.receiver.wait_for("auth")
    assert note.verified  # signed by Antom's key over the notify path
    assert note.headers["client-id"] == env.client_id
    assert note.body["authorizationNotifyType"] == "AUTHCODE_CREATED"
    assert note.body["authState"] == "state-bind"
    assert note.body["authCode"] == approved["authCode"]
    assert note.body["userLoginId"] == "852****4567"
    assert note.body["result"] == {
        "resultCode": "SUCCESS",
        "resultStatus": "S",
        "resultMessage": "Success",
    }

    reply = await env.apply_code(note.body["authCode"])
    assert reply.code == "SUCCESS", reply.text
    body = reply.body
    assert body["userLoginId"] == "852****4567"
    assert body["accessTokenExpiryTime"] == "2038-01-01T00:00:00+08:00"
    assert body["refreshToken"]
    assert body["accessToken"] != body["refreshToken"]

    second = await env.apply_code(note.body["authCode"])
    assert second.code == "INVALID_AUTHCODE"
    assert second.status_letter == "F"

    # a finished authState cannot be consulted again
    assert (await env.consult("ALIPAY_HK", "state-bind")).code == "PARAM_ILLEGAL"

    state = (await env.api("GET", "/authorizations/state-bind")).json()
    assert state["status"] == "TOKEN_ISSUED"
    assert state["bindingId"].startswith("bnd_")
    listed = (await env.api("GET", "/authorizations", params={"status": "TOKEN_ISSUED"})).json()
    assert [a["authState"] for a in listed] == ["state-bind"]

    logged = await env.settled_notification(kind="notifyAuthorization")
    assert logged["status"] == "DELIVERED"
    assert logged["attempts"][0]["outcome"] == "ACKNOWLEDGED"


async def test_auth_code_expires_after_a_minute(env: Env) -> None:
    await env.consult("DANA", "state-exp")
    approved = await env.approve("state-exp")
    await env.advance(61)
    reply = await env.apply_code(approved["authCode"], "DANA")
    assert reply.code == "INVALID_AUTHCODE"
    # and the failure burnt it
    await env.advance(-61)
    assert (await env.apply_code(approved["authCode"], "DANA")).code == "INVALID_AUTHCODE"


async def test_auth_code_within_the_minute_and_wallet_mismatch(env: Env) -> None:
    await env.consult("DANA", "state-59")
    approved = await env.approve("state-59")
    await env.advance(59)
    assert (await env.apply_code(approved["authCode"], "DANA")).code == "SUCCESS"

    await env.consult("DANA", "state-mismatch")
    approved = await env.approve("state-mismatch")
    assert (await env.apply_code(approved["authCode"], "GCASH")).code == "INVALID_AUTHCODE"
    assert (await env.apply_code("made-up-code", "DANA")).code == "INVALID_AUTHCODE"


async def test_qr_expires_after_fifteen_minutes_and_decline(env: Env) -> None:
    await env.consult("ALIPAY_HK", "state-old")
    await env.advance(15 * 60 + 1)
    response = await env.api("POST", "/authorizations/state-old/approve", json={})
    assert response.status_code == 410

    await env.consult("ALIPAY_HK", "state-no")
    response = await env.api("POST", "/authorizations/state-no/decline")
    assert response.json()["status"] == "DECLINED"
    response = await env.api("POST", "/authorizations/state-no/approve", json={})
    assert response.status_code == 409
    assert (await env.consult("ALIPAY_HK", "state-no")).code == "PARAM_ILLEGAL"
    assert env.receiver.of("auth") == []  # Antom notifies successes only

    response = await env.api("POST", "/authorizations/never-consulted/approve", json={})
    assert response.status_code == 404


async def test_refresh_rotates_both_tokens(env: Env) -> None:
    first = await env.bind("GCASH")
    expiry = datetime.fromisoformat(first["accessTokenExpiryTime"])
    assert 729 <= (expiry - datetime.now(expiry.tzinfo)).days <= 731  # GCash: 2 years

    refreshed = await env.call(
        "authorizations/applyToken",
        {
            "grantType": "REFRESH_TOKEN",
            "customerBelongsTo": "GCASH",
            "refreshToken": first["refreshToken"],
        },
    )
    assert refreshed.code == "SUCCESS"
    assert refreshed.body["refreshToken"] != first["refreshToken"]
    assert refreshed.body["accessToken"] != first["accessToken"]
    # the old refresh token is spent, the old access token is dead
    again = await env.call(
        "authorizations/applyToken",
        {
            "grantType": "REFRESH_TOKEN",
            "customerBelongsTo": "GCASH",
            "refreshToken": first["refreshToken"],
        },
    )
    assert again.code == "INVALID_REFRESH_TOKEN"
    old = await env.pay(first["accessToken"], "100", currency="PHP", wallet="GCASH")
    assert old.code == "INVALID_ACCESS_TOKEN"
    new = await env.pay(refreshed.body["accessToken"], "100", currency="PHP", wallet="GCASH")
    assert new.code == "SUCCESS"


async def test_token_lifetimes_per_wallet(env: Env) -> None:
    kakao = await env.bind("KAKAOPAY")
    assert kakao["accessTokenExpiryTime"] == "2120-08-25T00:00:00+08:00"
    assert "refreshToken" not in kakao
    dana = await env.bind("DANA")
    years = datetime.fromisoformat(dana["accessTokenExpiryTime"]).year - datetime.now().year
    assert years == 10
    assert re.fullmatch(r"\d{3}\*{4}\d{4}", dana["userLoginId"])


async def test_token_expiry_by_clock(env: Env) -> None:
    tokens = await env.bind("TRUEMONEY")
    await env.advance(2 * 366 * 86400)
    reply = await env.pay(tokens["accessToken"], "100", currency="THB", wallet="TRUEMONEY")
    assert reply.code == "INVALID_ACCESS_TOKEN"


async def test_revoke_then_revoke_again(env: Env) -> None:
    tokens = await env.bind()
    reply = await env.call("authorizations/revoke", {"accessToken": tokens["accessToken"]})
    assert reply.code == "SUCCESS"
    again = await env.call("authorizations/revoke", {"accessToken": tokens["accessToken"]})
    assert again.code == "INVALID_ACCESS_TOKEN"
    assert again.status_letter == "F"
    assert (await env.pay(tokens["accessToken"], "100")).code == "INVALID_ACCESS_TOKEN"
    refresh = await env.call(
        "authorizations/applyToken",
        {
            "grantType": "REFRESH_TOKEN",
            "customerBelongsTo": "ALIPAY_HK",
            "refreshToken": tokens["refreshToken"],
        },
    )
    assert refresh.code == "INVALID_REFRESH_TOKEN"


async def test_unbind_in_the_wallet_sends_token_canceled(env: Env) -> None:
    tokens = await env.bind("ALIPAY_HK", "85298765432")
    response = await env.api("GET", "/bindings", params={"userLoginId": "85298765432"})
    (binding,) = response.json()
    assert binding["status"] == "ACTIVE"
    assert binding["userLoginId"] == mask_login_id("85298765432")
    assert "accessToken" not in binding

    page = await env.http.get(
        env.url + "/wallet/bindings", params={"wallet": "ALIPAY_HK", "userLoginId": "85298765432"}
    )
    assert "Unbind" in page.text
    assert "852****5432" in page.text

    response = await env.api(
        "POST", "/tokens/unbind", json={"bindingId": binding["bindingId"], "reason": "lost phone"}
    )
    assert response.status_code == 200, response.text
    notes = await env.receiver.wait_for("auth", 2)
    cancel = notes[1].body
    assert cancel["authorizationNotifyType"] == "TOKEN_CANCELED"
    assert cancel["accessToken"] == tokens["accessToken"]
    assert cancel["reason"] == "lost phone"
    assert notes[1].verified
    assert (await env.pay(tokens["accessToken"], "100")).code == "INVALID_ACCESS_TOKEN"
    logged = await env.settled_notification(reference=binding["bindingId"])
    assert logged["body"]["authorizationNotifyType"] == "TOKEN_CANCELED"
    assert tokens["accessToken"] not in json.dumps(logged)  # the log does not show tokens
    again = await env.api("POST", "/tokens/unbind", json={"accessToken": tokens["accessToken"]})
    assert again.status_code == 409


async def test_wallet_page_forms_play_the_shopper(env: Env) -> None:
    reply = await env.consult("TNG", "state-page")
    auth_url = reply.body["normalUrl"]
    auth_id = auth_url.split("authId=")[1]
    home = await env.http.get(env.url + "/wallet")
    assert auth_id in home.text
    response = await env.http.post(
        f"{env.url}/wallet/authorize/{auth_id}/approve",
        content="userLoginId=60123456789",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 303
    page = await env.http.get(env.url + response.headers["location"])
    assert "Approved" in page.text
    (note,) = await env.receiver.wait_for("auth")
    assert note.body["userLoginId"] == "601****6789"
    tokens = (await env.apply_code(note.body["authCode"], "TNG")).body

    response = await env.api("GET", "/bindings", params={"wallet": "TNG"})
    binding_id = response.json()[0]["bindingId"]
    response = await env.http.post(f"{env.url}/wallet/bindings/{binding_id}/unbind")
    assert response.status_code == 303
    notes = await env.receiver.wait_for("auth", 2)
    assert notes[1].body["accessToken"] == tokens["accessToken"]

    reply = await env.consult("TNG", "state-page-2")
    auth_id = reply.body["normalUrl"].split("authId=")[1]
    response = await env.http.post(f"{env.url}/wallet/authorize/{auth_id}/decline")
    assert response.status_code == 303
    page = await env.http.get(env.url + response.headers["location"])
    assert "declined" in page.text
    missing = await env.http.get(env.url + "/wallet/authorize", params={"authId": "nope"})
    assert missing.status_code == 404


async def test_auth_notify_url_from_consult_wins(env: Env) -> None:
    reply = await env.call(
        "authorizations/consult",
        {
            "customerBelongsTo": "ALIPAY_HK",
            "authRedirectUrl": "https://shop.example/return",
            "scopes": ["AGREEMENT_PAY"],
            "authState": "state-own-url",
            "terminalType": "WEB",
            "authNotifyUrl": env.receiver.url + "/notify/own",
        },
    )
    assert reply.code == "SUCCESS"
    await env.approve("state-own-url")
    (note,) = await env.receiver.wait_for("own")
    assert note.verified
    assert env.receiver.of("auth") == []
