"""AntomClient against a signed fake gateway over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom import client as client_module
from saleor_alipay_app.antom.client import (
    AntomClient,
    AntomResponse,
    AntomUnavailable,
    UnavailableReason,
    api_base,
    encode_body,
    make_http_client,
)
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
    RevokeRequest,
    SettlementStrategy,
)
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.results import Call, Outcome
from tests.support.servers import RunningServer, free_port, serve_in_loop

from .fake_antom import FakeAntom, Scripted

CLIENT_ID = "5Y00000000000000"
OK = {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}


def pay_request(description: str = "Bubble tea x2") -> PayRequest:
    amount = Amount("HKD", 4200)
    return PayRequest(
        payment_request_id="ord-1001-p1",
        order=Order(
            order_amount=amount, reference_order_id="ord-1001", order_description=description
        ),
        payment_amount=amount,
        payment_method=PaymentMethod(
            payment_method_type="ALIPAY_HK", payment_method_id="tok-secret-1"
        ),
        settlement_strategy=SettlementStrategy(settlement_currency="HKD"),
    )


PAY_SUCCESS = {
    "result": OK,
    "paymentRequestId": "ord-1001-p1",
    "paymentId": "2024031512345",
    "paymentAmount": {"currency": "HKD", "value": "4200"},
    "paymentCreateTime": "2024-03-15T10:00:00+08:00",
    "paymentTime": "2024-03-15T10:00:01+08:00",
}


@pytest.fixture
async def fake(merchant_key: rsa.RSAPrivateKey, antom_key: rsa.RSAPrivateKey) -> FakeAntom:
    return FakeAntom(merchant_public_key=merchant_key.public_key(), antom_key=antom_key)


@pytest.fixture
async def server(fake: FakeAntom) -> AsyncIterator[RunningServer]:
    async with serve_in_loop(fake.app) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = make_http_client()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def make_client(
    server: RunningServer,
    http: httpx.AsyncClient,
    merchant_key: rsa.RSAPrivateKey,
    antom_key: rsa.RSAPrivateKey,
) -> Callable[..., AntomClient]:
    def make(**overrides: Any) -> AntomClient:
        options: dict[str, Any] = {
            "base_url": server.url,
            "client_id": CLIENT_ID,
            "private_key": merchant_key,
            "antom_public_key": antom_key.public_key(),
            "http": http,
            "call_timeout": 5.0,
        }
        options.update(overrides)
        return AntomClient(**options)

    return make


async def test_pay_success_signed_round_trip(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/pay", Scripted(body=PAY_SUCCESS))
    request = pay_request("珍珠奶茶 ×2")
    response = await make_client().pay(request)

    assert response.outcome is Outcome.SUCCESS
    assert response.verified is True
    assert response.model.payment_id == "2024031512345"
    assert response.model.payment_amount == Amount("HKD", 4200)
    assert response.request_id == "ord-1001-p1"
    assert response.path == "/ams/api/v1/payments/pay"
    assert response.result_status == "S"
    assert response.result_code == "SUCCESS"
    assert json.loads(response.raw_body)["paymentId"] == "2024031512345"

    [received] = fake.received
    assert received.signature_ok, received.signature_error
    assert received.path == "/ams/api/v1/payments/pay"
    assert received.headers["client-id"] == CLIENT_ID
    assert received.headers["content-type"] == "application/json; charset=UTF-8"
    assert received.headers["signature"].startswith("algorithm=RSA256,keyVersion=1,signature=")
    assert received.headers["request-time"] == response.request_time
    # compact JSON, serialised once, ASCII-escaped, and it is exactly what was signed
    assert received.body == encode_body(request)
    assert b'": ' not in received.body
    assert b', "' not in received.body
    assert received.body.isascii()
    assert json.loads(received.body)["order"]["orderDescription"] == "珍珠奶茶 ×2"
    assert json.loads(received.body)["paymentMethod"]["paymentMethodId"] == "tok-secret-1"
    # the token stays out of reprs
    assert "tok-secret-1" not in repr(request)
    assert "tok-secret-1" not in repr(response)


async def test_sandbox_path_by_flag_and_by_client_id(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/pay", Scripted(body=PAY_SUCCESS))
    by_flag = await make_client(sandbox=True).pay(pay_request())
    by_prefix = await make_client(client_id="SANDBOX_5Y0000000000").pay(pay_request())
    assert by_flag.path == by_prefix.path == "/ams/sandbox/api/v1/payments/pay"
    assert [r.path for r in fake.received] == ["/ams/sandbox/api/v1/payments/pay"] * 2
    assert all(r.signature_ok for r in fake.received)


async def test_base_url_path_prefix_is_part_of_the_signed_path(
    fake: FakeAntom, make_client: Callable[..., AntomClient], server: RunningServer
) -> None:
    response = await make_client(base_url=server.url + "/antom-sim/").inquiry_payment(
        InquiryPaymentRequest(payment_request_id="p1")
    )
    assert response.path == "/antom-sim/ams/api/v1/payments/inquiryPayment"
    assert fake.received[0].signature_ok


async def test_unsigned_f_is_accepted_as_failure(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script(
        "/payments/pay",
        Scripted(
            body={"result": {"resultCode": "USER_BALANCE_NOT_ENOUGH", "resultStatus": "F"}},
            signed=False,
        ),
    )
    response = await make_client().pay(pay_request())
    assert response.outcome is Outcome.FAILURE
    assert response.verified is False
    assert response.result_code == "USER_BALANCE_NOT_ENOUGH"


async def test_unsigned_u_is_accepted_as_unknown(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script(
        "/payments/pay",
        Scripted(
            body={"result": {"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U"}}, signed=False
        ),
    )
    response = await make_client().pay(pay_request())
    assert response.outcome is Outcome.UNKNOWN_INQUIRE
    assert response.verified is False


async def test_our_bad_signature_gets_an_unsigned_invalid_signature_failure(
    fake: FakeAntom, make_client: Callable[..., AntomClient], antom_key: rsa.RSAPrivateKey
) -> None:
    # signing with the wrong private key: the fake refuses with Antom's unsigned F answer
    response = await make_client(private_key=antom_key).pay(pay_request())
    assert response.outcome is Outcome.FAILURE
    assert response.result_code == "INVALID_SIGNATURE"
    assert not fake.received[0].signature_ok


async def _expect_unavailable(
    call: Awaitable[AntomResponse[Any]], reason: UnavailableReason, outcome: Outcome
) -> AntomUnavailable:
    with pytest.raises(AntomUnavailable) as info:
        await call
    assert info.value.reason is reason, info.value
    assert info.value.outcome is outcome
    assert info.value.outcome not in (Outcome.SUCCESS, Outcome.FAILURE)
    return info.value


async def test_unsigned_s_is_refused(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/pay", Scripted(body=PAY_SUCCESS, signed=False))
    fake.script("/authorizations/consult", Scripted(signed=False))
    client = make_client()
    error = await _expect_unavailable(
        client.pay(pay_request()), UnavailableReason.SIGNATURE_REFUSED, Outcome.UNKNOWN_INQUIRE
    )
    assert error.sent is True
    assert "unsigned" in error.detail
    await _expect_unavailable(
        client.consult(
            ConsultRequest(
                customer_belongs_to="ALIPAY_HK", auth_redirect_url="https://x", auth_state="s1"
            )
        ),
        UnavailableReason.SIGNATURE_REFUSED,
        Outcome.RETRY_SAME_REQUEST,
    )


def _turn_amount(raw: bytes) -> bytes:
    return raw.replace(b'"value":"4200"', b'"value":"42"')


@pytest.mark.parametrize(
    "scripted",
    [
        Scripted(body=PAY_SUCCESS, tamper=_turn_amount),
        Scripted(body=PAY_SUCCESS, send_response_time=False),
        Scripted(body=PAY_SUCCESS, send_signature=False),
        Scripted(
            body={"result": {"resultCode": "X", "resultStatus": "F"}}, send_response_time=False
        ),
    ],
    ids=[
        "tampered-body",
        "signature-without-response-time",
        "response-time-without-signature",
        "f-half-signed",
    ],
)
async def test_bad_or_incomplete_response_signatures_are_refused(
    fake: FakeAntom, make_client: Callable[..., AntomClient], scripted: Scripted
) -> None:
    fake.script("/payments/pay", scripted)
    await _expect_unavailable(
        make_client().pay(pay_request()),
        UnavailableReason.SIGNATURE_REFUSED,
        Outcome.UNKNOWN_INQUIRE,
    )


async def test_response_signed_by_another_key_is_refused(
    fake: FakeAntom, make_client: Callable[..., AntomClient], merchant_key: rsa.RSAPrivateKey
) -> None:
    fake.script("/payments/refund", Scripted(signing_key=merchant_key))
    error = await _expect_unavailable(
        make_client().refund(
            RefundRequest(refund_request_id="r1", payment_id="p1", refund_amount=Amount("HKD", 100))
        ),
        UnavailableReason.SIGNATURE_REFUSED,
        Outcome.UNKNOWN_INQUIRE,
    )
    assert "mismatch" in error.detail
    assert error.request_id == "r1"


async def test_lower_case_escapes_in_response_signature_verify(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/pay", Scripted(body=PAY_SUCCESS, lower_case_escapes=True))
    response = await make_client().pay(pay_request())
    assert response.verified
    assert response.outcome is Outcome.SUCCESS


async def test_timeout_is_unknown(fake: FakeAntom, make_client: Callable[..., AntomClient]) -> None:
    hold = asyncio.Event()
    fake.script("/payments/pay", Scripted(body=PAY_SUCCESS, hold=hold))
    started = time.monotonic()
    try:
        error = await _expect_unavailable(
            make_client(call_timeout=0.3).pay(pay_request()),
            UnavailableReason.TIMEOUT,
            Outcome.UNKNOWN_INQUIRE,
        )
    finally:
        hold.set()
    assert 0.25 < time.monotonic() - started < 2.0
    assert error.sent is True
    assert len(fake.received) == 1


async def test_deadline_already_spent_sends_nothing(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    error = await _expect_unavailable(
        make_client().pay(pay_request(), deadline=time.monotonic() - 0.001),
        UnavailableReason.DEADLINE_EXCEEDED,
        Outcome.UNKNOWN_INQUIRE,
    )
    assert error.sent is False
    assert fake.received == []


async def test_deadline_shorter_than_call_timeout_is_honoured(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    hold = asyncio.Event()
    fake.script("/payments/inquiryRefund", Scripted(hold=hold))
    started = time.monotonic()
    try:
        await _expect_unavailable(
            make_client(call_timeout=10.0).inquiry_refund(
                InquiryRefundRequest(refund_request_id="r1"), deadline=started + 0.4
            ),
            UnavailableReason.TIMEOUT,
            Outcome.RETRY_SAME_REQUEST,
        )
    finally:
        hold.set()
    assert 0.3 < time.monotonic() - started < 2.0


async def test_a_generous_deadline_does_not_cut_a_normal_call(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/pay", Scripted(body=PAY_SUCCESS))
    response = await make_client().pay(pay_request(), deadline=time.monotonic() + 30)
    assert response.outcome is Outcome.SUCCESS


@pytest.mark.parametrize("status", [500, 502, 404, 429])
async def test_non_200_is_unknown(
    fake: FakeAntom, make_client: Callable[..., AntomClient], status: int
) -> None:
    fake.script("/payments/pay", Scripted(body=PAY_SUCCESS, status=status))
    error = await _expect_unavailable(
        make_client().pay(pay_request()), UnavailableReason.HTTP_STATUS, Outcome.UNKNOWN_INQUIRE
    )
    assert error.status_code == status
    assert error.raw_body is not None


async def test_signed_non_json_is_unknown(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/cancel", Scripted(body=b"<html>gateway</html>"))
    await _expect_unavailable(
        make_client().cancel(CancelRequest(payment_request_id="p1")),
        UnavailableReason.NOT_JSON,
        Outcome.UNKNOWN_INQUIRE,
    )


async def test_unsigned_non_json_is_refused(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/pay", Scripted(body=b"Bad Gateway", signed=False))
    await _expect_unavailable(
        make_client().pay(pay_request()),
        UnavailableReason.SIGNATURE_REFUSED,
        Outcome.UNKNOWN_INQUIRE,
    )


async def test_signed_json_without_result_is_a_bad_response(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script("/payments/pay", Scripted(body={"paymentId": "x"}))
    error = await _expect_unavailable(
        make_client().pay(pay_request()), UnavailableReason.BAD_RESPONSE, Outcome.UNKNOWN_INQUIRE
    )
    assert "result" in error.detail


async def test_connection_refused_is_unknown(
    http: httpx.AsyncClient, merchant_key: rsa.RSAPrivateKey, antom_key: rsa.RSAPrivateKey
) -> None:
    client = AntomClient(
        base_url=f"http://127.0.0.1:{free_port()}",
        client_id=CLIENT_ID,
        private_key=merchant_key,
        antom_public_key=antom_key.public_key(),
        http=http,
        call_timeout=2.0,
    )
    error = await _expect_unavailable(
        client.pay(pay_request()), UnavailableReason.CONNECTION_ERROR, Outcome.UNKNOWN_INQUIRE
    )
    assert "tok-secret" not in str(error)
    assert error.sent is False  # refused at connect: the request never left


def _declare() -> DeclareRequest:
    return DeclareRequest(
        declaration_request_id="d1",
        payment_id="p1",
        declaration_amount=Amount("CNY", 10000),
        customs=Customs(customs_code="ZONGSHU"),
        merchant_customs_info=MerchantCustomsInfo(
            merchant_customs_code="c", merchant_customs_name="n"
        ),
        split_order=False,
    )


CALLS: list[
    tuple[str, Callable[[AntomClient], Awaitable[AntomResponse[Any]]], str, dict[str, Any]]
] = [
    (
        "consult",
        lambda c: c.consult(
            ConsultRequest(
                customer_belongs_to="ALIPAY_HK",
                auth_redirect_url="https://shop.example/return",
                auth_state="state-1",
                terminal_type="WEB",
            )
        ),
        "/v1/authorizations/consult",
        {
            "authCodeForm": {
                "codeDetails": [
                    {"codeValueType": "QRCODE", "displayType": "TEXT", "codeValue": "https://qr"}
                ]
            },
            "normalUrl": "https://auth",
        },
    ),
    (
        "apply_token",
        lambda c: c.apply_token(ApplyTokenRequest.with_auth_code("ALIPAY_HK", "code-1")),
        "/v1/authorizations/applyToken",
        {
            "accessToken": "at-1",
            "accessTokenExpiryTime": "2037-12-31T23:59:59+08:00",
            "refreshToken": "rt-1",
            "refreshTokenExpiryTime": "2037-12-31T23:59:59+08:00",
            "userLoginId": "852****1234",
        },
    ),
    (
        "refresh_token",
        lambda c: c.apply_token(ApplyTokenRequest.with_refresh_token("DANA", "rt-0")),
        "/v1/authorizations/applyToken",
        {"accessToken": "at-2"},
    ),
    (
        "revoke",
        lambda c: c.revoke(RevokeRequest(access_token="at-1")),
        "/v1/authorizations/revoke",
        {},
    ),
    ("pay", lambda c: c.pay(pay_request()), "/v1/payments/pay", PAY_SUCCESS),
    (
        "inquiry_payment",
        lambda c: c.inquiry_payment(InquiryPaymentRequest(payment_request_id="ord-1001-p1")),
        "/v1/payments/inquiryPayment",
        {
            "paymentStatus": "SUCCESS",
            "paymentAmount": {"currency": "HKD", "value": "4200"},
            "transactions": [
                {
                    "transactionType": "REFUND",
                    "transactionStatus": "SUCCESS",
                    "transactionAmount": {"currency": "HKD", "value": "100"},
                    "transactionResult": OK,
                }
            ],
        },
    ),
    (
        "cancel",
        lambda c: c.cancel(CancelRequest(payment_id="p1")),
        "/v1/payments/cancel",
        {"cancelTime": "2024-03-15T10:00:00+08:00"},
    ),
    (
        "refund",
        lambda c: c.refund(
            RefundRequest(refund_request_id="r1", payment_id="p1", refund_amount=Amount("HKD", 100))
        ),
        "/v1/payments/refund",
        {"refundId": "rf1", "refundAmount": {"currency": "HKD", "value": "100"}},
    ),
    (
        "inquiry_refund",
        lambda c: c.inquiry_refund(InquiryRefundRequest(refund_id="rf1")),
        "/v1/payments/inquiryRefund",
        {"refundStatus": "PROCESSING"},
    ),
    (
        "declare",
        lambda c: c.declare(_declare()),
        "/v1/customs/declare",
        {"identityCheckResult": "CHECK_PASSED"},
    ),
    (
        "inquiry_declaration_requests",
        lambda c: c.inquiry_declaration_requests(
            InquiryDeclarationRequestsRequest(declaration_request_ids=["d1", "d2"])
        ),
        "/v1/customs/inquiryDeclarationRequests",
        {
            "declarationRequestsNotFound": ["d2"],
            "declarationRecords": [
                {
                    "declarationRequestId": "d1",
                    "splitOrder": "false",
                    "declarationAmount": {"currency": "CNY", "value": "10000"},
                }
            ],
        },
    ),
]


@pytest.mark.parametrize(("name", "invoke", "endpoint", "extra"), CALLS, ids=[c[0] for c in CALLS])
async def test_every_call_hits_its_endpoint_and_parses(
    fake: FakeAntom,
    make_client: Callable[..., AntomClient],
    name: str,
    invoke: Callable[[AntomClient], Awaitable[AntomResponse[Any]]],
    endpoint: str,
    extra: dict[str, Any],
) -> None:
    fake.script(endpoint, Scripted(body={"result": OK, **extra}))
    response = await invoke(make_client())
    assert response.outcome is Outcome.SUCCESS
    assert response.path == "/ams/api" + endpoint
    assert client_module.ENDPOINTS[response.call] == endpoint
    [received] = fake.received
    assert received.path == "/ams/api" + endpoint
    assert received.signature_ok
    dumped = response.model.model_dump(by_alias=True, mode="json", exclude_none=True)
    for key in extra:
        assert key in dumped, (name, key)


async def test_inquiry_payment_fields_are_typed(
    fake: FakeAntom, make_client: Callable[..., AntomClient]
) -> None:
    fake.script(
        "/payments/inquiryPayment",
        Scripted(
            body={
                "result": OK,
                "paymentStatus": "FAIL",
                "paymentResultCode": "USER_BALANCE_NOT_ENOUGH",
                "paymentAmount": {"currency": "IDR", "value": "3000000"},
                "newFieldAntomAddedLater": {"x": 1.5},
            }
        ),
    )
    response = await make_client().inquiry_payment(InquiryPaymentRequest(payment_request_id="x"))
    assert response.call is Call.INQUIRY_PAYMENT
    assert response.model.payment_status is PaymentStatus.FAIL
    assert response.model.payment_amount is not None
    assert response.model.payment_amount.to_decimal() == Decimal("30000.00")


def test_api_base_and_regions() -> None:
    assert api_base("asia", sandbox=False) == "https://open-sea-global.alipay.com/ams/api"
    assert api_base("europe", sandbox=True) == "https://open-de-global.alipay.com/ams/sandbox/api"
    assert (
        api_base("https://open-na.alipay.com/", sandbox=False)
        == "https://open-na.alipay.com/ams/api"
    )
    assert set(client_module.REGION_DOMAINS) == {"asia", "north_america", "europe", "us"}
    assert client_module.REGION_DOMAINS["us"] == "https://open.antglobal-us.com"


@pytest.mark.parametrize(
    "base_url",
    [
        "open-sea-global.alipay.com",
        "https://open-sea-global.alipay.com/ams/api",
        "https://h/ams/sandbox/api/",
        "https://h?x=1",
    ],
)
def test_bad_base_urls_are_refused(
    base_url: str, merchant_key: rsa.RSAPrivateKey, antom_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(ValueError, match="base_url"):
        AntomClient(
            base_url=base_url,
            client_id=CLIENT_ID,
            private_key=merchant_key,
            antom_public_key=antom_key.public_key(),
            http=httpx.AsyncClient(),
        )


async def test_make_http_client_uses_the_aiohttp_transport() -> None:
    from httpx_aiohttp import AiohttpTransport

    http = make_http_client(max_connections=7)
    try:
        transport = http._transport
        assert isinstance(transport, AiohttpTransport)
        assert transport.limits.max_connections == 7
    finally:
        await http.aclose()
