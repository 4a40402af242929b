"""The Antom client against the Antom sandbox over real HTTP: every endpoint, every scenario.

The sandbox plays Antom with its own signing key; the client signs with the merchant's key and
verifies every answer, so each passing call is also a signature check in both directions.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest

from saleor_alipay_app.antom.client import AntomClient, AntomUnavailable, UnavailableReason
from saleor_alipay_app.antom.keys import generate_private_key
from saleor_alipay_app.antom.models import (
    ApplyTokenRequest,
    CancelRequest,
    ConsultRequest,
    Customs,
    DeclareRequest,
    InquiryDeclarationRequestsRequest,
    InquiryPaymentRequest,
    InquiryRefundRequest,
    MerchantCustomsInfo,
    Order,
    PaymentMethod,
    PaymentStatus,
    PayRequest,
    RefundRequest,
    RefundStatus,
    RevokeRequest,
    SettlementStrategy,
)
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.results import Outcome
from saleor_alipay_app.http import make_http_client
from saleor_alipay_app.sandbox import MerchantConfig, SandboxConfig, create_sandbox_app
from tests.support.servers import serve_in_loop
from tests.support.stack import cached_key

CLIENT_ID = "SANDBOX_5Y00000000000077"


@dataclass
class Env:
    client: AntomClient
    url: str
    http: httpx.AsyncClient

    async def scenario(self, name: str, calls: list[str], count: int = 1) -> None:
        response = await self.http.post(
            f"{self.url}/sandbox/api/scenario",
            json={"scenario": name, "calls": calls, "count": count},
        )
        assert response.status_code == 200, response.text

    async def bind(self, wallet: str = "ALIPAY_HK") -> str:
        """consult → approve in the wallet → applyToken; returns the access token."""
        auth_state = "st-" + secrets.token_hex(8)
        consult = await self.client.consult(
            ConsultRequest(
                customer_belongs_to=wallet,
                auth_redirect_url="https://shop.example.com/bound",
                auth_state=auth_state,
                terminal_type="WEB",
            )
        )
        assert consult.outcome is Outcome.SUCCESS, consult.result_code
        assert consult.verified
        approved = await self.http.post(
            f"{self.url}/sandbox/api/authorizations/{auth_state}/approve", json=None
        )
        assert approved.status_code == 200, approved.text
        token = await self.client.apply_token(
            ApplyTokenRequest.with_auth_code(wallet, approved.json()["authCode"])
        )
        assert token.outcome is Outcome.SUCCESS, token.result_code
        assert token.model.access_token
        return token.model.access_token

    async def pay(
        self, token: str, amount: str = "100.00", currency: str = "HKD", wallet: str = "ALIPAY_HK"
    ) -> tuple[str, object]:
        request_id = "pay-" + secrets.token_hex(8)
        money = Amount.from_decimal(Decimal(amount), currency)
        response = await self.client.pay(
            PayRequest(
                payment_request_id=request_id,
                order=Order(
                    order_amount=money, reference_order_id=request_id, order_description="Test"
                ),
                payment_amount=money,
                payment_method=PaymentMethod(payment_method_type=wallet, payment_method_id=token),
                settlement_strategy=SettlementStrategy(settlement_currency=currency),
            ),
            deadline=time.monotonic() + 5,
        )
        return request_id, response


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    merchant = cached_key("merchant")
    antom = cached_key("antom")
    config = SandboxConfig(
        antom_private_key=antom,
        merchants=[MerchantConfig(client_id=CLIENT_ID, public_key=merchant.public_key())],
        notify_schedule_factor=0.001,
        process_delay_seconds=0.3,
        customs_delay_seconds=0.3,
        hang_seconds=3.0,
    )
    http = make_http_client(timeout=10)
    async with serve_in_loop(create_sandbox_app(config)) as server:
        client = AntomClient(
            base_url=server.url,
            client_id=CLIENT_ID,
            private_key=merchant,
            antom_public_key=antom.public_key(),
            http=http,
            call_timeout=1.5,
        )
        async with httpx.AsyncClient(timeout=10) as plain:
            yield Env(client, server.url, plain)
    await http.aclose()


async def test_every_endpoint_round_trip(env: Env) -> None:
    token = await env.bind()
    request_id, paid = await env.pay(token)
    assert paid.outcome is Outcome.SUCCESS  # type: ignore[attr-defined]
    payment_id = paid.model.payment_id  # type: ignore[attr-defined]
    assert payment_id

    inquiry = await env.client.inquiry_payment(InquiryPaymentRequest(payment_request_id=request_id))
    assert inquiry.outcome is Outcome.SUCCESS
    assert inquiry.model.payment_status is PaymentStatus.SUCCESS

    refund = await env.client.refund(
        RefundRequest(
            refund_request_id=request_id + "-r1",
            payment_id=payment_id,
            refund_amount=Amount("HKD", 2500),
        )
    )
    assert refund.outcome is Outcome.SUCCESS
    refunded = await env.client.inquiry_refund(
        InquiryRefundRequest(refund_request_id=request_id + "-r1")
    )
    assert refunded.model.refund_status is RefundStatus.SUCCESS
    assert refunded.model.refund_amount == Amount("HKD", 2500)

    exceed = await env.client.refund(
        RefundRequest(
            refund_request_id=request_id + "-r2",
            payment_id=payment_id,
            refund_amount=Amount("HKD", 9000),
        )
    )
    assert (exceed.outcome, exceed.result_code) == (Outcome.FAILURE, "REFUND_AMOUNT_EXCEED")

    second_id, second = await env.pay(token, "10.00")
    assert second.outcome is Outcome.SUCCESS  # type: ignore[attr-defined]
    cancel = await env.client.cancel(CancelRequest(payment_request_id=second_id))
    assert cancel.outcome is Outcome.SUCCESS
    after = await env.client.inquiry_payment(InquiryPaymentRequest(payment_request_id=second_id))
    assert after.model.payment_status is PaymentStatus.CANCELLED

    revoke = await env.client.revoke(RevokeRequest(access_token=token))
    assert revoke.outcome is Outcome.SUCCESS
    _, dead = await env.pay(token)
    assert dead.result_code == "INVALID_ACCESS_TOKEN"  # type: ignore[attr-defined]


async def test_refresh_token_grant_rotates_the_tokens(env: Env) -> None:
    auth_state = "st-" + secrets.token_hex(8)
    await env.client.consult(
        ConsultRequest(
            customer_belongs_to="DANA",
            auth_redirect_url="https://shop.example.com/bound",
            auth_state=auth_state,
            terminal_type="WEB",
        )
    )
    approved = await env.http.post(f"{env.url}/sandbox/api/authorizations/{auth_state}/approve")
    code = approved.json()["authCode"]
    first = await env.client.apply_token(ApplyTokenRequest.with_auth_code("DANA", code))
    assert first.outcome is Outcome.SUCCESS
    again = await env.client.apply_token(ApplyTokenRequest.with_auth_code("DANA", code))
    assert (again.outcome, again.result_code) == (Outcome.FAILURE, "INVALID_AUTHCODE")
    assert first.model.refresh_token
    refreshed = await env.client.apply_token(
        ApplyTokenRequest.with_refresh_token("DANA", first.model.refresh_token)
    )
    assert refreshed.outcome is Outcome.SUCCESS
    assert refreshed.model.access_token != first.model.access_token
    _, old = await env.pay(first.model.access_token or "", "30000.00", "IDR", "DANA")
    assert old.result_code == "INVALID_ACCESS_TOKEN"  # type: ignore[attr-defined]


async def test_declarations(env: Env) -> None:
    token = await env.bind("ALIPAY_CN")
    _, paid = await env.pay(token, "80.00", "CNY", "ALIPAY_CN")
    assert paid.outcome is Outcome.SUCCESS  # type: ignore[attr-defined]
    declaration_id = "dcl" + secrets.token_hex(6)
    declared = await env.client.declare(
        DeclareRequest(
            declaration_request_id=declaration_id,
            payment_id=paid.model.payment_id,  # type: ignore[attr-defined]
            declaration_amount=Amount("CNY", 8000),
            customs=Customs(customs_code="ZHENGZHOU", region="CN"),
            merchant_customs_info=MerchantCustomsInfo(
                merchant_customs_code="MC001", merchant_customs_name="Shop Ltd"
            ),
            split_order=False,
        )
    )
    assert declared.outcome is Outcome.SUCCESS, declared.result_code
    inquiry = await env.client.inquiry_declaration_requests(
        InquiryDeclarationRequestsRequest(declaration_request_ids=[declaration_id, "nope"])
    )
    assert inquiry.outcome is Outcome.SUCCESS
    assert [r.declaration_request_id for r in inquiry.model.declaration_records or []] == [
        declaration_id
    ]
    assert inquiry.model.declaration_requests_not_found == ["nope"]


@pytest.mark.parametrize(
    ("scenario", "outcome", "code"),
    [
        ("USER_BALANCE_NOT_ENOUGH", Outcome.FAILURE, "USER_BALANCE_NOT_ENOUGH"),
        ("INVALID_ACCESS_TOKEN", Outcome.FAILURE, "INVALID_ACCESS_TOKEN"),
        ("PAYMENT_IN_PROCESS_THEN_SUCCESS", Outcome.UNKNOWN_INQUIRE, "PAYMENT_IN_PROCESS"),
        ("PAYMENT_IN_PROCESS_THEN_FAIL", Outcome.UNKNOWN_INQUIRE, "PAYMENT_IN_PROCESS"),
        ("UNKNOWN_EXCEPTION", Outcome.UNKNOWN_INQUIRE, "UNKNOWN_EXCEPTION"),
    ],
)
async def test_pay_scenarios_are_classified(
    env: Env, scenario: str, outcome: Outcome, code: str
) -> None:
    token = await env.bind()
    await env.scenario(scenario, ["pay"])
    request_id, response = await env.pay(token)
    assert (response.outcome, response.result_code) == (outcome, code)  # type: ignore[attr-defined]
    if outcome is Outcome.UNKNOWN_INQUIRE:
        expected = {
            "PAYMENT_IN_PROCESS_THEN_SUCCESS": PaymentStatus.SUCCESS,
            "PAYMENT_IN_PROCESS_THEN_FAIL": PaymentStatus.FAIL,
            "UNKNOWN_EXCEPTION": PaymentStatus.SUCCESS,
        }[scenario]
        deadline = time.monotonic() + 5
        while True:
            inquiry = await env.client.inquiry_payment(
                InquiryPaymentRequest(payment_request_id=request_id)
            )
            if inquiry.model.payment_status is expected or time.monotonic() > deadline:
                break
        assert inquiry.model.payment_status is expected


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("HANG", UnavailableReason.TIMEOUT),
        ("HTTP_500", UnavailableReason.HTTP_STATUS),
    ],
)
async def test_no_answer_is_unknown_never_a_result(
    env: Env, scenario: str, reason: UnavailableReason
) -> None:
    token = await env.bind()
    await env.scenario(scenario, ["pay"])
    with pytest.raises(AntomUnavailable) as excinfo:
        await env.pay(token)
    assert excinfo.value.reason is reason
    assert excinfo.value.outcome is Outcome.UNKNOWN_INQUIRE


async def test_unsigned_error_is_accepted_only_as_f(env: Env) -> None:
    token = await env.bind()
    await env.scenario("UNSIGNED_ERROR", ["pay"])
    request_id, response = await env.pay(token)
    assert not response.verified  # type: ignore[attr-defined]
    assert response.result_status == "F"  # type: ignore[attr-defined]
    # Nothing was done: the payment does not exist at Antom.
    inquiry = await env.client.inquiry_payment(InquiryPaymentRequest(payment_request_id=request_id))
    assert inquiry.result_code == "ORDER_NOT_EXIST"


@pytest.mark.parametrize(
    ("scenario", "outcome", "code"),
    [
        ("REFUND_IN_PROCESS", Outcome.UNKNOWN_INQUIRE, "REFUND_IN_PROCESS"),
        ("MERCHANT_BALANCE_NOT_ENOUGH", Outcome.RETRY_NEW_REQUEST, "MERCHANT_BALANCE_NOT_ENOUGH"),
    ],
)
async def test_refund_scenarios(env: Env, scenario: str, outcome: Outcome, code: str) -> None:
    token = await env.bind()
    request_id, paid = await env.pay(token)
    await env.scenario(scenario, ["refund"])
    refund = await env.client.refund(
        RefundRequest(
            refund_request_id=request_id + "-r",
            payment_id=paid.model.payment_id,  # type: ignore[attr-defined]
            refund_amount=Amount("HKD", 1000),
        )
    )
    assert (refund.outcome, refund.result_code) == (outcome, code)


async def test_a_request_signed_with_the_wrong_key_is_refused(env: Env) -> None:
    stranger = AntomClient(
        base_url=env.url,
        client_id=CLIENT_ID,
        private_key=generate_private_key(),
        antom_public_key=cached_key("antom").public_key(),
        http=env.client._http,
    )
    response = await stranger.inquiry_payment(InquiryPaymentRequest(payment_request_id="x"))
    assert (response.outcome, response.result_code) == (Outcome.FAILURE, "INVALID_SIGNATURE")
    assert not response.verified


async def test_answers_signed_by_another_antom_key_are_refused(env: Env) -> None:
    wrong_antom = AntomClient(
        base_url=env.url,
        client_id=CLIENT_ID,
        private_key=cached_key("merchant"),
        antom_public_key=generate_private_key().public_key(),
        http=env.client._http,
    )
    with pytest.raises(AntomUnavailable) as excinfo:
        await wrong_antom.inquiry_payment(InquiryPaymentRequest(payment_request_id="x"))
    assert excinfo.value.reason is UnavailableReason.SIGNATURE_REFUSED
