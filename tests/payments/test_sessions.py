"""The shopper's sessions end to end (issue 4), over real HTTP: Saleor double -> app -> sandbox.

- PAYMENT_GATEWAY_INITIALIZE_SESSION: the wallets usable for the channel, currency and amount,
  and whether the customer has a usable agreement.
- TRANSACTION_INITIALIZE_SESSION without a stored method: the QR code, once per transaction
  whatever the repeats; the wallet checks that refuse before anything is asked of Antom.
- TRANSACTION_PROCESS_SESSION: the same first purchase completed by the storefront's polling
  instead of the notification's report (Saleor down), a pending QR, an expired QR, a decline.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from saleor_alipay_app.agreements.models import Agreement, BindingSession, BindingStatus
from saleor_alipay_app.antom import wallets as wallets_module
from saleor_alipay_app.antom.wallets import CAPABILITIES, Wallet
from saleor_alipay_app.config import Settings
from saleor_alipay_app.db import transaction, utcnow
from saleor_alipay_app.installations.models import Installation
from saleor_alipay_app.payments.models import Payment, PaymentStatus, ReportStatus, SaleorReport
from saleor_alipay_app.payments.service import payment_request_id
from saleor_alipay_app.payments.webhooks import common as sessions_module
from saleor_alipay_app.saleor.events import SyncEvent
from tests.support.saleor_double import Customer, PermissionDenied, global_id
from tests.support.stack import (
    Stack,
    app_database,
    app_rows,
    eventually,
    qr_purchase,
    sandbox_authorizations,
    sandbox_json,
    sandbox_payment_notifications,
    started_stack,
)

ALIPAY_HK = {
    "id": "ALIPAY_HK",
    "name": "AlipayHK",
    "currency": "HKD",
    "minAmount": "0.01",
    "maxAmount": "50000",
}
OTHER_CUSTOMER = Customer(global_id("User", 4242), "other@example.com")
INIT = SyncEvent.TRANSACTION_INITIALIZE_SESSION
PROCESS = SyncEvent.TRANSACTION_PROCESS_SESSION
GATEWAY = SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


# -- helpers -----------------------------------------------------------------------------------


async def payments_of(stack: Stack, transaction_id: str) -> list[Payment]:
    async with app_database(stack) as sessions, sessions() as session:
        result = await session.execute(
            select(Payment).where(col(Payment.saleor_transaction_id) == transaction_id)
        )
        return list(result.scalars())


async def binding_row(stack: Stack, auth_state: str) -> BindingSession:
    async with app_database(stack) as sessions, sessions() as session:
        result = await session.execute(
            select(BindingSession).where(col(BindingSession.auth_state) == auth_state)
        )
        return result.scalar_one()


async def expire_binding(stack: Stack, auth_state: str) -> None:
    """Shift the app's view: this QR code's 15 minutes are over."""
    async with app_database(stack) as sessions, transaction(sessions) as session:
        result = await session.execute(
            select(BindingSession).where(col(BindingSession.auth_state) == auth_state)
        )
        row = result.scalar_one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)


async def process(stack: Stack, transaction_id: str, **kwargs: Any) -> dict[str, Any]:
    return await stack.call(PROCESS, transaction={"id": transaction_id}, **kwargs)


def charge_successes(stack: Stack, transaction_id: str) -> list[Any]:
    return [e for e in stack.reports(transaction_id) if e.type == "CHARGE_SUCCESS"]


async def notifications_for(stack: Stack, reference: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = await sandbox_json(stack, "/notifications", reference=reference)
    return items


async def buy_by_qr(
    stack: Stack, amount: Decimal = Decimal("123.45"), **kwargs: Any
) -> tuple[str, dict[str, Any]]:
    """A whole first purchase completed by the notification: (transaction id, initialize body)."""
    payload, body = await stack.start_qr_payment(amount, **kwargs)
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body
    transaction_id = payload["transaction"]["id"]
    await stack.approve(body["data"]["bindingId"], login="85261234567")
    await stack.wait_for(
        lambda: bool(charge_successes(stack, transaction_id)), what="CHARGE_SUCCESS reported"
    )
    return transaction_id, body


# -- PAYMENT_GATEWAY_INITIALIZE_SESSION --------------------------------------------------------


async def test_gateway_session_lists_the_usable_wallets_and_agreements(stack: Stack) -> None:
    body = await stack.call(GATEWAY, amount=Decimal("100.00"))
    # hk-web offers AlipayHK only (DANA takes IDR only, and cannot be enabled there).
    assert body == {
        "data": {
            "wallets": [ALIPAY_HK],
            "currency": "HKD",
            "hasAgreements": False,
            "agreements": [],
            "sandbox": True,
            "amount": "100.00",  # the currency's digits
        }
    }
    above_max = await stack.call(GATEWAY, amount=Decimal("50000.01"))
    assert above_max["data"]["wallets"] == []
    assert above_max["data"]["hasAgreements"] is False

    # After a first purchase by the (logged-in) default customer: an agreement is usable.
    await buy_by_qr(stack)
    async with app_database(stack) as sessions, sessions() as session:
        agreement = (await session.execute(select(Agreement))).scalar_one()
    body = await stack.call(GATEWAY, amount=Decimal("100.00"))
    assert body["data"]["wallets"] == [ALIPAY_HK]
    assert body["data"]["hasAgreements"] is True
    assert body["data"]["agreements"] == [
        {"id": agreement.public_id, "wallet": "ALIPAY_HK", "name": "AlipayHK 852****4567"}
    ]
    # Not for another customer, not for a guest, not for an amount AlipayHK cannot take.
    for kwargs in ({"customer": OTHER_CUSTOMER}, {"guest": True}):
        other = await stack.call(GATEWAY, amount=Decimal("100.00"), **kwargs)
        assert other["data"]["hasAgreements"] is False
        assert other["data"]["agreements"] == []
    above_max = await stack.call(GATEWAY, amount=Decimal("50000.01"))
    assert above_max["data"]["hasAgreements"] is False

    # A channel in IDR, once configured, offers DANA and not AlipayHK.
    await stack.configure("id-web", wallets="DANA")
    idr = await stack.call(GATEWAY, amount=Decimal("150000.0"), channel_slug="id-web")
    assert [w["id"] for w in idr["data"]["wallets"]] == ["DANA"]
    assert idr["data"]["currency"] == "IDR"
    assert idr["data"]["amount"] == "150000.00"  # the currency's digits, as Saleor sent 150000.0
    assert stack.saleor.invalid_documents == []


async def test_gateway_session_in_an_unconfigured_channel_answers_data(stack: Stack) -> None:
    response = await stack.deliver(
        GATEWAY, stack.saleor.payload(GATEWAY, amount=Decimal("100"), channel_slug="id-web")
    )
    assert response.status_code == 200
    # `data` is required in this answer (APP-PROTOCOL §4.1): the error travels inside it.
    assert response.json() == {
        "data": {"wallets": [], "error": "This payment method is not available right now."}
    }


# -- TRANSACTION_INITIALIZE_SESSION --------------------------------------------------------------


async def test_initialize_answers_the_qr_code_once_per_transaction(stack: Stack) -> None:
    payload = stack.saleor.payload(INIT, amount=Decimal("123.45"), data={"wallet": "ALIPAY_HK"})
    transaction_id = payload["transaction"]["id"]
    response = await stack.deliver(INIT, payload)
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "CHARGE_ACTION_REQUIRED"
    assert Decimal(body["amount"]) == Decimal("123.45")
    assert body["actions"] == ["CANCEL"]
    data = body["data"]
    assert data["status"] == "PENDING"
    assert data["wallet"] == "ALIPAY_HK"
    assert data["qrCodeSvg"].startswith("<svg")
    [authorization] = await sandbox_authorizations(stack)
    assert authorization["authState"] == data["bindingId"]
    assert authorization["status"] == "CREATED"
    assert data["qrCodeValue"] == authorization["authUrl"]
    assert data["authUrls"]["normalUrl"] == authorization["authUrl"]
    assert set(data["authUrls"]) == {"normalUrl", "applinkUrl", "schemeUrl"}
    expires = datetime.fromisoformat(data["expiresAt"])
    assert timedelta(minutes=14) < expires - utcnow() <= timedelta(minutes=15)

    [row] = await payments_of(stack, transaction_id)
    assert body["pspReference"] == row.payment_request_id
    assert row.payment_request_id == payment_request_id(row.installation_id, transaction_id, 1)
    assert row.status is PaymentStatus.AWAITING_BINDING
    assert row.amount == Decimal("123.45")
    assert int(row.amount_minor) == 12345
    assert row.saleor_idempotency_key == payload["idempotencyKey"]

    # Saleor re-sends the webhook for a repeated idempotencyKey: the same answer, nothing new.
    again = await stack.deliver(INIT, payload)
    assert again.json() == body
    repeats = await asyncio.gather(*(stack.deliver(INIT, payload) for _ in range(3)))
    assert [r.json() for r in repeats] == [body] * 3
    assert len(await sandbox_authorizations(stack)) == 1
    assert len(await payments_of(stack, transaction_id)) == 1


async def test_concurrent_first_deliveries_make_one_consult(stack: Stack) -> None:
    payload = stack.saleor.payload(INIT, amount=Decimal("88.00"), data={"wallet": "ALIPAY_HK"})
    responses = await asyncio.gather(*(stack.deliver(INIT, payload) for _ in range(4)))
    bodies = [r.json() for r in responses]
    assert bodies[0]["result"] == "CHARGE_ACTION_REQUIRED"
    assert bodies == [bodies[0]] * 4
    [authorization] = await sandbox_authorizations(stack)
    assert authorization["authState"] == bodies[0]["data"]["bindingId"]
    [row] = await payments_of(stack, payload["transaction"]["id"])
    assert row.payment_request_id == bodies[0]["pspReference"]


async def test_initialize_refuses_what_no_wallet_can_pay(stack: Stack) -> None:
    async def failure(amount: Decimal, data: Any, **kwargs: Any) -> dict[str, Any]:
        payload, body = await stack.start_qr_payment(amount, data=data, **kwargs)
        assert body["result"] == "CHARGE_FAILURE", body
        assert "pspReference" not in body
        assert await payments_of(stack, payload["transaction"]["id"]) == []
        return body

    body = await failure(Decimal("123.45"), {"wallet": "ALIPAY_HK"}, action={"currency": "USD"})
    assert body["message"] == "AlipayHK can only be used for payments in HKD."
    assert body["data"] == {"code": "CURRENCY_NOT_SUPPORTED"}
    # DANA (IDR only) cannot be enabled on an HKD channel: for its shoppers, it is not there.
    body = await failure(Decimal("123.45"), {"wallet": "DANA"})
    assert body["message"] == "DANA is not available in this store."
    body = await failure(Decimal("123.45"), {"wallet": "GCASH"})
    assert body["message"] == "GCash is not available in this store."
    assert body["data"] == {"code": "WALLET_DISABLED"}
    body = await failure(Decimal("50000.01"), {"wallet": "ALIPAY_HK"})
    assert body["message"] == (
        "AlipayHK accepts at most HKD 50000.00 per payment. "
        "Please choose another payment method or split the order."
    )
    assert body["data"] == {"code": "ABOVE_MAXIMUM"}
    body = await failure(Decimal("50000.01"), None)
    assert body["message"] == "No wallet can pay this amount in this currency."
    assert body["data"] == {"code": "NO_WALLET"}
    body = await failure(Decimal("0"), None)
    assert body["message"] == "There is nothing to pay."
    # Nothing was asked of Antom.
    assert await sandbox_authorizations(stack) == []

    # Without a choice and with one usable wallet, that wallet is used.
    _, body = await stack.start_qr_payment(Decimal("10.00"), data=None)
    assert body["result"] == "CHARGE_ACTION_REQUIRED"
    assert body["data"]["wallet"] == "ALIPAY_HK"


async def test_a_wallet_must_be_chosen_when_several_are_usable(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every wallet of the capability table has a currency of its own; make up a second HKD one.
    table = {
        **CAPABILITIES,
        Wallet.TNG: dataclasses.replace(CAPABILITIES[Wallet.TNG], currency="HKD"),
    }
    monkeypatch.setattr(wallets_module, "CAPABILITIES", table)
    monkeypatch.setattr(sessions_module, "CAPABILITIES", table)
    await stack.configure(wallets="ALIPAY_HK,TNG")

    gateway = await stack.call(GATEWAY, amount=Decimal("100.00"))
    assert [w["id"] for w in gateway["data"]["wallets"]] == ["ALIPAY_HK", "TNG"]
    payload, body = await stack.start_qr_payment(Decimal("100.00"), data=None)
    assert body == {
        "result": "CHARGE_FAILURE",
        "message": "Please choose a wallet: AlipayHK, Touch 'n Go eWallet.",
        "data": {"code": "WALLET_REQUIRED"},
    }
    assert await payments_of(stack, payload["transaction"]["id"]) == []
    assert await sandbox_authorizations(stack) == []
    _, body = await stack.start_qr_payment(Decimal("100.00"), data={"wallet": "alipay_hk"})
    assert body["result"] == "CHARGE_ACTION_REQUIRED"
    assert body["data"]["wallet"] == "ALIPAY_HK"


# -- TRANSACTION_PROCESS_SESSION -----------------------------------------------------------------


async def test_process_session_completes_the_purchase_while_saleor_is_down(stack: Stack) -> None:
    payload, body = await stack.start_qr_payment(Decimal("123.45"))
    transaction_id = payload["transaction"]["id"]
    auth_state = body["data"]["bindingId"]

    stack.saleor.fail_graphql = "http_500"
    await stack.approve(auth_state, login="85261234567")

    async def refused() -> bool:
        [notification] = await notifications_for(stack, auth_state)
        return any(a["outcome"] == "NOT_ACKNOWLEDGED" for a in notification["attempts"])

    await eventually(refused, what="the authorization notification refused")
    [notification] = await notifications_for(stack, auth_state)
    assert notification["status"] == "PENDING"
    assert all(a["outcome"] == "NOT_ACKNOWLEDGED" for a in notification["attempts"])
    assert notification["attempts"][0]["httpStatus"] == 503

    # The storefront polls: the payment is done, whatever Saleor's GraphQL says.
    done = await process(stack, transaction_id)
    assert done["result"] == "CHARGE_SUCCESS"
    assert done["pspReference"] == body["pspReference"]
    assert Decimal(done["amount"]) == Decimal("123.45")
    assert done["actions"] == ["REFUND"]
    assert done["paymentMethodDetails"] == {"type": "OTHER", "name": "AlipayHK 852****4567"}
    assert charge_successes(stack, transaction_id) == []

    # Saleor is back: the report goes through and the notification is acknowledged.
    stack.saleor.fail_graphql = None
    await stack.wait_for(
        lambda: bool(charge_successes(stack, transaction_id)), timeout=15, what="the report"
    )

    async def acknowledged() -> bool:
        [notification] = await notifications_for(stack, auth_state)
        return bool(notification["status"] == "DELIVERED")

    await eventually(acknowledged, timeout=15, what="the notification acknowledged")

    async def payment_notification_acknowledged() -> bool:
        found = await notifications_for(stack, body["pspReference"])
        return len(found) == 1 and found[0]["status"] == "DELIVERED"

    await eventually(payment_notification_acknowledged, timeout=15, what="notifyPayment acked")
    [event] = charge_successes(stack, transaction_id)
    assert event.amount == Decimal("123.45")
    assert event.psp_reference == body["pspReference"]
    [row] = await payments_of(stack, transaction_id)
    assert row.status is PaymentStatus.SUCCEEDED
    assert len(await sandbox_payment_notifications(stack)) == 1
    # Idempotent afterwards.
    assert await process(stack, transaction_id) == done
    assert stack.saleor.invalid_documents == []


async def test_process_session_shows_the_qr_until_approved_and_renews_it(stack: Stack) -> None:
    payload, body = await stack.start_qr_payment(Decimal("42.00"))
    transaction_id = payload["transaction"]["id"]
    first_qr = body["data"]

    pending = await process(stack, transaction_id)
    assert pending["result"] == "CHARGE_ACTION_REQUIRED"
    assert pending["pspReference"] == body["pspReference"]
    assert pending["data"] == first_qr

    # The QR code's 15 minutes are over (in the app's view): a fresh code, a new authState.
    await expire_binding(stack, first_qr["bindingId"])
    renewed = await process(stack, transaction_id)
    assert renewed["result"] == "CHARGE_ACTION_REQUIRED"
    assert renewed["pspReference"] == body["pspReference"]
    fresh_qr = renewed["data"]
    assert fresh_qr["bindingId"] != first_qr["bindingId"]
    assert fresh_qr["qrCodeValue"] != first_qr["qrCodeValue"]
    assert fresh_qr["status"] == "PENDING"
    assert (await binding_row(stack, first_qr["bindingId"])).status is BindingStatus.EXPIRED
    authorizations = await sandbox_authorizations(stack)
    assert [a["authState"] for a in authorizations] == [
        fresh_qr["bindingId"],
        first_qr["bindingId"],
    ]
    # Polling again shows the same fresh code (no third consult).
    assert (await process(stack, transaction_id))["data"] == fresh_qr
    assert len(await sandbox_authorizations(stack)) == 2

    await stack.approve(fresh_qr["bindingId"])
    await stack.wait_for(lambda: bool(charge_successes(stack, transaction_id)), what="report")
    done = await process(stack, transaction_id)
    assert done["result"] == "CHARGE_SUCCESS"
    assert done["pspReference"] == body["pspReference"]
    [row] = await payments_of(stack, transaction_id)
    assert row.status is PaymentStatus.SUCCEEDED
    assert row.amount == Decimal("42.00")


async def test_a_repeated_initialize_after_the_qr_expired_gets_a_fresh_one(stack: Stack) -> None:
    payload, body = await stack.start_qr_payment(Decimal("18.00"))
    first_qr = body["data"]
    await expire_binding(stack, first_qr["bindingId"])

    again = await stack.deliver(INIT, payload)

    renewed = again.json()
    assert renewed["result"] == "CHARGE_ACTION_REQUIRED"
    assert renewed["pspReference"] == body["pspReference"]
    assert renewed["data"]["bindingId"] != first_qr["bindingId"]
    assert len(await payments_of(stack, payload["transaction"]["id"])) == 1


async def test_process_session_after_a_decline_in_the_wallet(stack: Stack) -> None:
    payload, body = await stack.start_qr_payment(Decimal("42.00"))
    transaction_id = payload["transaction"]["id"]
    declined_qr = body["data"]
    await stack.decline(declined_qr["bindingId"])

    # Antom sends nothing on a decline: the app cannot tell it from a shopper still deciding.
    assert await notifications_for(stack, declined_qr["bindingId"]) == []
    still = await process(stack, transaction_id)
    assert still["result"] == "CHARGE_ACTION_REQUIRED"
    assert still["data"] == declined_qr

    # The storefront may ask for a new code at once ("try again"), without waiting for expiry.
    retry = await process(stack, transaction_id, data={"newQrCode": True})
    assert retry["result"] == "CHARGE_ACTION_REQUIRED"
    assert retry["pspReference"] == body["pspReference"]
    assert retry["data"]["bindingId"] != declined_qr["bindingId"]
    assert (await binding_row(stack, declined_qr["bindingId"])).status is BindingStatus.EXPIRED

    # Otherwise the code is renewed once it expires.
    await expire_binding(stack, retry["data"]["bindingId"])
    renewed = await process(stack, transaction_id)
    assert renewed["data"]["bindingId"] not in (
        declined_qr["bindingId"],
        retry["data"]["bindingId"],
    )
    assert len(await sandbox_authorizations(stack)) == 3

    await stack.approve(renewed["data"]["bindingId"])
    await stack.wait_for(lambda: bool(charge_successes(stack, transaction_id)), what="report")
    [row] = await payments_of(stack, transaction_id)
    assert row.status is PaymentStatus.SUCCEEDED
    assert row.payment_request_id == body["pspReference"]


async def test_a_failed_renewal_of_the_qr_code_is_retried_on_the_next_poll(stack: Stack) -> None:
    payload, body = await stack.start_qr_payment(Decimal("42.00"))
    transaction_id = payload["transaction"]["id"]
    first_qr = body["data"]
    await expire_binding(stack, first_qr["bindingId"])

    # Antom cannot be reached while the code is renewed (the app sends consult twice).
    await stack.scenario("HTTP_500", calls=["consult"], count=2)
    failed = await process(stack, transaction_id)
    assert failed["result"] == "CHARGE_ACTION_REQUIRED"
    assert failed["pspReference"] == body["pspReference"]
    assert failed["data"]["status"] == "RETRY"

    # The next poll renews the code: the shopper is not left with a dead one.
    renewed = await process(stack, transaction_id)
    assert renewed["result"] == "CHARGE_ACTION_REQUIRED"
    assert renewed["data"]["status"] == "PENDING"
    assert renewed["data"]["bindingId"] != first_qr["bindingId"]
    await stack.approve(renewed["data"]["bindingId"])
    await stack.wait_for(lambda: bool(charge_successes(stack, transaction_id)), what="report")
    [event] = charge_successes(stack, transaction_id)
    assert event.psp_reference == body["pspReference"]
    assert event.amount == Decimal("42.00")


async def test_a_report_says_what_the_session_answer_says(stack: Stack) -> None:
    """A first purchase's CHARGE_SUCCESS reaches Saleor through transactionEventReport; a one-click
    payment's through the session's answer (and a confirming report later): both carry the same
    message naming the wallet."""
    transaction_id, _ = await qr_purchase(stack)
    [reported] = charge_successes(stack, transaction_id)
    assert reported.message == "Paid with AlipayHK"
    method = (await stack.call(SyncEvent.LIST_STORED_PAYMENT_METHODS))["paymentMethods"][0]["id"]
    answer = await stack.call(INIT, amount=Decimal("12.00"), data={"storedPaymentMethodId": method})
    assert (answer["result"], answer["message"]) == ("CHARGE_SUCCESS", reported.message)


async def test_reports_name_the_transaction_and_its_payment_method(stack: Stack) -> None:
    """Every path gives Saleor the same message, payment method and transaction name: a first
    purchase's report, and a one-click answer with the report that confirms it later."""
    transaction_id, _ = await qr_purchase(stack)
    first = stack.saleor.transactions[transaction_id]
    assert first.name == "Alipay+ AlipayHK"
    assert first.payment_method_details is not None
    assert first.payment_method_details["type"] == "OTHER"
    assert first.payment_method_details["name"].startswith("AlipayHK ")

    method = (await stack.call(SyncEvent.LIST_STORED_PAYMENT_METHODS))["paymentMethods"][0]["id"]
    payload = stack.saleor.payload(
        INIT, amount=Decimal("12.00"), data={"storedPaymentMethodId": method}
    )
    answer = (await stack.deliver(INIT, payload)).json()
    assert answer["result"] == "CHARGE_SUCCESS", answer
    assert answer["paymentMethodDetails"] == first.payment_method_details
    one_click = stack.saleor.transactions[payload["transaction"]["id"]]
    # The session's answer cannot name a transaction: the confirming report does.
    await stack.wait_for(
        lambda: one_click.name == "Alipay+ AlipayHK", what="the one-click transaction's name"
    )
    assert one_click.payment_method_details == first.payment_method_details
    assert stack.saleor.invalid_documents == []


async def test_on_saleor_3_21_reports_name_the_transaction_without_a_payment_method(
    stack: Stack,
) -> None:
    """Saleor 3.21 has no `paymentMethodDetails`: once a webhook says the Saleor is 3.21, reports
    use the 3.21 document (the double refuses what 3.21 does not know), and still name the
    transaction."""
    [installation] = await app_rows(stack, Installation)
    assert installation.saleor_version == "3.24"  # from the token request's header
    stack.saleor.version = "3.21.5"
    transaction_id, _ = await qr_purchase(stack)
    [installation] = await app_rows(stack, Installation)
    assert installation.saleor_version == "3.21"
    transaction = stack.saleor.transactions[transaction_id]
    assert transaction.name == "Alipay+ AlipayHK"
    assert transaction.payment_method_details is None
    [reported] = charge_successes(stack, transaction_id)
    assert reported.message == "Paid with AlipayHK"
    assert stack.saleor.invalid_documents == []
    # Upgraded in place: the next webhook says so, and the next report carries the details.
    stack.saleor.version = "3.22.0"
    second, _ = await qr_purchase(stack, login="85260000001")
    [installation] = await app_rows(stack, Installation)
    assert installation.saleor_version == "3.22"
    assert stack.saleor.transactions[second].payment_method_details is not None


async def test_a_refused_name_never_holds_a_report_back(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """Saleor refusing the transaction's name (a GraphQL error on `transactionUpdate` alone) is
    logged; the outcome the report carries is confirmed all the same, and sent once."""

    def refuse(_info: Any, **_args: Any) -> dict[str, Any]:
        raise PermissionDenied("OWNER, HANDLE_PAYMENTS")

    stack.saleor._transaction_update = refuse  # type: ignore[method-assign]
    transaction_id, _ = await qr_purchase(stack)
    assert stack.saleor.transactions[transaction_id].name == ""

    async def confirmed() -> bool:
        rows = await app_rows(stack, SaleorReport, saleor_transaction_id=transaction_id)
        return [r.status for r in rows] == [ReportStatus.DONE]

    await eventually(confirmed, what="the report confirmed")
    [report] = await app_rows(stack, SaleorReport, saleor_transaction_id=transaction_id)
    assert report.attempts == 1
    assert "did not take the transaction's name" in caplog.text


async def test_a_saleor_that_refuses_the_payment_method_gets_the_report_without_it(
    stack: Stack,
) -> None:
    """The installation's Saleor version misread (3.22 kept, 3.21 in fact): Saleor refuses the
    report with `paymentMethodDetails`, and the outcome goes at once in the 3.21 form."""
    stack.saleor.version = "3.21.5"
    payload, body = await stack.start_qr_payment(Decimal("30.00"))
    transaction_id = payload["transaction"]["id"]
    async with app_database(stack) as sessions, transaction(sessions) as session:
        [installation] = (await session.execute(select(Installation))).scalars().all()
        installation.saleor_version = "3.22"
        session.add(installation)
    await stack.approve(body["data"]["bindingId"], login="85261230000")
    await stack.wait_for(
        lambda: bool(charge_successes(stack, transaction_id)), what="CHARGE_SUCCESS reported"
    )
    transaction_record = stack.saleor.transactions[transaction_id]
    assert transaction_record.name == "Alipay+ AlipayHK"
    assert transaction_record.payment_method_details is None
    [refused] = stack.saleor.invalid_documents
    assert "TransactionEventReportWithDetails" in refused.query
