"""Stored payment methods end to end (issue 4), over real HTTP: Saleor double -> app -> sandbox.

- One-click: the agreement from a first purchase is listed and charged in one call, by its raw
  or prefixed id, and only for the customer who owns it; a guest's agreement is revoked once its
  payment is final and is never listed.
- STORED_PAYMENT_METHOD_DELETE_REQUESTED: ownership, revoke at Antom, no longer usable.
- Tokenization: saving a wallet without buying.
- TOKEN_CANCELED: the shopper unbinds in the wallet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from saleor_alipay_app.agreements.models import Agreement, AgreementStatus
from saleor_alipay_app.antom.results import SHOPPER_MESSAGES
from saleor_alipay_app.config import Settings
from saleor_alipay_app.payments.models import Payment, PaymentStatus
from saleor_alipay_app.saleor.events import SyncEvent
from saleor_alipay_app.saleor.manifest import app_identifier
from tests.support.saleor_double import Customer, global_id
from tests.support.stack import (
    Stack,
    app_database,
    eventually,
    sandbox_authorizations,
    sandbox_binding_for,
    sandbox_json,
    sandbox_payment_notifications,
    started_stack,
    unbind_in_wallet,
)

OTHER_CUSTOMER = Customer(global_id("User", 4242), "other@example.com")
INIT = SyncEvent.TRANSACTION_INITIALIZE_SESSION
LIST = SyncEvent.LIST_STORED_PAYMENT_METHODS
DELETE = SyncEvent.STORED_PAYMENT_METHOD_DELETE_REQUESTED
GATEWAY = SyncEvent.PAYMENT_GATEWAY_INITIALIZE_SESSION
GATEWAY_TOKENIZATION = SyncEvent.PAYMENT_GATEWAY_INITIALIZE_TOKENIZATION_SESSION
INIT_TOKENIZATION = SyncEvent.PAYMENT_METHOD_INITIALIZE_TOKENIZATION_SESSION
PROCESS_TOKENIZATION = SyncEvent.PAYMENT_METHOD_PROCESS_TOKENIZATION_SESSION
NOT_YOURS = (
    "This saved wallet cannot be used for this checkout. Please choose another payment method."
)
NOT_LINKED = "This saved wallet is no longer linked. Please scan the QR code to link it again."


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[Stack]:
    async with started_stack(settings, tmp_path) as running:
        yield running


# -- helpers -----------------------------------------------------------------------------------


async def agreements(stack: Stack) -> list[Agreement]:
    async with app_database(stack) as sessions, sessions() as session:
        return list((await session.execute(select(Agreement))).scalars())


async def payments_of(stack: Stack, transaction_id: str) -> list[Payment]:
    async with app_database(stack) as sessions, sessions() as session:
        result = await session.execute(
            select(Payment).where(col(Payment.saleor_transaction_id) == transaction_id)
        )
        return list(result.scalars())


def charge_successes(stack: Stack, transaction_id: str) -> list[Any]:
    return [e for e in stack.reports(transaction_id) if e.type == "CHARGE_SUCCESS"]


async def buy_by_qr(stack: Stack, **kwargs: Any) -> str:
    """A first purchase completed by the notification; returns the QR code's authState."""
    payload, body = await stack.start_qr_payment(Decimal("123.45"), **kwargs)
    assert body["result"] == "CHARGE_ACTION_REQUIRED", body
    transaction_id = payload["transaction"]["id"]
    await stack.approve(body["data"]["bindingId"], login="85261234567")
    await stack.wait_for(
        lambda: bool(charge_successes(stack, transaction_id)), what="CHARGE_SUCCESS reported"
    )
    auth_state: str = body["data"]["bindingId"]
    return auth_state


async def listed(stack: Stack, customer: Customer | None = None) -> list[dict[str, Any]]:
    body = await stack.call(LIST, customer=customer)
    methods: list[dict[str, Any]] = body["paymentMethods"]
    return methods


async def one_click(
    stack: Stack, method_id: str, amount: Decimal = Decimal("10.00"), **kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    payload = stack.saleor.payload(
        INIT, amount=amount, data={"storedPaymentMethodId": method_id}, **kwargs
    )
    response = await stack.deliver(INIT, payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return payload, body


async def refused_without_pay(stack: Stack, method_id: str, message: str, **kwargs: Any) -> None:
    """A one-click that must end in CHARGE_FAILURE before anything is asked of Antom."""
    pays_before = len(await sandbox_payment_notifications(stack))
    payload, body = await one_click(stack, method_id, **kwargs)
    assert body["result"] == "CHARGE_FAILURE", body
    assert body["message"] == message
    assert "pspReference" not in body
    assert await payments_of(stack, payload["transaction"]["id"]) == []
    assert len(await sandbox_payment_notifications(stack)) == pays_before


async def delivered(stack: Stack, reference: str) -> bool:
    found = await sandbox_json(stack, "/notifications", reference=reference)
    return bool(found) and all(n["status"] == "DELIVERED" for n in found)


# -- one-click ---------------------------------------------------------------------------------


async def test_one_click_purchase_with_the_stored_agreement(stack: Stack) -> None:
    auth_state = await buy_by_qr(stack)
    [agreement] = await agreements(stack)
    binding = await sandbox_binding_for(stack, auth_state)
    assert agreement.saleor_user_id == stack.saleor.customer.id
    assert agreement.guest is False

    [method] = await listed(stack)
    assert method == {
        "id": agreement.public_id,
        "type": "alipay_plus_agreement",
        "supportedPaymentFlows": ["INTERACTIVE"],
        "name": "AlipayHK 852****4567",
        "data": {
            "wallet": "ALIPAY_HK",
            "walletName": "AlipayHK",
            "userLoginId": "852****4567",
            "expiresAt": method["data"]["expiresAt"],
        },
    }
    assert datetime.fromisoformat(method["data"]["expiresAt"]) == datetime.fromisoformat(
        binding["accessTokenExpiryTime"]
    )
    assert await listed(stack, OTHER_CUSTOMER) == []

    # One click: charged in the one call.
    payload, body = await one_click(stack, agreement.public_id, Decimal("10.00"))
    transaction_id = payload["transaction"]["id"]
    [row] = await payments_of(stack, transaction_id)
    assert body["result"] == "CHARGE_SUCCESS", body
    assert body["pspReference"] == row.payment_request_id
    assert Decimal(body["amount"]) == Decimal("10.00")
    assert body["actions"] == ["REFUND"]
    assert body["paymentMethodDetails"] == {"type": "OTHER", "name": "AlipayHK 852****4567"}
    assert row.status is PaymentStatus.SUCCEEDED
    assert row.agreement_id == agreement.id
    pays = await sandbox_payment_notifications(stack)
    assert len(pays) == 2
    assert pays[-1]["reference"] == row.payment_request_id
    assert pays[-1]["body"]["paymentAmount"] == {"currency": "HKD", "value": "1000"}
    # Saleor re-sends the same idempotencyKey: the same answer and no second pay.
    again = await stack.deliver(INIT, payload)
    assert again.json() == body
    assert len(await sandbox_payment_notifications(stack)) == 2
    # Concurrent duplicate deliveries of a new one: one pay, the same answer for all.
    payload = stack.saleor.payload(
        INIT, amount=Decimal("7.00"), data={"storedPaymentMethodId": agreement.public_id}
    )
    responses = await asyncio.gather(*(stack.deliver(INIT, payload) for _ in range(3)))
    bodies = [r.json() for r in responses]
    assert bodies[0]["result"] == "CHARGE_SUCCESS", bodies
    assert bodies == [bodies[0]] * 3
    assert len(await payments_of(stack, payload["transaction"]["id"])) == 1
    assert len(await sandbox_payment_notifications(stack)) == 3

    # The prefixed form a storefront may pass (`app:<identifier>:<id>`).
    prefixed = f"app:{app_identifier()}:{agreement.public_id}"
    payload, body = await one_click(stack, prefixed, Decimal("20.50"))
    assert body["result"] == "CHARGE_SUCCESS", body
    assert Decimal(body["amount"]) == Decimal("20.50")
    [row] = await payments_of(stack, payload["transaction"]["id"])
    assert row.agreement_id == agreement.id
    assert len(await sandbox_payment_notifications(stack)) == 4

    # Anyone holding a checkout id can start a transaction: only the owner's checkout may pay.
    await refused_without_pay(stack, agreement.public_id, NOT_YOURS, customer=OTHER_CUSTOMER)
    await refused_without_pay(stack, prefixed, NOT_YOURS, guest=True)
    await refused_without_pay(stack, "agr_does_not_exist", NOT_YOURS)
    # Limits are checked before Antom is asked.
    await refused_without_pay(
        stack,
        agreement.public_id,
        "AlipayHK accepts at most HKD 50000.00 per payment. "
        "Please choose another payment method or split the order.",
        amount=Decimal("50000.01"),
    )
    assert stack.saleor.invalid_documents == []


async def test_a_guest_agreement_is_revoked_once_paid_and_never_listed(stack: Stack) -> None:
    auth_state = await buy_by_qr(stack, guest=True)
    [agreement] = await agreements(stack)
    assert agreement.guest is True
    assert agreement.saleor_user_id is None

    async def revoked_at_antom() -> bool:
        binding = await sandbox_binding_for(stack, auth_state)
        return bool(binding["status"] == "REVOKED")

    await eventually(revoked_at_antom, what="the sweeper to revoke the guest's agreement")
    [agreement] = await agreements(stack)
    assert agreement.status is AgreementStatus.REVOKED
    assert await listed(stack) == []
    gateway = await stack.call(GATEWAY, amount=Decimal("10.00"), guest=True)
    assert gateway["data"]["hasAgreements"] is False
    await refused_without_pay(stack, agreement.public_id, NOT_YOURS, guest=True)
    await refused_without_pay(stack, agreement.public_id, NOT_YOURS)


# -- STORED_PAYMENT_METHOD_DELETE_REQUESTED --------------------------------------------------------


async def test_deleting_a_stored_method(stack: Stack) -> None:
    auth_state = await buy_by_qr(stack)
    [agreement] = await agreements(stack)

    # Saleor does not know who owns the id: another customer's request fails, nothing changes.
    other = await stack.call(DELETE, customer=OTHER_CUSTOMER, paymentMethodId=agreement.public_id)
    assert other == {"result": "FAILED_TO_DELETE", "error": "This saved wallet was not found."}
    assert (await sandbox_binding_for(stack, auth_state))["status"] == "ACTIVE"
    assert [m["id"] for m in await listed(stack)] == [agreement.public_id]

    # Antom's answer is lost (it did revoke): not deleted yet, the storefront may try again.
    await stack.scenario("HTTP_500", calls=["revoke"], count=1)
    lost = await stack.call(DELETE, paymentMethodId=agreement.public_id)
    assert lost == {
        "result": "FAILED_TO_DELETE",
        "error": "The wallet could not be unlinked right now. Please try again.",
    }
    assert [m["id"] for m in await listed(stack)] == [agreement.public_id]

    own = await stack.call(DELETE, paymentMethodId=agreement.public_id)
    assert own == {"result": "SUCCESSFULLY_DELETED"}
    binding = await sandbox_binding_for(stack, auth_state)
    assert binding["status"] == "REVOKED"
    [agreement] = await agreements(stack)
    assert agreement.status is AgreementStatus.REVOKED
    assert await listed(stack) == []
    gateway = await stack.call(GATEWAY, amount=Decimal("10.00"))
    assert gateway["data"]["hasAgreements"] is False
    await refused_without_pay(stack, agreement.public_id, NOT_LINKED)
    # A repeated request (the storefront retries) is still a success, and revokes nothing more.
    assert await stack.call(DELETE, paymentMethodId=agreement.public_id) == own


# -- tokenization: saving a wallet without buying ----------------------------------------------


async def test_saving_a_wallet_without_buying(stack: Stack) -> None:
    gateway = await stack.call(GATEWAY_TOKENIZATION)
    assert gateway == {
        "result": "SUCCESSFULLY_INITIALIZED",
        "data": {
            "wallets": [
                {
                    "id": "ALIPAY_HK",
                    "name": "AlipayHK",
                    "currency": "HKD",
                    "minAmount": "0.01",
                    "maxAmount": "50000",
                }
            ]
        },
    }

    started = await stack.call(INIT_TOKENIZATION)
    assert started["result"] == "ADDITIONAL_ACTION_REQUIRED", started
    auth_state = started["id"]
    assert started["data"]["bindingId"] == auth_state
    assert started["data"]["wallet"] == "ALIPAY_HK"
    assert started["data"]["qrCodeSvg"].startswith("<svg")
    [authorization] = await sandbox_authorizations(stack)
    assert authorization["authState"] == auth_state
    assert started["data"]["qrCodeValue"] == authorization["authUrl"]

    # Not approved yet: the same QR code again.
    waiting = await stack.call(PROCESS_TOKENIZATION, id=auth_state)
    assert waiting == started

    # Antom out of reach: the shopper hears about linking their wallet, not about a payment.
    await stack.scenario("HTTP_500", calls=["consult"], count=10)
    refused = await stack.call(INIT_TOKENIZATION)
    assert refused == {
        "result": "FAILED_TO_TOKENIZE",
        "error": "Your wallet could not be linked right now. Please try again in a moment.",
    }
    assert (await stack.http.delete(f"{stack.sandbox.url}/sandbox/api/scenario")).is_success

    await stack.approve(auth_state, login="85298765432")
    await eventually(lambda: delivered(stack, auth_state), what="the authorization acknowledged")
    [agreement] = await agreements(stack)
    assert agreement.saleor_user_id == stack.saleor.customer.id
    done = await stack.call(PROCESS_TOKENIZATION, id=auth_state)
    assert done["result"] == "SUCCESSFULLY_TOKENIZED", done
    assert done["id"] == agreement.public_id
    assert done["data"]["name"] == "AlipayHK 852****5432"
    assert done["data"]["type"] == "alipay_plus_agreement"
    prefixed = await stack.call(PROCESS_TOKENIZATION, id=f"app:{app_identifier()}:{auth_state}")
    assert prefixed == done

    # Another user holding the id gets nothing.
    other = await stack.call(PROCESS_TOKENIZATION, id=auth_state, customer=OTHER_CUSTOMER)
    assert other == {"result": "FAILED_TO_TOKENIZE", "error": "This wallet link was not found."}
    assert await listed(stack, OTHER_CUSTOMER) == []

    [method] = await listed(stack)
    assert method["id"] == agreement.public_id
    assert method["name"] == "AlipayHK 852****5432"
    # One wallet bound (the consult that answered 500 above bound nothing).
    issued = [a for a in await sandbox_authorizations(stack) if a["status"] == "TOKEN_ISSUED"]
    assert [a["authState"] for a in issued] == [auth_state]
    assert await sandbox_payment_notifications(stack) == []

    # The saved wallet pays in one click.
    payload, body = await one_click(stack, agreement.public_id, Decimal("5.00"))
    assert body["result"] == "CHARGE_SUCCESS", body
    [row] = await payments_of(stack, payload["transaction"]["id"])
    assert body["pspReference"] == row.payment_request_id
    assert stack.saleor.invalid_documents == []


# -- TOKEN_CANCELED ------------------------------------------------------------------------------


async def test_unbinding_in_the_wallet_ends_the_agreement(stack: Stack) -> None:
    auth_state = await buy_by_qr(stack)
    [agreement] = await agreements(stack)
    assert [m["id"] for m in await listed(stack)] == [agreement.public_id]
    binding = await sandbox_binding_for(stack, auth_state)

    unbound = await unbind_in_wallet(stack, binding["bindingId"])
    assert unbound["status"] == "CANCELED"
    await eventually(
        lambda: delivered(stack, binding["bindingId"]), what="TOKEN_CANCELED acknowledged"
    )
    [agreement] = await agreements(stack)
    assert agreement.status is AgreementStatus.INVALID
    assert await listed(stack) == []
    gateway = await stack.call(GATEWAY, amount=Decimal("10.00"))
    assert gateway["data"]["hasAgreements"] is False
    await refused_without_pay(stack, agreement.public_id, NOT_LINKED)


async def test_an_unbinding_whose_notification_is_lost_ends_at_the_next_pay(stack: Stack) -> None:
    auth_state = await buy_by_qr(stack)
    [agreement] = await agreements(stack)
    binding = await sandbox_binding_for(stack, auth_state)
    await stack.scenario("NOTIFY_FAIL", calls=["notifyAuthorization"], count=50)
    await unbind_in_wallet(stack, binding["bindingId"])

    # The app has not heard of it: the agreement is still listed, and Antom refuses the pay.
    assert [m["id"] for m in await listed(stack)] == [agreement.public_id]
    payload, body = await one_click(stack, agreement.public_id)
    assert body["result"] == "CHARGE_FAILURE", body
    assert body["message"] == SHOPPER_MESSAGES["INVALID_ACCESS_TOKEN"]
    [row] = await payments_of(stack, payload["transaction"]["id"])
    assert body["pspReference"] == row.payment_request_id
    assert row.status is PaymentStatus.FAILED
    assert row.result_code == "INVALID_ACCESS_TOKEN"
    [agreement] = await agreements(stack)
    assert agreement.status is AgreementStatus.INVALID
    assert await listed(stack) == []
    await refused_without_pay(stack, agreement.public_id, NOT_LINKED)
