"""The admin API behind the dashboard pages, end to end over HTTP (Saleor double -> app ->
Antom sandbox): channels and configuration, the connection test with its diagnoses, agreements
(search, detail, revoke at Antom first), payments (filters, detail with history, notifications
and reports, inquire now) and refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import update

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.antom.keys import (
    private_key_base64,
    private_key_pem,
    public_key_base64,
    public_key_pem,
)
from saleor_alipay_app.channels.models import ChannelConfig
from saleor_alipay_app.payments.models import Payment, PaymentStatus, Refund
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_double import global_id
from tests.support.servers import free_port
from tests.support.stack import (
    CLIENT_ID,
    Stack,
    app_rows,
    app_services,
    cached_key,
    qr_purchase,
    sandbox_bindings,
)

from .conftest import admin, payment_notified, staff_headers


def config_body(stack: Stack, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "clientId": CLIENT_ID,
        "merchantPrivateKey": private_key_base64(stack.merchant_key),
        "antomPublicKey": public_key_base64(stack.antom_key),
        "region": "custom",
        "baseUrl": stack.sandbox.url,
        "sandbox": True,
        "wallets": ["DANA"],
    }
    body.update(changes)
    return body


# -- channels and configuration ---------------------------------------------------------------


async def test_channels_come_from_saleor_with_their_configuration_and_no_secret(
    stack: Stack,
) -> None:
    body = await admin(stack, "GET", "/channels")
    by_slug = {c["slug"]: c for c in body["items"]}
    assert list(by_slug) == ["hk-web", "id-web"]
    assert by_slug["id-web"]["configuration"] is None
    assert (by_slug["id-web"]["name"], by_slug["id-web"]["currency"]) == ("Indonesia", "IDR")
    config = by_slug["hk-web"]["configuration"]
    assert config["clientId"] == CLIENT_ID
    assert config["merchantPrivateKey"] == "set"
    assert config["merchantPublicKey"] == public_key_base64(stack.merchant_key)
    assert config["baseUrl"] == stack.sandbox.url
    assert config["wallets"] == ["ALIPAY_HK"]
    assert config["notificationUrls"]["authorization"].endswith("/notify/authorization")
    assert body["warning"] is None
    assert {"id": "DANA", "name": "DANA", "currency": "IDR"} in body["wallets"]
    text = str(body)
    secret = private_key_base64(stack.merchant_key)
    assert secret[40:80] not in text
    assert "PRIVATE KEY" not in text


async def test_save_configuration_with_bare_base64_keys_then_keep_keys_when_left_empty(
    stack: Stack,
) -> None:
    saved = await admin(stack, "PUT", "/channels/id-web/configuration", json=config_body(stack))
    assert saved["channel"] == "id-web"
    assert saved["wallets"] == ["DANA"]
    assert saved["sandbox"] is True
    assert saved["merchantPrivateKey"] == "set"
    # Changing only the wallets: empty key fields keep the stored keys.
    again = await admin(
        stack,
        "PUT",
        "/channels/id-web/configuration",
        json=config_body(stack, merchantPrivateKey="", antomPublicKey=None, wallets=["dana"]),
    )
    assert again["merchantPublicKey"] == public_key_base64(stack.merchant_key)
    [row] = await app_rows(stack, ChannelConfig, channel_slug="id-web")
    assert row.enabled_wallets == ["DANA"]
    assert "PRIVATE KEY" not in row.merchant_private_key_encrypted
    channels = await admin(stack, "GET", "/channels")
    [id_web] = [c for c in channels["items"] if c["slug"] == "id-web"]
    assert id_web["configuration"]["clientId"] == CLIENT_ID


async def test_save_configuration_refuses_what_is_wrong_with_clear_messages(stack: Stack) -> None:
    small = private_key_base64(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    cases = [
        (
            {"antomPublicKey": public_key_base64(stack.merchant_key)},
            "the Antom public key is the public half of your own private key",
        ),
        ({"merchantPrivateKey": small}, "Antom requires at least RSA-2048"),
        ({"merchantPrivateKey": "not a key"}, "neither PEM nor valid standard base64"),
        (
            {"merchantPrivateKey": public_key_pem(stack.merchant_key)},
            "where a private key is expected",
        ),
        ({"antomPublicKey": private_key_pem(stack.antom_key)}, "where a public key is expected"),
        ({"wallets": ["PAYPAL"]}, "unknown wallet 'PAYPAL'"),
        ({"wallets": []}, "enable at least one wallet"),
        ({"clientId": "SANDBOX 42"}, "spaces or non-ASCII"),
        ({"baseUrl": "ftp://example.com"}, "must be an http(s) origin"),
        ({"merchantPrivateKey": "A" * 20_000}, "paste only the key"),
        (
            {"merchantPublicKey": public_key_base64(cached_key("other"))},
            "does not match the public key you uploaded to Antom",
        ),
    ]
    for change, message in cases:
        body = await admin(
            stack,
            "PUT",
            "/channels/id-web/configuration",
            json=config_body(stack, **change),
            expect=400,
        )
        assert body["success"] is False
        assert body["error"]["code"] == "INVALID_CONFIGURATION", (change, body)
        assert message in body["error"]["message"], (change, body)
    # A new channel without keys says which are missing.
    missing = await admin(
        stack,
        "PUT",
        "/channels/id-web/configuration",
        json=config_body(stack, merchantPrivateKey=None, antomPublicKey=""),
        expect=400,
    )
    assert missing["error"]["message"] == (
        "paste the merchant private key and the Antom public key"
    )
    assert await app_rows(stack, ChannelConfig, channel_slug="id-web") == []
    # The matching public key is accepted.
    await admin(
        stack,
        "PUT",
        "/channels/id-web/configuration",
        json=config_body(stack, merchantPublicKey=public_key_pem(stack.merchant_key)),
    )


async def test_a_wallet_that_cannot_take_the_channels_currency_is_refused(stack: Stack) -> None:
    """DANA takes only IDR: on the HKD channel it is refused, and the message says why."""
    before = await app_rows(stack, ChannelConfig, channel_slug="hk-web")
    body = await admin(
        stack,
        "PUT",
        "/channels/hk-web/configuration",
        json=config_body(stack, wallets=["ALIPAY_HK", "DANA"]),
        expect=400,
    )
    assert body["error"]["code"] == "INVALID_CONFIGURATION", body
    assert body["error"]["message"] == (
        "DANA (DANA) takes only IDR, and the channel hk-web is in HKD: enable AlipayHK instead"
    )
    assert await app_rows(stack, ChannelConfig, channel_slug="hk-web") == before
    # The same wallet on its own currency's channel is fine.
    await admin(stack, "PUT", "/channels/id-web/configuration", json=config_body(stack))


async def test_connection_test_succeeds_against_the_sandbox(stack: Stack) -> None:
    body = await admin(stack, "POST", "/channels/id-web/test-connection", json=config_body(stack))
    assert body["ok"] is True, body
    assert body["problem"] == "OK"
    assert body["resultCode"] == "ORDER_NOT_EXIST"
    assert body["url"] == stack.sandbox.url + "/ams/sandbox/api/v1/payments/inquiryPayment"
    assert body["message"].startswith("Connected")
    # Nothing is saved by a test.
    assert await app_rows(stack, ChannelConfig, channel_slug="id-web") == []
    # The stored configuration is tested when the keys are left empty.
    stored = await admin(
        stack,
        "POST",
        "/channels/hk-web/test-connection",
        json=config_body(stack, merchantPrivateKey="", antomPublicKey=""),
    )
    assert stored["ok"] is True, stored


async def test_connection_test_says_in_plain_words_what_is_wrong(stack: Stack) -> None:
    other = cached_key("other")
    cases = [
        (
            {"merchantPrivateKey": private_key_base64(other)},
            "PRIVATE_KEY",
            "Antom rejected our signature: the private key does not match the public key "
            "uploaded to Antom",
        ),
        ({"clientId": "SANDBOX_5Y00000000009999"}, "CLIENT_ID", "client id unknown"),
        (
            {"antomPublicKey": public_key_base64(other)},
            "ANTOM_PUBLIC_KEY",
            "Antom public key is wrong",
        ),
        ({"baseUrl": stack.app.url}, "URL", "wrong region or URL"),
        ({"baseUrl": f"http://127.0.0.1:{free_port()}"}, "URL", "wrong region or URL"),
    ]
    for change, problem, message in cases:
        body = await admin(
            stack, "POST", "/channels/id-web/test-connection", json=config_body(stack, **change)
        )
        assert body["ok"] is False, (change, body)
        assert body["problem"] == problem, (change, body)
        assert message in body["message"], (change, body)
    body = await admin(
        stack,
        "POST",
        "/channels/id-web/test-connection",
        json=config_body(stack, clientId="SANDBOX_5Y00000000009999"),
    )
    assert body["resultCode"] == "UNKNOWN_CLIENT"


# -- agreements --------------------------------------------------------------------------------


async def test_agreements_search_detail_and_revoke_at_antom_first(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("100.00"), login="85261234567")
    customer_id = stack.saleor.customer.id

    everyone = await admin(stack, "GET", "/agreements")
    assert everyone["total"] == 1
    [item] = everyone["items"]
    assert item["customerEmail"] == "shopper@example.com"
    assert item["customerId"] == customer_id
    assert (item["wallet"], item["walletName"], item["status"]) == (
        "ALIPAY_HK",
        "AlipayHK",
        "ACTIVE",
    )
    assert "accessToken" not in str(everyone)
    agreement_id = item["id"]

    for params in (
        {"q": "SHOPPER@example"},
        {"q": customer_id},
        {"email": "shopper@example.com"},
        {"customerId": customer_id, "wallet": "alipay_hk", "status": "active"},
    ):
        found = await admin(stack, "GET", "/agreements", params=params)
        assert [a["id"] for a in found["items"]] == [agreement_id], params
    for params in ({"q": "nobody@example.com"}, {"status": "REVOKED"}, {"wallet": "DANA"}):
        assert (await admin(stack, "GET", "/agreements", params=params))["total"] == 0, params
    bad = await admin(stack, "GET", "/agreements", params={"status": "GONE"}, expect=400)
    assert bad["error"]["code"] == "INVALID_STATUS"

    detail = await admin(stack, "GET", f"/agreements/{agreement_id}")
    assert [h["status"] for h in detail["history"]] == ["ACTIVE"]
    assert [p["paymentRequestId"] for p in detail["payments"]] == [psp]
    assert detail["payments"][0]["transactionId"] == transaction_id

    [binding] = await sandbox_bindings(stack)
    assert binding["status"] == "ACTIVE"
    revoked = await admin(stack, "POST", f"/agreements/{agreement_id}/revoke", json={})
    assert revoked["status"] == "REVOKED"
    assert revoked["statusReason"] == "revoked by staff@example.com in the dashboard"
    assert [h["status"] for h in revoked["history"]] == ["ACTIVE", "REVOKED"]
    [binding] = await sandbox_bindings(stack)
    assert binding["status"] != "ACTIVE", binding
    [row] = await app_rows(stack, Agreement)
    assert row.status is AgreementStatus.REVOKED
    # The shopper's stored methods no longer list it.
    methods = await stack.call(SyncEvent.LIST_STORED_PAYMENT_METHODS)
    assert methods["paymentMethods"] == []

    again = await admin(stack, "POST", f"/agreements/{agreement_id}/revoke", expect=409)
    assert again["error"]["code"] == "AGREEMENT_NOT_ACTIVE"
    missing = await admin(stack, "GET", "/agreements/agr_nope", expect=404)
    assert missing["error"]["code"] == "AGREEMENT_NOT_FOUND"


async def test_revoke_keeps_the_agreement_when_antom_gives_no_answer(stack: Stack) -> None:
    await qr_purchase(stack)
    [item] = (await admin(stack, "GET", "/agreements"))["items"]
    await stack.scenario("HTTP_500", calls=["revoke"])
    body = await admin(stack, "POST", f"/agreements/{item['id']}/revoke", expect=502)
    assert body["error"]["code"] == "ANTOM_UNAVAILABLE"
    [row] = await app_rows(stack, Agreement)
    assert row.status is AgreementStatus.ACTIVE


# -- payments and refunds ----------------------------------------------------------------------


async def test_payments_list_filters_detail_and_refunds(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack, Decimal("123.45"))
    refund = await stack.call(
        SyncEvent.TRANSACTION_REFUND_REQUESTED,
        amount=Decimal("23.45"),
        transaction={"id": transaction_id},
    )
    assert refund["result"] == "REFUND_SUCCESS", refund
    await stack.wait_for(
        lambda: any(e.type == "REFUND_SUCCESS" for e in stack.reports(transaction_id)),
        what="REFUND_SUCCESS report",
    )

    await payment_notified(stack)
    listed = await admin(stack, "GET", "/payments")
    assert listed["total"] == 1
    [item] = listed["items"]
    assert item["paymentRequestId"] == psp
    assert item["transactionId"] == transaction_id
    assert (item["amount"], item["currency"], item["status"]) == ("123.45", "HKD", "SUCCEEDED")
    assert item["refundedAmount"] == "23.45"
    assert item["paymentId"]
    today = item["createdAt"][:10]
    for params in (
        {"status": "SUCCEEDED"},
        {"wallet": "ALIPAY_HK"},
        {"q": psp},
        {"q": item["paymentId"]},
        {"q": transaction_id},
        {"from": today},
        {"channel": "hk-web"},
    ):
        found = await admin(stack, "GET", "/payments", params=params)
        assert [p["paymentRequestId"] for p in found["items"]] == [psp], params
    for params in ({"status": "FAILED"}, {"wallet": "DANA"}, {"q": "saa-none"}, {"to": today}):
        assert (await admin(stack, "GET", "/payments", params=params))["total"] == 0, params
    assert (await admin(stack, "GET", "/payments", params={"from": "26/11"}, expect=400))["error"][
        "code"
    ] == "INVALID_DATE"

    detail = await admin(stack, "GET", f"/payments/{psp}")
    assert Decimal(detail["amount"]) == Decimal("123.45")
    assert Decimal(detail["refundedAmount"]) == Decimal("23.45")
    [refund_item] = detail["refunds"]
    assert refund_item["refundRequestId"] == f"{psp}-r1"
    assert (refund_item["amount"], refund_item["status"]) == ("23.45", "SUCCEEDED")
    subjects = [(h["subject"], h["status"]) for h in detail["history"]]
    assert ("BINDING", "PENDING") in subjects
    assert ("PAYMENT", "SUCCEEDED") in subjects
    assert ("REFUND", "SUCCEEDED") in subjects
    assert ("REPORT", "CHARGE_SUCCESS:DONE") in subjects
    kinds = {n["kind"] for n in detail["notifications"]}
    assert kinds == {"AUTHORIZATION", "PAYMENT", "REFUND"}, detail["notifications"]
    [auth] = [n for n in detail["notifications"] if n["kind"] == "AUTHORIZATION"]
    assert set(auth["body"]) <= {"authorizationNotifyType", "authState", "reason"}
    [pay] = [n for n in detail["notifications"] if n["kind"] == "PAYMENT"]
    assert pay["body"]["paymentRequestId"] == psp
    assert pay["body"]["result"]["resultCode"] == "SUCCESS"
    reports = {
        (r["eventType"], r["pspReference"], r["amount"], r["status"]) for r in detail["reports"]
    }
    assert ("CHARGE_SUCCESS", psp, "123.45", "DONE") in reports, reports
    assert any(r[0] == "REFUND_SUCCESS" and r[1] == f"{psp}-r1" for r in reports), reports

    refunds = await admin(stack, "GET", "/refunds")
    assert [(r["refundRequestId"], r["paymentRequestId"]) for r in refunds["items"]] == [
        (f"{psp}-r1", psp)
    ]
    assert (await admin(stack, "GET", "/refunds", params={"q": psp}))["total"] == 1
    assert (await admin(stack, "GET", "/refunds", params={"status": "FAILED"}))["total"] == 0
    missing = await admin(stack, "GET", "/payments/saa-nope-1", expect=404)
    assert missing["error"]["code"] == "PAYMENT_NOT_FOUND"
    [row] = await app_rows(stack, Refund)
    assert row.amount == Decimal("23.45")


LISTS = ["/agreements", "/payments", "/refunds", "/declarations", "/reconciliation/days"]


async def test_list_parameters_out_of_bounds_are_a_400(stack: Stack) -> None:
    """Offsets past 64 bits, dates at the edges of datetime, control characters in search text:
    each a 400 with what is wrong (they were 500s, or a NUL that matched everything)."""
    for path in LISTS:
        for offset in ("99999999999999999999", "9223372036854775808", "-1", "10000001"):
            body = await admin(stack, "GET", path, params={"offset": offset}, expect=400)
            assert body["error"]["code"] == "INVALID_INPUT", body
        for limit in ("0", "501", "99999999999999999999"):
            await admin(stack, "GET", path, params={"limit": limit}, expect=400)
    for name in ("from", "to"):
        for edge in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01"):
            body = await admin(stack, "GET", "/payments", params={name: edge}, expect=400)
            assert body["error"]["code"] == "INVALID_DATE", body
    for path, name in [
        ("/agreements", "q"),
        ("/agreements", "email"),
        ("/payments", "q"),
        ("/refunds", "q"),
        ("/declarations", "paymentRequestId"),
    ]:
        for text in ("a\x00", "\x00", "x\ny", "\x7f"):
            await admin(stack, "GET", path, params={name: text}, expect=400)
        await admin(stack, "GET", path, params={name: "x" * 201}, expect=400)


async def test_search_text_is_matched_literally(stack: Stack) -> None:
    """% and _ in search text are the characters themselves, not LIKE wildcards."""
    await qr_purchase(stack, Decimal("12.00"))
    await payment_notified(stack)
    assert (await admin(stack, "GET", "/payments"))["total"] == 1
    for text in ("%", "_", "%%", "__%"):
        assert (await admin(stack, "GET", "/payments", params={"q": text}))["total"] == 0
        assert (await admin(stack, "GET", "/agreements", params={"q": text}))["items"] == []


async def test_inquire_now_asks_antom_and_settles_a_processing_payment(stack: Stack) -> None:
    transaction_id, psp = await qr_purchase(stack)
    await payment_notified(stack)
    # The app's view shifted: it believes the payment is still processing, and the sweeper
    # will not look before an hour.
    from datetime import timedelta

    from saleor_alipay_app.db import utcnow

    async with app_services(stack).sessions() as session:
        await session.execute(
            update(Payment)
            .where(Payment.payment_request_id == psp)  # type: ignore[arg-type]
            .values(status=PaymentStatus.PROCESSING, next_inquiry_at=utcnow() + timedelta(hours=1))
        )
        await session.commit()
    assert (await admin(stack, "GET", f"/payments/{psp}"))["status"] == "PROCESSING"

    body = await admin(stack, "POST", f"/payments/{psp}/inquire")
    assert body["inquired"] is True
    assert body["changed"] is True
    assert body["message"] == "Antom says the payment is now SUCCEEDED (was PROCESSING)"
    assert body["payment"]["status"] == "SUCCEEDED"
    [row] = await app_rows(stack, Payment)
    assert row.status is PaymentStatus.SUCCEEDED

    final = await admin(stack, "POST", f"/payments/{psp}/inquire")
    assert final["inquired"] is False
    assert final["message"].startswith("nothing to ask Antom: the payment is SUCCEEDED")
    assert transaction_id


async def test_staff_without_manage_apps_can_look_and_act_but_not_configure(
    stack: Stack,
) -> None:
    await qr_purchase(stack)
    headers = staff_headers(stack, ["HANDLE_PAYMENTS"])
    me = await admin(stack, "GET", "/me", headers=headers)
    assert me["canConfigure"] is False
    assert me["email"] == "staff@example.com"
    assert (await admin(stack, "GET", "/channels", headers=headers))["items"]
    assert (await admin(stack, "GET", "/payments", headers=headers))["total"] == 1
    for method, path in (
        ("PUT", "/channels/id-web/configuration"),
        ("POST", "/channels/id-web/test-connection"),
    ):
        body = await admin(
            stack, method, path, headers=headers, json=config_body(stack), expect=403
        )
        assert body["error"]["code"] == "PERMISSION_DENIED"
        assert "MANAGE_APPS" in body["error"]["message"]
    [item] = (await admin(stack, "GET", "/agreements", headers=headers))["items"]
    revoked = await admin(stack, "POST", f"/agreements/{item['id']}/revoke", headers=headers)
    assert revoked["status"] == "REVOKED"


async def test_the_dashboard_page_and_its_assets_are_served(stack: Stack) -> None:
    page = await stack.http.get(stack.url("/dashboard?theme=dark&locale=zh-CN"))
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "static/dashboard.js?v=" in page.text
    assert "static/dashboard.css?v=" in page.text
    # The app's sub-routes (the dashboard reloads the frame at them) are the same page, with
    # asset paths that resolve from there.
    deep = await stack.http.get(stack.url("/dashboard/payments/PR-1?theme=dark"))
    assert deep.status_code == 200
    assert "'../../static/dashboard.js?v=" in deep.text
    one = await stack.http.get(stack.url("/dashboard/payments"))
    assert "'../static/dashboard.css?v=" in one.text
    script = await stack.http.get(stack.url("/static/dashboard.js"))
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"notifyReady"' in script.text
    style = await stack.http.get(stack.url("/static/dashboard.css"))
    assert style.headers["content-type"].startswith("text/css")
    assert (await stack.http.get(stack.url("/static/logo.png"))).status_code == 200
    for name in ("secret.py", "..%2Fweb.py", "dashboard.js.map"):
        assert (await stack.http.get(stack.url(f"/static/{name}"))).status_code == 404, name


async def test_a_payment_names_its_checkout_and_then_its_order(stack: Stack) -> None:
    """The dashboard links a payment to its Saleor order: the checkout it was started on is
    kept; the order, which Saleor makes at checkoutComplete without telling the app, is asked
    of Saleor when the payment's page is opened (and kept), or taken from a staff action's
    payload. Saleor out of reach: the page shows without it."""
    transaction_id, psp = await qr_purchase(stack, Decimal("50.00"))
    checkout_id = stack.saleor.transactions[transaction_id].checkout_id
    assert checkout_id is not None  # the sourceObject of the session's payloads
    detail = await admin(stack, "GET", f"/payments/{psp}")
    assert detail["checkoutId"] == checkout_id
    assert detail["orderId"] is None  # the checkout is not completed yet

    order_id = global_id("Order", "a1b2c3")
    stack.saleor.transactions[transaction_id].order_id = order_id  # checkoutComplete
    stack.saleor.fail_graphql = "http_500"
    assert (await admin(stack, "GET", f"/payments/{psp}"))["orderId"] is None
    stack.saleor.fail_graphql = None
    assert (await admin(stack, "GET", f"/payments/{psp}"))["orderId"] == order_id
    [listed] = (await admin(stack, "GET", "/payments"))["items"]
    assert listed["orderId"] == order_id
    asked = [c for c in stack.saleor.calls if c.operation_name == "TransactionOrder"]
    await admin(stack, "GET", f"/payments/{psp}")
    assert [c for c in stack.saleor.calls if c.operation_name == "TransactionOrder"] == asked

    # A refund is asked on the order: its id comes with the payload.
    other, _ = await qr_purchase(stack, Decimal("20.00"), login="85260000002")
    refund = await stack.call(
        SyncEvent.TRANSACTION_REFUND_REQUESTED, amount=Decimal("5.00"), transaction={"id": other}
    )
    assert refund["result"] == "REFUND_SUCCESS", refund
    [row] = await app_rows(stack, Payment, saleor_transaction_id=other)
    assert row.saleor_order_id == stack.saleor.transactions[other].order_id is not None
    assert stack.saleor.invalid_documents == []
