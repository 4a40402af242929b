from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pydantic
import pytest

from saleor_alipay_app.antom.models import (
    ApplyTokenRequest,
    ApplyTokenResponse,
    ConsultRequest,
    ConsultResponse,
    Customs,
    DeclareRequest,
    Env,
    GrantType,
    InquiryDeclarationRequestsRequest,
    InquiryDeclarationRequestsResponse,
    InquiryPaymentRequest,
    InquiryRefundRequest,
    Merchant,
    MerchantCustomsInfo,
    Order,
    PaymentMethod,
    PayRequest,
    PayResponse,
    SettlementQuote,
    SettlementStrategy,
)
from saleor_alipay_app.antom.money import Amount

HKD = Amount("HKD", 4200)


def _pay(**overrides: object) -> PayRequest:
    fields: dict[str, object] = {
        "payment_request_id": "p1",
        "order": Order(order_amount=HKD, reference_order_id="o1", order_description="Tea"),
        "payment_amount": HKD,
        "payment_method": PaymentMethod(payment_method_type="ALIPAY_HK", payment_method_id="tok"),
        "settlement_strategy": SettlementStrategy(settlement_currency="HKD"),
    }
    fields.update(overrides)
    return PayRequest(**fields)


def test_pay_request_wire_shape() -> None:
    request = _pay(
        payment_expiry_time=datetime(
            2024, 3, 15, 10, 0, 30, 123456, tzinfo=timezone(timedelta(hours=8))
        ),
        env=Env(terminal_type="WEB", client_ip="1.2.3.4"),
    )
    wire = request.to_wire()
    assert wire == {
        "productCode": "AGREEMENT_PAYMENT",
        "paymentRequestId": "p1",
        "order": {
            "orderAmount": {"currency": "HKD", "value": "4200"},
            "referenceOrderId": "o1",
            "orderDescription": "Tea",
        },
        "paymentAmount": {"currency": "HKD", "value": "4200"},
        "paymentMethod": {"paymentMethodType": "ALIPAY_HK", "paymentMethodId": "tok"},
        "settlementStrategy": {"settlementCurrency": "HKD"},
        "paymentExpiryTime": "2024-03-15T10:00:30+08:00",
        "env": {"terminalType": "WEB", "clientIp": "1.2.3.4"},
    }
    # camelCase and snake_case both accepted on input
    assert PayRequest.model_validate(wire).to_wire() == wire
    assert _pay().model_validate(_pay().model_dump()) == _pay()
    assert "tok" not in repr(request.payment_method)


def test_merchant_mcc_alias_is_antoms_spelling() -> None:
    assert Merchant(reference_merchant_id="m", merchant_mcc="5812").to_wire() == {
        "referenceMerchantId": "m",
        "merchantMCC": "5812",
    }


def test_request_limits_are_enforced_before_sending() -> None:
    with pytest.raises(pydantic.ValidationError):
        _pay(payment_request_id="x" * 65)
    with pytest.raises(pydantic.ValidationError):
        Order(order_amount=HKD, reference_order_id="o", order_description="d" * 257)
    with pytest.raises(pydantic.ValidationError):
        ConsultRequest(
            customer_belongs_to="DANA",
            auth_redirect_url="u",
            auth_state="",
            scopes=["AGREEMENT_PAY"],
        )
    with pytest.raises(pydantic.ValidationError):
        InquiryDeclarationRequestsRequest(declaration_request_ids=[str(i) for i in range(11)])
    with pytest.raises(pydantic.ValidationError):
        _pay(payment_expiry_time=datetime(2024, 1, 1))  # naive datetime


def test_consult_defaults_to_agreement_pay_scope() -> None:
    wire = ConsultRequest(
        customer_belongs_to="DANA", auth_redirect_url="https://r", auth_state="s"
    ).to_wire()
    assert wire == {
        "customerBelongsTo": "DANA",
        "authRedirectUrl": "https://r",
        "scopes": ["AGREEMENT_PAY"],
        "authState": "s",
    }


def test_apply_token_grant_types() -> None:
    by_code = ApplyTokenRequest.with_auth_code("ALIPAY_HK", "c1")
    assert by_code.to_wire() == {
        "grantType": "AUTHORIZATION_CODE",
        "customerBelongsTo": "ALIPAY_HK",
        "authCode": "c1",
    }
    by_refresh = ApplyTokenRequest.with_refresh_token("DANA", "r1")
    assert by_refresh.to_wire()["grantType"] == "REFRESH_TOKEN"
    assert "r1" not in repr(by_refresh)
    with pytest.raises(pydantic.ValidationError, match="needs authCode"):
        ApplyTokenRequest(grant_type=GrantType.AUTHORIZATION_CODE, customer_belongs_to="DANA")
    with pytest.raises(pydantic.ValidationError, match="needs refreshToken"):
        ApplyTokenRequest(
            grant_type=GrantType.REFRESH_TOKEN, customer_belongs_to="DANA", auth_code="c"
        )


def test_inquiries_need_an_id() -> None:
    with pytest.raises(pydantic.ValidationError, match="paymentRequestId or paymentId"):
        InquiryPaymentRequest()
    with pytest.raises(pydantic.ValidationError, match="refundRequestId or refundId"):
        InquiryRefundRequest()
    assert InquiryPaymentRequest(payment_id="x").to_wire() == {"paymentId": "x"}


def test_declare_bool_as_string_and_suborder_rule() -> None:
    base: dict[str, object] = {
        "declaration_request_id": "d1",
        "payment_id": "p1",
        "declaration_amount": Amount("CNY", 100),
        "customs": Customs(customs_code="ZONGSHU"),
        "merchant_customs_info": MerchantCustomsInfo(
            merchant_customs_code="c", merchant_customs_name="n"
        ),
    }
    wire = DeclareRequest(split_order=True, suborder_id="s1", **base).to_wire()
    assert wire["splitOrder"] == "true"
    assert wire["customs"] == {"customsCode": "ZONGSHU", "region": "CN"}
    with pytest.raises(pydantic.ValidationError, match="suborderId"):
        DeclareRequest(split_order=True, **base)
    with pytest.raises(pydantic.ValidationError):
        DeclareRequest(
            split_order=True,
            suborder_id="s",
            declaration_request_id="x" * 33,
            **{k: v for k, v in base.items() if k != "declaration_request_id"},
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-15T10:00:01+08:00", datetime(2024, 3, 15, 2, 0, 1, tzinfo=UTC)),
        ("2024-03-15T02:00:01Z", datetime(2024, 3, 15, 2, 0, 1, tzinfo=UTC)),
        ("2024-03-15T10:00:01+0800", datetime(2024, 3, 15, 2, 0, 1, tzinfo=UTC)),
        ("1710468001000", datetime(2024, 3, 15, 2, 0, 1, tzinfo=UTC)),
    ],
)
def test_response_times_parse(text: str, expected: datetime) -> None:
    response = PayResponse.model_validate(
        {"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "paymentTime": text}
    )
    assert response.payment_time == expected


@pytest.mark.parametrize("text", ["2024-03-15T10:00:01", "yesterday", "2024-13-01T00:00:00+00:00"])
def test_bad_or_naive_times_are_refused(text: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        PayResponse.model_validate(
            {"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "paymentTime": text}
        )


def test_responses_are_lenient_about_unknown_fields_and_typed_about_amounts() -> None:
    response = ApplyTokenResponse.model_validate(
        {
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "accessToken": "at-secret-42",
            "accessTokenExpiryTime": "2037-12-31T23:59:59+08:00",
            "extendInfo": {"any": ["json"]},
            "brandNewField": True,
        }
    )
    assert response.access_token == "at-secret-42"
    assert "at-secret-42" not in repr(response)
    with pytest.raises(pydantic.ValidationError):
        PayResponse.model_validate(
            {
                "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
                "paymentAmount": {"currency": "HKD", "value": "12.50"},
            }
        )


def test_consult_response_qr_code() -> None:
    response = ConsultResponse.model_validate(
        {
            "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
            "authCodeForm": {
                "codeDetails": [
                    {
                        "codeValueType": "QRCODE",
                        "displayType": "TEXT",
                        "codeValue": "https://render.alipay.com/p/x",
                    },
                    {"displayType": "BIGIMAGE", "codeValue": "https://img"},
                ]
            },
        }
    )
    assert response.auth_code_form is not None
    assert [d.display_type for d in response.auth_code_form.code_details] == ["TEXT", "BIGIMAGE"]


def test_settlement_quote_and_declaration_records() -> None:
    quote = SettlementQuote.model_validate({"quotePrice": Decimal("7.8"), "guaranteed": "true"})
    assert quote.quote_price == "7.8"
    assert quote.guaranteed is True
    records = InquiryDeclarationRequestsResponse.model_validate(
        {
            "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
            "declarationRecords": [
                {
                    "declarationRequestId": "d1",
                    "splitOrder": "false",
                    "customsDeclarationResultCode": 120,
                }
            ],
        }
    )
    assert records.declaration_records is not None
    assert records.declaration_records[0].split_order is False
    assert records.declaration_records[0].customs_declaration_result_code == "120"


def test_json_schema_generation_works() -> None:
    schema = PayRequest.model_json_schema(by_alias=True)
    assert "paymentRequestId" in schema["properties"]
